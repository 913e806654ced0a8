#include "node/broker/metadata_store.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "base/crc32c.h"
#include "base/guarded.h"
#include "base/steps.h"

namespace gregor::broker {

using nlohmann::json;

std::optional<std::string> invalid_topic_name(const std::string& name) {
  if (name.empty()) return "the name is empty";
  if (name == "." || name == "..") return "'.' and '..' are not topic names";
  if (name.size() > 249) return fmt::format("{} characters is over the limit of 249", name.size());
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return "only ASCII letters, digits, '.', '_' and '-' are allowed";
  }
  return std::nullopt;
}

std::string partition_dir_name(const std::string& topic, int32_t partition) {
  return fmt::format("{}-{}", topic, partition);
}

namespace {

constexpr std::string_view kMagic = "gregor-metadata 1 ";

json uuid_json(const kafka::Uuid& id) {
  return fmt::format("{:016x}{:016x}", id.high, id.low);
}

kafka::Uuid uuid_from(const std::string& s) {
  if (s.size() != 32) throw std::runtime_error("bad topic id");
  return {std::stoull(s.substr(0, 16), nullptr, 16), std::stoull(s.substr(16), nullptr, 16)};
}

json to_json(const MetadataImage& image) {
  json topics = json::array();
  for (auto& [name, t] : image.topics) {
    json parts = json::array();
    for (auto& p : t.partitions) {
      parts.push_back({{"partition", p.partition},
                       {"leader", p.leader},
                       {"leader_epoch", p.leader_epoch},
                       {"partition_epoch", p.partition_epoch},
                       {"replicas", p.replicas},
                       {"isr", p.isr}});
    }
    topics.push_back(
        {{"name", name}, {"id", uuid_json(t.id)}, {"partitions", parts}, {"configs", t.configs}});
  }
  json brokers = json::array();
  for (auto& [id, b] : image.brokers) {
    brokers.push_back({{"id", b.id}, {"host", b.host}, {"port", b.port}});
  }
  return {{"cluster_id", image.cluster_id},
          {"controller_id", image.controller_id},
          {"next_producer_id", image.next_producer_id},
          {"brokers", brokers},
          {"topics", topics}};
}

// Throws (nlohmann's type errors, or ours) on anything malformed; decode() catches.
MetadataImage from_json(const json& j) {
  MetadataImage image;
  image.cluster_id = j.at("cluster_id").get<std::string>();
  image.controller_id = j.at("controller_id").get<int32_t>();
  image.next_producer_id = j.at("next_producer_id").get<int64_t>();
  for (auto& b : j.at("brokers")) {
    BrokerImage broker{b.at("id").get<int32_t>(), b.at("host").get<std::string>(),
                       b.at("port").get<int32_t>()};
    image.brokers[broker.id] = broker;
  }
  for (auto& t : j.at("topics")) {
    TopicImage topic;
    topic.name = t.at("name").get<std::string>();
    topic.id = uuid_from(t.at("id").get<std::string>());
    topic.configs = t.at("configs").get<std::map<std::string, std::string>>();
    for (auto& p : t.at("partitions")) {
      PartitionImage part;
      part.partition = p.at("partition").get<int32_t>();
      part.leader = p.at("leader").get<int32_t>();
      part.leader_epoch = p.at("leader_epoch").get<int32_t>();
      part.partition_epoch = p.at("partition_epoch").get<int32_t>();
      part.replicas = p.at("replicas").get<std::vector<int32_t>>();
      part.isr = p.at("isr").get<std::vector<int32_t>>();
      if (part.partition != static_cast<int32_t>(topic.partitions.size())) {
        throw std::runtime_error("partitions out of order");
      }
      topic.partitions.push_back(std::move(part));
    }
    if (invalid_topic_name(topic.name)) throw std::runtime_error("illegal topic name");
    std::string name = topic.name;
    image.topics[name] = std::move(topic);
  }
  return image;
}

}  // namespace

Bytes MetadataStore::encode(const MetadataImage& image) {
  std::string body = to_json(image).dump(1) + "\n";
  std::string text = fmt::format("{}{:08x}\n{}", kMagic, crc32c(as_bytes(body)), body);
  return to_bytes(text);
}

Result<MetadataImage> MetadataStore::decode(ByteView bytes) {
  std::string_view text = as_chars(bytes);
  size_t eol = text.find('\n');
  if (!text.starts_with(kMagic) || eol != kMagic.size() + 8) {
    return error(Errc::corrupt, "not a Gregor metadata file (bad first line)");
  }
  std::string_view body = text.substr(eol + 1);
  uint32_t want = 0;
  for (char c : text.substr(kMagic.size(), 8)) {
    int v = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (v < 0) return error(Errc::corrupt, "bad CRC digits");
    want = want << 4 | static_cast<uint32_t>(v);
  }
  if (crc32c(as_bytes(body)) != want) return error(Errc::corrupt, "CRC mismatch");
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return error(Errc::corrupt, "malformed JSON");
  try {
    return from_json(j);
  } catch (const std::exception& e) {
    return errorf(Errc::corrupt, "bad content: {}", e.what());
  }
}

MetadataStore::MetadataStore(Env& env, std::string log_dir)
    : env_(env), dir_(std::move(log_dir)), path_(dir_ + "/" + std::string(kMetadataFileName)) {}

MetadataStore::~MetadataStore() {
  *alive_ = false;
}

void MetadataStore::load(std::function<void(Result<std::optional<MetadataImage>>)> done) {
  env_.disk.open(
      path_, disk::OpenMode::open_existing, guarded(alive_, [this, done](Result<disk::FilePtr> f) {
        if (f.code() == Errc::not_found) return done(std::optional<MetadataImage>());
        if (!f.ok()) return done(f.status());
        disk::FilePtr file = std::move(f).value();
        if (file->size() > kMetadataFileBytesMax) {
          return done(errorf(Errc::corrupt, "{}: {} bytes is too large", path_, file->size()));
        }
        file->pread(
            0, static_cast<size_t>(file->size()),
            guarded(alive_, [this, file, done](Result<ReadBuffer> data) {
              if (!data.ok()) return done(data.status());
              auto image = decode(*data);
              if (!image.ok()) {
                return done(errorf(Errc::corrupt, "{}: {}", path_, image.status().message()));
              }
              done(std::optional<MetadataImage>(std::move(image).value()));
            }));
      }));
}

void MetadataStore::save(const MetadataImage& image, std::function<void(const Status&)> done) {
  pending_ = image;
  pending_done_.push_back(std::move(done));
  if (!writing_) write_next();
}

void MetadataStore::write_next() {
  if (!pending_) return;
  writing_ = true;
  auto bytes = std::make_shared<Bytes>(encode(*pending_));
  pending_.reset();
  auto waiting =
      std::make_shared<std::vector<std::function<void(const Status&)>>>(std::move(pending_done_));
  pending_done_.clear();
  std::string temp = path_ + ".tmp";
  auto file = std::make_shared<disk::FilePtr>();
  run_steps({
                [this, temp, file](Next next) {
                  env_.disk.open(temp, disk::OpenMode::open_or_create,
                                 guarded(alive_, [file, next](Result<disk::FilePtr> f) {
                                   if (!f.ok()) return next(f.status());
                                   *file = std::move(f).value();
                                   (*file)->truncate(0, next);
                                 }));
                },
                [file, bytes](Next next) { (*file)->pwrite(0, *bytes, next); },
                [file](Next next) { (*file)->fsync(next); },
                [this, temp](Next next) { env_.disk.rename(temp, path_, next); },
                [this](Next next) { env_.disk.fsync_dir(dir_, next); },
            },
            guarded(alive_, [this, waiting](const Status& s) {
              writing_ = false;
              for (auto& done : *waiting) done(s);
              write_next();
            }));
}

}  // namespace gregor::broker
