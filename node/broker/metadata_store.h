// MetadataStore: the single-node broker's durable copy of its MetadataImage, in one file of the
// log dir, `cluster-metadata` (the controller issue replaces it with the Raft metadata log).
//
// Writes are atomic (temp file, fsync, rename, fsync of the directory): after a crash a load sees
// the old or the new image, never a mixture. One write runs at a time; saves issued meanwhile
// coalesce into one write of the newest image, and each done runs once that image (or a newer
// one) is durable or failed.
//
// Format: a first line "gregor-metadata 1 <crc32c of the rest, 8 hex digits>\n", then the image
// as JSON. A damaged file is refused with a message naming it (never silently replaced: it holds
// the topic list, and starting empty would orphan every partition directory).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/env.h"
#include "disk/disk.h"
#include "node/broker/metadata_image.h"

namespace gregor::broker {

inline constexpr std::string_view kMetadataFileName = "cluster-metadata";
inline constexpr size_t kMetadataFileBytesMax = 64 << 20;

class MetadataStore {
 public:
  MetadataStore(Env& env, std::string log_dir);
  ~MetadataStore();
  MetadataStore(const MetadataStore&) = delete;
  MetadataStore& operator=(const MetadataStore&) = delete;

  const std::string& path() const { return path_; }

  // The stored image; nullopt when there is none yet (a new log dir). Errc::corrupt naming the
  // file when it is damaged.
  void load(std::function<void(Result<std::optional<MetadataImage>>)> done);
  void save(const MetadataImage& image, std::function<void(const Status&)> done);

  static Bytes encode(const MetadataImage& image);
  static Result<MetadataImage> decode(ByteView bytes);

 private:
  void write_next();

  Env& env_;
  std::string dir_;
  std::string path_;
  bool writing_ = false;
  std::optional<MetadataImage> pending_;
  std::vector<std::function<void(const Status&)>> pending_done_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gregor::broker
