// Splits a byte stream into length-prefixed frames: a 4-byte big-endian size, then that many
// bytes (Kafka's framing, and the demo service's). Bytes may arrive in any split; frames come out
// whole. A size above the limit or negative is a protocol error: the caller closes the connection.
//
// Each frame's payload is gathered straight into its own buffer, reserved from the size prefix
// (up to kFrameReserveBytesMax; a bigger frame grows as its bytes arrive, so a peer cannot make
// us reserve the whole limit with 4 bytes), and handed out by move: one copy per received byte,
// and no buffer that grows, compacts and page-faults anew for every 1 MB produce request.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <optional>

#include "base/bytes.h"
#include "base/status.h"

namespace gregor::net {

inline constexpr size_t kFrameReserveBytesMax = 8 * 1024 * 1024;

class FrameReader {
 public:
  explicit FrameReader(uint32_t frame_bytes_max) : frame_bytes_max_(frame_bytes_max) {}

  void feed(ByteView data);
  // The next whole frame's payload, nullopt if more bytes are needed, or an error (limit_exceeded)
  // once the frames before an over-limit size prefix are taken; after an error the reader stays
  // failed and ignores what it is fed.
  Result<std::optional<Bytes>> next();
  // Bytes received and not yet handed out by next() (whole frames waiting, the partial one).
  size_t buffered_bytes() const { return buffered_bytes_; }

 private:
  uint32_t frame_bytes_max_;
  std::array<uint8_t, 4> prefix_{};
  size_t prefix_filled_ = 0;
  bool in_frame_ = false;  // prefix read: frame_ is being filled up to frame_size_
  size_t frame_size_ = 0;
  Bytes frame_;
  std::deque<Bytes> ready_;
  size_t buffered_bytes_ = 0;
  std::optional<uint32_t> bad_size_;  // the over-limit size prefix met, if any
};

// Appends a frame (size prefix + payload) to out.
void append_frame(Bytes& out, ByteView payload);

}  // namespace gregor::net
