#include "node/log/compression.h"

#define ZLIB_CONST
#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>
#include <limits>
#include <span>

namespace gregor::log {
namespace {

// snappy-java's stream header: 8 magic bytes, then version and minimum compatible version.
constexpr std::array<uint8_t, 8> kXerialMagic = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0x00};
constexpr size_t kXerialHeaderBytes = 16;
constexpr int32_t kXerialVersion = 1;
// snappy-java's default block size (SnappyOutputStream), which Kafka's producer uses.
constexpr size_t kXerialChunkBytes = 32 * 1024;
// First output allocation for streaming decoders; grows geometrically after.
constexpr size_t kFirstOutputBytes = 64 * 1024;

Status corrupt(std::string_view codec, std::string_view what) {
  return errorf(Errc::corrupt, "{} data is corrupt: {}", codec, what);
}
Status too_large(std::string_view codec, size_t out_bytes_max) {
  return errorf(Errc::limit_exceeded, "{} data decompresses to more than {} bytes", codec,
                out_bytes_max);
}

// Output for streaming decoders. It grows geometrically up to a hard cap of out_bytes_max + 1
// bytes: a decoder that fills that extra byte has proven the output is over the limit, so a
// decompression bomb costs us at most the limit in memory, never its full expansion.
class BoundedOutput {
 public:
  BoundedOutput(size_t out_bytes_max, size_t input_bytes)
      : max_(out_bytes_max),
        cap_(out_bytes_max == std::numeric_limits<size_t>::max() ? out_bytes_max
                                                                 : out_bytes_max + 1) {
    // Kafka payloads compress 2-5x; start near the likely size to avoid most regrowth.
    size_t guess = input_bytes > cap_ / 4 ? cap_ : std::max(kFirstOutputBytes, input_bytes * 4);
    buf_.resize(std::min(guess, cap_));
  }

  // Writable space after what was produced: empty only when the cap is reached.
  std::span<uint8_t> space() {
    if (used_ == buf_.size() && buf_.size() < cap_) {
      size_t grow = std::max(buf_.size(), kFirstOutputBytes);
      buf_.resize(cap_ - buf_.size() < grow ? cap_ : buf_.size() + grow);
    }
    return {buf_.data() + used_, buf_.size() - used_};
  }
  void produced(size_t n) { used_ += n; }
  bool over_limit() const { return used_ > max_; }
  Bytes take() {
    buf_.resize(used_);
    return std::move(buf_);
  }

 private:
  size_t max_;
  size_t cap_;
  Bytes buf_;
  size_t used_ = 0;
};

// zlib counts in 32-bit uInt; larger spans are fed in pieces.
uInt clamp_uint(size_t n) {
  return static_cast<uInt>(std::min<size_t>(n, UINT_MAX));
}

Result<Bytes> gzip_compress(ByteView in) {
  z_stream zs{};
  // windowBits 15 + 16 asks zlib for a gzip wrapper, which is what Kafka's GZIPOutputStream writes.
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return error(Errc::invalid_argument, "gzip: deflateInit2 failed");
  Bytes out(deflateBound(&zs, in.size()));
  zs.next_in = in.data();
  size_t in_left = in.size();
  size_t used = 0;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (used == out.size()) out.resize(out.size() * 2 + 64);
    zs.avail_in = clamp_uint(in_left);
    zs.next_out = out.data() + used;
    zs.avail_out = clamp_uint(out.size() - used);
    uInt avail_in = zs.avail_in, avail_out = zs.avail_out;
    rc = deflate(&zs, zs.avail_in == in_left ? Z_FINISH : Z_NO_FLUSH);
    in_left -= avail_in - zs.avail_in;
    used += avail_out - zs.avail_out;
    // Z_BUF_ERROR only means "no room": anything else but progress is a library failure.
    bool out_of_room = rc == Z_BUF_ERROR && zs.avail_out == 0;
    if (rc != Z_OK && rc != Z_STREAM_END && !out_of_room) break;
  }
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return errorf(Errc::invalid_argument, "gzip: deflate failed ({})", rc);
  out.resize(used);
  return out;
}

Result<Bytes> gzip_decompress(ByteView in, size_t out_bytes_max) {
  z_stream zs{};
  // 15 + 32: detect a gzip or a zlib header automatically.
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return error(Errc::invalid_argument, "gzip: no memory");
  BoundedOutput out(out_bytes_max, in.size());
  zs.next_in = in.data();
  size_t in_left = in.size();
  Status status;
  while (true) {
    std::span<uint8_t> space = out.space();
    if (space.empty()) {
      status = too_large("gzip", out_bytes_max);
      break;
    }
    zs.avail_in = clamp_uint(in_left);
    zs.next_out = space.data();
    zs.avail_out = clamp_uint(space.size());
    uInt avail_in = zs.avail_in, avail_out = zs.avail_out;
    int rc = inflate(&zs, Z_NO_FLUSH);
    in_left -= avail_in - zs.avail_in;
    out.produced(avail_out - zs.avail_out);
    if (rc == Z_STREAM_END) {
      if (in_left == 0) break;
      // Another gzip member follows (Java's GZIPInputStream reads concatenated members too).
      if (inflateReset(&zs) != Z_OK) status = corrupt("gzip", "reset failed");
      if (!status.ok()) break;
    } else if (rc == Z_BUF_ERROR && zs.avail_out == 0) {
      continue;  // needs more output space
    } else if (rc != Z_OK) {
      status = corrupt("gzip", in_left == 0 ? "truncated" : (zs.msg ? zs.msg : "inflate failed"));
      break;
    }
  }
  inflateEnd(&zs);
  if (!status.ok()) return status;
  if (out.over_limit()) return too_large("gzip", out_bytes_max);
  return out.take();
}

Result<Bytes> snappy_compress(ByteView in) {
  Bytes out(kXerialHeaderBytes);
  std::copy(kXerialMagic.begin(), kXerialMagic.end(), out.begin());
  store_be<int32_t>(out.data() + 8, kXerialVersion);
  store_be<int32_t>(out.data() + 12, kXerialVersion);
  for (size_t at = 0; at < in.size(); at += kXerialChunkBytes) {
    size_t n = std::min(kXerialChunkBytes, in.size() - at);
    size_t header_at = out.size();
    out.resize(header_at + 4 + snappy::MaxCompressedLength(n));
    size_t written = 0;
    snappy::RawCompress(reinterpret_cast<const char*>(in.data() + at), n,
                        reinterpret_cast<char*>(out.data() + header_at + 4), &written);
    store_be<uint32_t>(out.data() + header_at, static_cast<uint32_t>(written));
    out.resize(header_at + 4 + written);
  }
  return out;
}

// Appends the decompression of one raw snappy block to out, within the limit. The declared
// uncompressed length is checked against the limit before anything is allocated.
Status snappy_raw_append(ByteView block, Bytes& out, size_t out_bytes_max) {
  size_t n = 0;
  const char* src = reinterpret_cast<const char*>(block.data());
  if (!snappy::GetUncompressedLength(src, block.size(), &n))
    return corrupt("snappy", "bad block header");
  if (n > out_bytes_max - out.size()) return too_large("snappy", out_bytes_max);
  size_t at = out.size();
  out.resize(at + n);
  if (!snappy::RawUncompress(src, block.size(), reinterpret_cast<char*>(out.data() + at)))
    return corrupt("snappy", "bad block");
  return Status::Ok();
}

Result<Bytes> snappy_decompress(ByteView in, size_t out_bytes_max) {
  Bytes out;
  bool xerial = in.size() >= kXerialMagic.size() &&
                std::equal(kXerialMagic.begin(), kXerialMagic.end(), in.begin());
  if (!xerial) {
    GREGOR_RETURN_IF_ERROR(snappy_raw_append(in, out, out_bytes_max));
    return out;
  }
  // The version fields are not checked: snappy-java has only ever written 1 in both, and a
  // stricter reader would only turn a readable batch into an error.
  Reader r(in);
  r.skip(kXerialHeaderBytes);
  if (!r.ok()) return corrupt("snappy", "truncated xerial header");
  while (!r.at_end()) {
    uint32_t n = r.be<uint32_t>();
    ByteView block = r.bytes(n);
    if (!r.ok()) return corrupt("snappy", "truncated xerial chunk");
    GREGOR_RETURN_IF_ERROR(snappy_raw_append(block, out, out_bytes_max));
  }
  return out;
}

Result<Bytes> lz4_compress(ByteView in) {
  LZ4F_preferences_t prefs;
  std::memset(&prefs, 0, sizeof(prefs));
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  Bytes out(LZ4F_compressFrameBound(in.size(), &prefs));
  size_t n = LZ4F_compressFrame(out.data(), out.size(), in.data(), in.size(), &prefs);
  if (LZ4F_isError(n))
    return errorf(Errc::invalid_argument, "lz4: compress failed: {}", LZ4F_getErrorName(n));
  out.resize(n);
  return out;
}

// Shared loop of the two streaming decoders (LZ4F and zstd). step(dst, dst_size&, src_size&)
// decodes from in[pos..) into dst, updating the sizes to what it produced and consumed, and
// returns the codec's hint: 0 when a frame ended cleanly, an error code, or "more to come".
// A frame that ends mid-way shows as two calls in a row that make no progress.
template <typename Step, typename IsError>
Result<Bytes> stream_decompress(std::string_view codec, ByteView in, size_t out_bytes_max,
                                Step step, IsError is_error) {
  BoundedOutput out(out_bytes_max, in.size());
  size_t pos = 0;
  size_t hint = 1;
  int stalls = 0;
  while (hint != 0 || pos < in.size()) {
    std::span<uint8_t> space = out.space();
    if (space.empty()) return too_large(codec, out_bytes_max);
    size_t dst_size = space.size();
    size_t src_size = in.size() - pos;
    hint = step(space.data(), dst_size, in.data() + pos, src_size);
    if (is_error(hint)) return corrupt(codec, "malformed frame");
    pos += src_size;
    out.produced(dst_size);
    stalls = (src_size == 0 && dst_size == 0) ? stalls + 1 : 0;
    if (stalls >= 2) return corrupt(codec, "truncated frame");
  }
  if (out.over_limit()) return too_large(codec, out_bytes_max);
  return out.take();
}

Result<Bytes> lz4_decompress(ByteView in, size_t out_bytes_max) {
  LZ4F_dctx* dctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
    return error(Errc::invalid_argument, "lz4: no memory");
  auto step = [dctx](uint8_t* dst, size_t& dst_size, const uint8_t* src, size_t& src_size) {
    return LZ4F_decompress(dctx, dst, &dst_size, src, &src_size, nullptr);
  };
  auto is_error = [](size_t hint) { return LZ4F_isError(hint) != 0; };
  Result<Bytes> out = stream_decompress("lz4", in, out_bytes_max, step, is_error);
  LZ4F_freeDecompressionContext(dctx);
  return out;
}

Result<Bytes> zstd_compress(ByteView in) {
  Bytes out(ZSTD_compressBound(in.size()));
  size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), ZSTD_CLEVEL_DEFAULT);
  if (ZSTD_isError(n))
    return errorf(Errc::invalid_argument, "zstd: compress failed: {}", ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

Result<Bytes> zstd_decompress(ByteView in, size_t out_bytes_max) {
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  if (dctx == nullptr) return error(Errc::invalid_argument, "zstd: no memory");
  // The library's default window limit (2^27) bounds the memory a hostile frame header can
  // make us allocate; Kafka clients use default levels whose windows are far smaller.
  auto step = [dctx](uint8_t* dst, size_t& dst_size, const uint8_t* src, size_t& src_size) {
    ZSTD_outBuffer o{dst, dst_size, 0};
    ZSTD_inBuffer i{src, src_size, 0};
    size_t hint = ZSTD_decompressStream(dctx, &o, &i);
    dst_size = o.pos;
    src_size = i.pos;
    return hint;
  };
  auto is_error = [](size_t hint) { return ZSTD_isError(hint) != 0; };
  Result<Bytes> out = stream_decompress("zstd", in, out_bytes_max, step, is_error);
  ZSTD_freeDCtx(dctx);
  return out;
}

Status unknown_codec(Compression codec) {
  return errorf(Errc::invalid_argument, "unknown compression codec id {}", static_cast<int>(codec));
}

}  // namespace

bool is_known_compression(Compression codec) {
  return static_cast<uint8_t>(codec) <= static_cast<uint8_t>(Compression::zstd);
}

std::string_view compression_name(Compression codec) {
  switch (codec) {
    case Compression::none:
      return "none";
    case Compression::gzip:
      return "gzip";
    case Compression::snappy:
      return "snappy";
    case Compression::lz4:
      return "lz4";
    case Compression::zstd:
      return "zstd";
  }
  return "unknown";
}

Result<Bytes> compress(Compression codec, ByteView in) {
  switch (codec) {
    case Compression::none:
      return Bytes(in.begin(), in.end());
    case Compression::gzip:
      return gzip_compress(in);
    case Compression::snappy:
      return snappy_compress(in);
    case Compression::lz4:
      return lz4_compress(in);
    case Compression::zstd:
      return zstd_compress(in);
  }
  return unknown_codec(codec);
}

Result<Bytes> decompress(Compression codec, ByteView in, size_t out_bytes_max) {
  switch (codec) {
    case Compression::none:
      if (in.size() > out_bytes_max) return too_large("uncompressed", out_bytes_max);
      return Bytes(in.begin(), in.end());
    case Compression::gzip:
      return gzip_decompress(in, out_bytes_max);
    case Compression::snappy:
      return snappy_decompress(in, out_bytes_max);
    case Compression::lz4:
      return lz4_decompress(in, out_bytes_max);
    case Compression::zstd:
      return zstd_decompress(in, out_bytes_max);
  }
  return unknown_codec(codec);
}

}  // namespace gregor::log
