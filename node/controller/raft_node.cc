#include "node/controller/raft_node.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/assert.h"
#include "base/crc32c.h"
#include "base/guarded.h"
#include "node/controller/raft_wire.h"

namespace gregor::raft {

namespace k = kafka;

namespace {
// Versions of the quorum RPCs Gregor's controllers speak to each other.
constexpr int16_t kVoteVersion = 0;
constexpr int16_t kQuorumEpochVersion = 0;
constexpr int16_t kFetchSnapshotVersion = 0;
// Committed entries handed to the owner per read of the in-memory log.
constexpr size_t kDeliverEntriesMax = 256;

k::QuorumEpochTopicResult quorum_epoch_result(int32_t epoch, NodeId leader) {
  k::QuorumEpochPartitionResult p;
  p.partition_index = kMetadataPartition;
  p.leader_id = leader;
  p.leader_epoch = epoch;
  k::QuorumEpochTopicResult t;
  t.topic_name = std::string(kMetadataTopic);
  t.partitions.push_back(p);
  return t;
}
}  // namespace

RaftNode::RaftNode(Env& env, RaftNodeConfig config, Listener listener)
    : env_(env), config_(std::move(config)), listener_(std::move(listener)) {}

RaftNode::~RaftNode() {
  stop();
}

std::optional<net::Address> RaftNode::address_of(NodeId id) const {
  auto it = config_.voter_addresses.find(id);
  if (it == config_.voter_addresses.end()) return std::nullopt;
  return it->second;
}

void RaftNode::start(std::function<void(const Status&)> done) {
  RaftStorage::load(
      env_, config_.metadata_dir,
      guarded(alive_,
              [this, done](Result<RaftStorage::Loaded> loaded) {
                if (!loaded.ok()) return done(loaded.status());
                storage_ = std::move(loaded->storage);
                PersistentState& state = loaded->state;
                applied_ = state.snapshot.id.end_offset;
                last_snapshot_end_ = applied_;
                if (applied_ > 0 && listener_.on_snapshot) listener_.on_snapshot(state.snapshot);
                raft_.emplace(config_.raft, state);
                env_.tracer.event("raft.start", TraceFields()
                                                    .add("epoch", raft_->epoch())
                                                    .add("log_end", raft_->log().end_offset())
                                                    .add("snapshot", applied_));
                tick_timer_ =
                    env_.clock.schedule(config_.tick, guarded(alive_, [this] { on_tick(); }));
                process_ready();
                done(Status::Ok());
              }),
      config_.storage);
}

void RaftNode::stop() {
  stopped_ = true;
  env_.clock.cancel(tick_timer_);
  tick_timer_ = kNoTimer;
  for (auto& [id, ch] : channels_) ch->close();
  inbound_.clear();
}

void RaftNode::on_tick() {
  tick_timer_ = env_.clock.schedule(config_.tick, guarded(alive_, [this] { on_tick(); }));
  if (stopped_ || !raft_) return;
  ++step_seq_;
  raft_->tick();
  process_ready();
}

bool RaftNode::handles(k::ApiKey key) {
  return key == k::RaftApiKey::Vote || key == k::RaftApiKey::BeginQuorumEpoch ||
         key == k::RaftApiKey::EndQuorumEpoch || key == k::RaftApiKey::FetchSnapshot ||
         key == k::ApiKey::Fetch;
}

namespace {
template <typename Req>
Result<Message> decode_request(Reader& body, int16_t version) {
  auto req = k::decode<Req>(body, version);
  if (!req.ok()) return req.status();
  return from_wire(*req);
}
}  // namespace

void RaftNode::handle(const k::RequestHeader& header, Reader& body, rpc::Responder responder) {
  if (stopped_ || !raft_) return responder.close_connection();
  Result<Message> m = error(Errc::invalid_argument, "no request decoded");
  Answer answer = Answer::vote;
  int16_t v = header.api_version;
  if (header.api_key == k::RaftApiKey::Vote) {
    m = decode_request<k::VoteRequest>(body, v);
  } else if (header.api_key == k::RaftApiKey::BeginQuorumEpoch) {
    m = decode_request<k::BeginQuorumEpochRequest>(body, v);
    answer = Answer::begin_quorum;
  } else if (header.api_key == k::RaftApiKey::EndQuorumEpoch) {
    m = decode_request<k::EndQuorumEpochRequest>(body, v);
    answer = Answer::end_quorum;
  } else if (header.api_key == k::RaftApiKey::FetchSnapshot) {
    m = decode_request<k::FetchSnapshotRequest>(body, v);
    answer = Answer::fetch_snapshot;
  } else if (header.api_key == k::ApiKey::Fetch) {
    m = decode_request<k::FetchRequest>(body, v);
    answer = Answer::fetch;
  } else {
    return responder.close_connection();
  }
  if (!m.ok()) {
    spdlog::warn("raft {}: unreadable {} request: {}", id(), k::api_name(header.api_key),
                 m.status());
    return responder.close_connection();
  }
  m->to = id();
  std::optional<FetchRequest> fetch;
  if (auto* f = std::get_if<FetchRequest>(&m->body)) fetch = *f;
  ++step_seq_;
  inbound_.push_back(Inbound{m->from, answer, step_seq_, std::move(responder), fetch, m->body});
  raft_->step(*m);
  process_ready();
}

int64_t RaftNode::propose(const std::vector<Bytes>& payloads) {
  if (stopped_ || !raft_) return -1;
  ++step_seq_;
  int64_t offset = raft_->propose(payloads);
  process_ready();
  return offset;
}

void RaftNode::resign() {
  if (stopped_ || !raft_) return;
  ++step_seq_;
  raft_->resign();
  process_ready();
}

void RaftNode::step(const Message& m) {
  if (stopped_ || !raft_) return;
  ++step_seq_;
  raft_->step(m);
  process_ready();
}

void RaftNode::process_ready() {
  if (stopped_ || persisting_ || !raft_ || !raft_->has_ready()) return;
  auto ready = std::make_shared<Ready>(raft_->take_ready());
  uint64_t seq = step_seq_;
  persisting_ = true;
  storage_->apply(*ready, guarded(alive_, [this, ready, seq](const Status& s) {
    persisting_ = false;
    if (!s.ok()) return fail(s);
    on_persisted(std::move(*ready), seq);
    process_ready();
  }));
}

void RaftNode::on_persisted(Ready ready, uint64_t seq_at_take) {
  if (stopped_) return;
  if (ready.snapshot) {
    // The leader's snapshot replaced the log: the owner's state is replaced too.
    applied_ = ready.snapshot->id.end_offset;
    last_snapshot_end_ = applied_;
    if (listener_.on_snapshot) listener_.on_snapshot(*ready.snapshot);
  }
  if (ready.high_watermark)
    exposed_high_watermark_ = std::max(exposed_high_watermark_, *ready.high_watermark);
  for (const Message& m : ready.messages) {
    std::optional<Answer> kind;
    if (std::holds_alternative<VoteResponse>(m.body)) kind = Answer::vote;
    if (std::holds_alternative<FetchResponse>(m.body)) kind = Answer::fetch;
    if (std::holds_alternative<FetchSnapshotResponse>(m.body)) kind = Answer::fetch_snapshot;
    if (!kind) {
      send_request(m);
      continue;
    }
    // The oldest request of that kind from that peer, stepped before this Ready was taken.
    auto it = std::find_if(inbound_.begin(), inbound_.end(), [&](const Inbound& in) {
      return in.from == m.to && in.answer == *kind && in.step_seq <= seq_at_take;
    });
    if (it == inbound_.end()) continue;  // its connection ended, or answered already
    answer(*it, &m.body);
    inbound_.erase(it);
  }
  // Requests of this Ready that the state machine answered with nothing get a plain answer.
  for (auto it = inbound_.begin(); it != inbound_.end();) {
    if (it->step_seq > seq_at_take) {
      ++it;
      continue;
    }
    answer(*it, nullptr);
    it = inbound_.erase(it);
  }
  // Only a durable epoch is traced: the state machine may already be at a newer one that a
  // later Ready still has to persist (a crash in between restarts at this Ready's epoch).
  int32_t durable_epoch = ready.hard_state   ? ready.hard_state->epoch
                          : last_epoch_ >= 0 ? last_epoch_
                                             : raft_->epoch();  // the first: the loaded epoch
  if (raft_->epoch() == durable_epoch &&
      (raft_->role() != last_role_ || raft_->epoch() != last_epoch_ ||
       raft_->leader_id() != last_leader_)) {
    last_role_ = raft_->role();
    last_epoch_ = raft_->epoch();
    last_leader_ = raft_->leader_id();
    env_.tracer.event("raft.state", TraceFields()
                                        .add("role", to_string(last_role_))
                                        .add("epoch", last_epoch_)
                                        .add("leader", last_leader_)
                                        .add("hw", exposed_high_watermark_));
    if (listener_.on_state_change) listener_.on_state_change();
  }
  deliver_committed();
  maybe_snapshot();
}

void RaftNode::deliver_committed() {
  const RaftLog& log = raft_->log();
  // A snapshot from the leader may be installed in memory but not yet durable: wait for it.
  if (applied_ < log.start_offset()) return;
  int64_t end = std::min(exposed_high_watermark_, log.end_offset());
  while (applied_ < end) {
    std::vector<Entry> entries = log.read(applied_, kDeliverEntriesMax);
    if (entries.empty()) break;
    if (entries.back().offset >= end) {
      entries.resize(static_cast<size_t>(end - applied_));
    }
    applied_ = entries.back().offset + 1;
    // One line per committed entry, so a checker can compare what every node delivers at each
    // offset (sim/check/raft_checks.h); metadata entries are few and small, the CRC is cheap.
    for (const Entry& e : entries)
      env_.tracer.event("raft.commit", TraceFields()
                                           .add("offset", e.offset)
                                           .add("epoch", e.epoch)
                                           .add("crc", crc32c(ByteView(e.payload))));
    if (listener_.on_committed) listener_.on_committed(entries);
    if (stopped_) return;
  }
}

void RaftNode::maybe_snapshot() {
  if (config_.snapshot_every_entries <= 0 || snapshotting_ || !listener_.snapshot_data) return;
  if (applied_ - last_snapshot_end_ < config_.snapshot_every_entries) return;
  if (applied_ <= raft_->log().start_offset()) return;
  int64_t end = applied_;
  Bytes data = listener_.snapshot_data(end);
  if (data.empty()) return;
  Snapshot snapshot{SnapshotId{end, raft_->log().epoch_at(end - 1)}, std::move(data)};
  snapshotting_ = true;
  auto shared = std::make_shared<Snapshot>(std::move(snapshot));
  storage_->save_snapshot(*shared, guarded(alive_, [this, shared](const Status& s) {
    snapshotting_ = false;
    if (!s.ok()) return fail(s);
    if (stopped_) return;
    // The log may have moved on (an installed snapshot): only compact
    // what the in-memory log still holds below it.
    if (shared->id.end_offset > raft_->log().start_offset() &&
        shared->id.end_offset <= raft_->log().end_offset()) {
      ++step_seq_;
      raft_->create_snapshot(shared->id.end_offset, shared->data);
      last_snapshot_end_ = shared->id.end_offset;
      env_.tracer.event("raft.snapshot", TraceFields().add("end_offset", shared->id.end_offset));
      process_ready();
    }
  }));
}

rpc::RpcChannel& RaftNode::channel(NodeId peer) {
  auto& ch = channels_[peer];
  if (!ch) {
    auto address = address_of(peer);
    GREGOR_ASSERT(address.has_value(), "raft {}: message to {}, who is not a voter", id(), peer);
    rpc::RpcChannelConfig cfg = config_.channel;
    cfg.client_id = fmt::format("raft-{}", id());
    ch = std::make_unique<rpc::RpcChannel>(env_, *address, cfg);
  }
  return *ch;
}

void RaftNode::send_request(const Message& m) {
  NodeId peer = m.to;
  if (!address_of(peer)) return;  // an observer's answer goes back on its own connection
  auto step_answer = [this, peer](MessageBody body) { step(Message{peer, id(), std::move(body)}); };
  auto guard = [this](auto f) { return guarded(alive_, std::move(f)); };
  const std::string& cluster = config_.cluster_id;
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, VoteRequest>) {
          channel(peer).send(to_wire(body, id(), cluster), kVoteVersion,
                             guard([step_answer](Result<k::VoteResponse> r) {
                               if (!r.ok()) return;
                               auto resp = from_wire(*r);
                               if (resp.ok()) step_answer(*resp);
                             }));
        } else if constexpr (std::is_same_v<T, BeginQuorumEpochRequest>) {
          channel(peer).send(to_wire(body, id(), cluster), kQuorumEpochVersion,
                             [](Result<k::BeginQuorumEpochResponse>) {});
        } else if constexpr (std::is_same_v<T, EndQuorumEpochRequest>) {
          channel(peer).send(to_wire(body, id(), cluster), kQuorumEpochVersion,
                             [](Result<k::EndQuorumEpochResponse>) {});
        } else if constexpr (std::is_same_v<T, FetchRequest>) {
          channel(peer).send(to_wire(body, id(), cluster), kRaftFetchVersion,
                             guard([this, step_answer, asked = body](Result<k::FetchResponse> r) {
                               if (!r.ok()) return;
                               auto resp = from_wire(*r, asked);
                               if (!resp.ok()) {
                                 spdlog::warn("raft {}: unreadable fetch answer: {}", id(),
                                              resp.status());
                                 return;
                               }
                               step_answer(*resp);
                             }));
        } else if constexpr (std::is_same_v<T, FetchSnapshotRequest>) {
          channel(peer).send(to_wire(body, id(), cluster), kFetchSnapshotVersion,
                             guard([step_answer](Result<k::FetchSnapshotResponse> r) {
                               if (!r.ok()) return;
                               auto resp = from_wire(*r);
                               if (resp.ok()) step_answer(*resp);
                             }));
        } else {
          GREGOR_ASSERT(false, "raft {}: {} is not a request", id(), to_string(m));
        }
      },
      m.body);
}

void RaftNode::answer(Inbound& in, const MessageBody* body) {
  int32_t epoch = raft_->epoch();
  NodeId leader = raft_->leader_id();
  switch (in.answer) {
    case Answer::vote: {
      VoteResponse resp{epoch, false, false};
      if (auto* req = std::get_if<VoteRequest>(&in.request)) resp.pre_vote = req->pre_vote;
      if (body) resp = std::get<VoteResponse>(*body);
      return in.responder.reply(to_wire(resp, leader));
    }
    case Answer::fetch: {
      FetchResponse resp;
      if (body) {
        resp = std::get<FetchResponse>(*body);
      } else {
        resp.epoch = epoch;
        resp.leader_id = leader;
        resp.error = FetchError::kNotLeader;
        if (in.fetch) {
          resp.fetch_offset = in.fetch->fetch_offset;
          resp.last_fetched_epoch = in.fetch->last_fetched_epoch;
        }
      }
      return in.responder.reply(to_wire(resp));
    }
    case Answer::fetch_snapshot: {
      FetchSnapshotResponse resp;
      if (body) {
        resp = std::get<FetchSnapshotResponse>(*body);
      } else {
        resp.epoch = epoch;
        resp.leader_id = leader;
        resp.error = FetchError::kNotLeader;
      }
      return in.responder.reply(to_wire(resp));
    }
    case Answer::begin_quorum: {
      k::BeginQuorumEpochResponse resp;
      resp.topics.push_back(quorum_epoch_result(epoch, leader));
      return in.responder.reply(resp);
    }
    case Answer::end_quorum: {
      k::EndQuorumEpochResponse resp;
      resp.topics.push_back(quorum_epoch_result(epoch, leader));
      return in.responder.reply(resp);
    }
  }
}

void RaftNode::fail(const Status& why) {
  spdlog::error("raft {}: metadata storage failed: {}", id(), why);
  env_.tracer.event("raft.storage_failed", TraceFields().add("why", why.message()));
  stop();
  if (env_.halt) env_.halt(why);
}

}  // namespace gregor::raft
