#include "net/frame_reader.h"

#include <algorithm>

namespace gregor::net {

void FrameReader::feed(ByteView data) {
  while (!data.empty() && !bad_size_) {
    if (!in_frame_) {
      size_t take = std::min(prefix_.size() - prefix_filled_, data.size());
      std::copy_n(data.begin(), take, prefix_.begin() + static_cast<ptrdiff_t>(prefix_filled_));
      prefix_filled_ += take;
      data = data.subspan(take);
      if (prefix_filled_ < prefix_.size()) return;
      prefix_filled_ = 0;
      int32_t size = load_be<int32_t>(prefix_.data());
      if (size < 0 || static_cast<uint32_t>(size) > frame_bytes_max_) {
        bad_size_ = static_cast<uint32_t>(size);
        return;
      }
      in_frame_ = true;
      frame_size_ = static_cast<size_t>(size);
      frame_ = Bytes();
      frame_.reserve(std::min(frame_size_, kFrameReserveBytesMax));
    }
    size_t take = std::min(frame_size_ - frame_.size(), data.size());
    frame_.insert(frame_.end(), data.begin(), data.begin() + static_cast<ptrdiff_t>(take));
    buffered_bytes_ += take;
    data = data.subspan(take);
    if (frame_.size() == frame_size_) {
      in_frame_ = false;
      ready_.push_back(std::move(frame_));
    }
  }
}

Result<std::optional<Bytes>> FrameReader::next() {
  if (!ready_.empty()) {
    Bytes frame = std::move(ready_.front());
    ready_.pop_front();
    buffered_bytes_ -= frame.size();
    return std::optional<Bytes>(std::move(frame));
  }
  if (bad_size_) {
    return errorf(Errc::limit_exceeded, "frame of {} bytes (limit {})",
                  static_cast<int32_t>(*bad_size_), frame_bytes_max_);
  }
  return std::optional<Bytes>();
}

void append_frame(Bytes& out, ByteView payload) {
  Writer w(out);
  w.be<uint32_t>(static_cast<uint32_t>(payload.size()));
  w.bytes(payload);
}

}  // namespace gregor::net
