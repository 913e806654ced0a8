// Byte buffers and views, big-endian integers, and a bounds-checked reader.
//
// Bytes is an owning growable buffer; ByteView a non-owning view. Writer appends big-endian
// integers (Kafka's wire order) and varints; Reader consumes them and never reads past its end:
// a short or malformed input makes it fail (ok() turns false), it never asserts, so it is safe on
// untrusted bytes from the network or a damaged disk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace gregor {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

// An allocator whose value-less construct() leaves a trivial type uninitialised, so that
// resize() of a vector using it does not zero-fill the growth.
template <typename T>
struct DefaultInitAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  using std::allocator<T>::allocator;
  template <typename U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

// The buffer disk reads fill. Sizing it does not zero it: a read overwrites every byte it
// returns (the file's bytes, or shrinks the buffer to what it got), and zero-filling first was
// a whole extra pass over every byte the log serves (gregor bench log: read_ratio). Never read
// a ReadBuffer's bytes that nothing wrote.
using ReadBuffer = std::vector<uint8_t, DefaultInitAllocator<uint8_t>>;

inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_chars(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline Bytes to_bytes(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

// Lower-case hex, for traces and test failure messages.
std::string to_hex(ByteView b);

// Big-endian stores and loads into raw memory of at least sizeof(T) bytes.
template <typename T>
inline void store_be(uint8_t* p, T v) {
  static_assert(std::is_integral_v<T>);
  using U = std::make_unsigned_t<T>;
  U u = static_cast<U>(v);
  for (size_t i = 0; i < sizeof(T); ++i)
    p[i] = static_cast<uint8_t>(u >> (8 * (sizeof(T) - 1 - i)));
}
template <typename T>
inline T load_be(const uint8_t* p) {
  static_assert(std::is_integral_v<T>);
  using U = std::make_unsigned_t<T>;
  U u = 0;
  for (size_t i = 0; i < sizeof(T); ++i) u = static_cast<U>((u << 8) | p[i]);
  return static_cast<T>(u);
}

class Writer {
 public:
  explicit Writer(Bytes& out) : out_(out) {}

  template <typename T>
  void be(T v) {
    size_t at = out_.size();
    out_.resize(at + sizeof(T));
    store_be<T>(out_.data() + at, v);
  }
  void u8(uint8_t v) { out_.push_back(v); }
  void bytes(ByteView b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void str(std::string_view s) { bytes(as_bytes(s)); }
  void uvarint(uint64_t v);
  void varint(int64_t v);  // zigzag
  size_t size() const { return out_.size(); }
  // Overwrites a big-endian value at an earlier position (length prefixes, CRC fields).
  template <typename T>
  void patch_be(size_t at, T v) {
    store_be<T>(out_.data() + at, v);
  }

 private:
  Bytes& out_;
};

class Reader {
 public:
  explicit Reader(ByteView in) : in_(in) {}

  bool ok() const { return ok_; }
  size_t remaining() const { return ok_ ? in_.size() - pos_ : 0; }
  size_t position() const { return pos_; }
  bool at_end() const { return ok_ && pos_ == in_.size(); }

  template <typename T>
  T be() {
    if (!need(sizeof(T))) return T{};
    T v = load_be<T>(in_.data() + pos_);
    pos_ += sizeof(T);
    return v;
  }
  uint8_t u8() { return be<uint8_t>(); }
  ByteView bytes(size_t n) {
    if (!need(n)) return {};
    ByteView v = in_.subspan(pos_, n);
    pos_ += n;
    return v;
  }
  void skip(size_t n) { (void)bytes(n); }
  uint64_t uvarint();
  int64_t varint();  // zigzag
  // Marks the input bad; later reads return zero values. For callers that validate semantics.
  void fail() { ok_ = false; }

 private:
  bool need(size_t n) {
    if (!ok_ || in_.size() - pos_ < n) {
      ok_ = false;
      return false;
    }
    return true;
  }

  ByteView in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace gregor
