#include "net/frame_reader.h"

namespace gregor::net {

Result<std::optional<Bytes>> FrameReader::next() {
  if (failed_) return error(Errc::limit_exceeded, "frame reader failed earlier");
  size_t available = buffer_.size() - consumed_;
  if (available < 4) return std::optional<Bytes>();
  int32_t size = load_be<int32_t>(buffer_.data() + consumed_);
  if (size < 0 || static_cast<uint32_t>(size) > frame_bytes_max_) {
    failed_ = true;
    return errorf(Errc::limit_exceeded, "frame of {} bytes (limit {})", size, frame_bytes_max_);
  }
  if (available - 4 < static_cast<size_t>(size)) return std::optional<Bytes>();
  auto begin = buffer_.begin() + static_cast<ptrdiff_t>(consumed_ + 4);
  Bytes frame(begin, begin + size);
  consumed_ += 4 + static_cast<size_t>(size);
  // Compact once the consumed prefix dominates, so the buffer does not grow without bound.
  if (consumed_ > 4096 && consumed_ * 2 > buffer_.size()) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<ptrdiff_t>(consumed_));
    consumed_ = 0;
  }
  return std::optional<Bytes>(std::move(frame));
}

void append_frame(Bytes& out, ByteView payload) {
  Writer w(out);
  w.be<uint32_t>(static_cast<uint32_t>(payload.size()));
  w.bytes(payload);
}

}  // namespace gregor::net
