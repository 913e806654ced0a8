// Splits a byte stream into length-prefixed frames: a 4-byte big-endian size, then that many
// bytes (Kafka's framing, and the demo service's). Bytes may arrive in any split; frames come out
// whole. A size above the limit or negative is a protocol error: the caller closes the connection.
#pragma once

#include <cstdint>
#include <optional>

#include "base/bytes.h"
#include "base/status.h"

namespace gregor::net {

class FrameReader {
 public:
  explicit FrameReader(uint32_t frame_bytes_max) : frame_bytes_max_(frame_bytes_max) {}

  void feed(ByteView data) { buffer_.insert(buffer_.end(), data.begin(), data.end()); }
  // The next whole frame's payload, nullopt if more bytes are needed, or an error (limit_exceeded)
  // if the size prefix is over the limit; after an error the reader stays failed.
  Result<std::optional<Bytes>> next();
  size_t buffered_bytes() const { return buffer_.size() - consumed_; }

 private:
  uint32_t frame_bytes_max_;
  Bytes buffer_;
  size_t consumed_ = 0;
  bool failed_ = false;
};

// Appends a frame (size prefix + payload) to out.
void append_frame(Bytes& out, ByteView payload);

}  // namespace gregor::net
