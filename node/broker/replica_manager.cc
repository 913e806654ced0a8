#include "node/broker/replica_manager.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/fault_points.h"
#include "base/guarded.h"
#include "base/steps.h"
#include "node/broker/metadata_store.h"

namespace gregor::broker {

Result<TopicConfig> topic_config_of(const BrokerConfig& config, const TopicImage& topic) {
  ConfigOverrides overrides;
  for (auto& [key, value] : topic.configs) overrides.emplace_back(key, value);
  return apply_topic_configs(config, overrides);
}

ReplicaManager::ReplicaManager(Env& env, const BrokerConfig& config) : env_(env), config_(config) {}

ReplicaManager::~ReplicaManager() {
  *alive_ = false;
}

Partition* ReplicaManager::partition(const std::string& topic, int32_t index) {
  auto it = partitions_.find({topic, index});
  return it == partitions_.end() ? nullptr : it->second.get();
}

void ReplicaManager::open_topic(const TopicImage& topic, std::function<void(const Status&)> done,
                                bool lead) {
  auto config = topic_config_of(config_, topic);
  if (!config.ok()) {
    return done(
        errorf(Errc::invalid_argument, "topic {}: {}", topic.name, config.status().message()));
  }
  std::vector<Step> steps;
  for (const PartitionImage& p : topic.partitions) {
    bool hosted =
        std::find(p.replicas.begin(), p.replicas.end(), config_.node_id) != p.replicas.end();
    if (!hosted || partition(topic.name, p.partition)) continue;
    // Each step holds its partition's image and the topic's name, not the whole topic: copying
    // the topic into each of its partitions' steps was quadratic in the partition count.
    steps.push_back([this, name = topic.name, p, c = *config, lead](Next next) {
      open_partition(name, p, c, lead, next);
    });
  }
  run_steps(std::move(steps), std::move(done));
}

void ReplicaManager::open_partition(const std::string& topic, const PartitionImage& p,
                                    const TopicConfig& config, bool lead,
                                    std::function<void(const Status&)> done) {
  std::string dir = config_.log_dir + "/" + partition_dir_name(topic, p.partition);
  log::Log::load(
      env_, dir, config.log,
      guarded(alive_, [this, topic, p, config, lead, done](Result<std::unique_ptr<log::Log>> log) {
        if (!log.ok()) return done(log.status());
        (*log)->set_on_offline([this](const Status& why) { on_log_dir_failure(why); });
        auto part = std::make_unique<Partition>(topic, p.partition, std::move(log).value(), config,
                                                config_.node_id);
        part->set_bugs(config_.bugs);
        part->set_on_new_data([this](Partition& changed, size_t bytes, DataEvent event) {
          if (on_new_data_) on_new_data_(changed, bytes, event);
        });
        if (lead && p.leader == config_.node_id) part->become_leader(p);
        partitions_[{topic, p.partition}] = std::move(part);
        done(Status::Ok());
      }));
}

// Kafka's LogDirFailureChannel: a failed fsync takes the whole log dir offline, and a broker with
// no online log dir left halts so its supervisor restarts it; recovery then rebuilds the logs from
// what is really on disk. Gregor has one log dir, so any offline log halts the broker.
void ReplicaManager::on_log_dir_failure(const Status& why) {
  if (halting_) return;
  halting_ = true;
  if (!env_.halt) {
    spdlog::error(
        "log dir {} failed and no supervisor can restart this broker: its partitions stay "
        "offline until a restart ({})",
        config_.log_dir, why.message());
    return;
  }
  spdlog::error("log dir {} failed: halting so the broker restarts ({})", config_.log_dir,
                why.message());
  GREGOR_PROBE(env_, broker_log_dir_failed);
  env_.halt(why);
}

void ReplicaManager::delete_topic(const std::string& name,
                                  std::function<void(const Status&)> done) {
  std::vector<Step> steps;
  for (auto it = partitions_.lower_bound({name, 0});
       it != partitions_.end() && it->first.first == name; ++it) {
    std::shared_ptr<Partition> part(it->second.release());
    std::string dir = part->log().dir();
    // The completion holds the partition: its log must live until close() is done.
    steps.push_back(
        [part](Next next) { part->log().close([part, next](const Status& s) { next(s); }); });
    steps.push_back([this, dir](Next next) { remove_dir(dir, next); });
  }
  std::erase_if(partitions_, [&](auto& entry) { return entry.first.first == name; });
  // A maintenance pass waiting on one of these partitions moves on without it.
  std::vector<std::function<void()>> abandoned;
  for (auto& [key, finish] : in_pass_) {
    if (key.first == name) abandoned.push_back(finish);
  }
  for (auto& finish : abandoned) finish();
  steps.push_back([this](Next next) { env_.disk.fsync_dir(config_.log_dir, next); });
  run_steps(std::move(steps), std::move(done));
}

// Removes a partition directory and every file in it (partition directories hold no subdirs).
void ReplicaManager::remove_dir(const std::string& path, std::function<void(const Status&)> done) {
  env_.disk.list(path, guarded(alive_, [this, path, done](Result<std::vector<std::string>> names) {
                   if (!names.ok()) return done(names.status());
                   std::vector<Step> steps;
                   for (const std::string& name : *names) {
                     steps.push_back([this, file = path + "/" + name](Next next) {
                       env_.disk.remove(file, next);
                     });
                   }
                   steps.push_back([this, path](Next next) { env_.disk.remove(path, next); });
                   run_steps(std::move(steps), done);
                 }));
}

namespace {
// "<legal topic>-<digits>": the shape of a partition directory name.
// Disk::list names subdirectories with a trailing '/': a name without one is a file.
std::optional<std::pair<std::string, int32_t>> parse_partition_dir(std::string name) {
  if (!name.ends_with('/')) return std::nullopt;
  name.pop_back();
  size_t dash = name.rfind('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 == name.size()) return std::nullopt;
  std::string topic = name.substr(0, dash);
  std::string digits = name.substr(dash + 1);
  if (digits.size() > 9 || invalid_topic_name(topic)) return std::nullopt;
  int32_t index = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    index = index * 10 + (c - '0');
  }
  return std::make_pair(topic, index);
}
}  // namespace

void ReplicaManager::remove_orphans(const MetadataImage& image,
                                    std::function<void(const Status&)> done) {
  env_.disk.list(
      config_.log_dir, guarded(alive_, [this, image, done](auto names) {
        if (!names.ok()) return done(names.status());
        std::vector<Step> steps;
        for (const std::string& name : *names) {
          if (name.starts_with(kMetadataFileName)) continue;
          auto parsed = parse_partition_dir(name);
          if (!parsed) {
            spdlog::warn("{}/{}: not a partition directory; left alone", config_.log_dir, name);
            continue;
          }
          const TopicImage* t = image.topic(parsed->first);
          if (t && parsed->second < static_cast<int32_t>(t->partitions.size())) continue;
          std::string path = config_.log_dir + "/" + name.substr(0, name.size() - 1);
          spdlog::info("{}: partition of no topic (a deletion was interrupted); removing", path);
          GREGOR_PROBE(env_, broker_orphan_partition_removed);
          steps.push_back([this, path](Next next) { remove_dir(path, next); });
        }
        run_steps(std::move(steps), done);
      }));
}

void ReplicaManager::start_maintenance() {
  maintaining_ = true;
  schedule_pass(Pass::retention);
  schedule_pass(Pass::compaction);
}

void ReplicaManager::schedule_pass(Pass pass) {
  if (!maintaining_) return;
  bool retention = pass == Pass::retention;
  Duration every =
      retention ? config_.log_retention_check_interval_ms : config_.log_cleaner_backoff_ms;
  TimerId& timer = retention ? retention_timer_ : cleaner_timer_;
  // BUGGIFY: when a pass runs is the broker's choice; the default intervals (5 minutes for
  // retention) are longer than most simulated runs, which would then never see retention or
  // compaction run alongside appends, fetches and crashes.
  if (GREGOR_BUGGIFY(env_, broker_maintenance_soon)) {
    every = std::min(every, env_.fault_points->uniform_duration(milliseconds(1), seconds(1)));
  }
  timer = env_.clock.schedule(every, guarded(alive_, [this, pass] { run_pass(pass); }));
}

// Visits the partitions by name (a partition deleted meanwhile is skipped); failures are logged
// and the pass goes on, so one bad partition cannot stop the others' retention.
void ReplicaManager::run_pass(Pass pass) {
  std::vector<Step> steps;
  for (auto& [key, part] : partitions_) {
    bool wanted = pass == Pass::retention ? part->config().log.cleanup_delete
                                          : part->config().log.cleanup_compact;
    if (!wanted) continue;
    steps.push_back([this, key, pass](Next next) {
      Partition* p = partition(key.first, key.second);
      if (!p) return next(Status::Ok());
      // Finishes this partition's step once: when its operation completes, or when its topic is
      // deleted meanwhile (its log is then closed and the completion never comes).
      auto once = std::make_shared<bool>(false);
      auto finish = [this, key, once, next] {
        if (*once) return;
        *once = true;
        in_pass_.erase(key);
        next(Status::Ok());
      };
      in_pass_[key] = finish;
      std::string dir = p->log().dir();
      auto logged = [dir, pass, finish](const Status& s) {
        if (!s.ok() && s.code() != Errc::cancelled) {
          spdlog::warn("{} of {}: {}", pass == Pass::retention ? "retention" : "compaction", dir,
                       s);
        }
        finish();
      };
      if (pass == Pass::retention) {
        p->log().enforce_retention(logged);
      } else {
        p->log().compact(logged);
      }
    });
  }
  run_steps(std::move(steps),
            guarded(alive_, [this, pass](const Status&) { schedule_pass(pass); }));
}

void ReplicaManager::close_all(std::function<void(const Status&)> done) {
  maintaining_ = false;
  env_.clock.cancel(retention_timer_);
  env_.clock.cancel(cleaner_timer_);
  std::vector<Step> steps;
  for (auto& [key, part] : partitions_) {
    Partition* p = part.get();
    steps.push_back([p](Next next) {
      p->log().close([p, next](const Status& s) {
        if (!s.ok()) spdlog::error("closing {}: {}", p->log().dir(), s);
        next(Status::Ok());  // close the others regardless
      });
    });
  }
  run_steps(std::move(steps), std::move(done));
}

}  // namespace gregor::broker
