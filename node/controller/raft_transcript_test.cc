// Golden interaction transcripts of the Raft state machine (etcd-raft's datadriven style): each
// tests/testdata/raft/*.txt file is a sequence of commands, each followed by `----` and the
// lines the cluster printed. This test replays every file and compares; run it with --rewrite
// (or GREGOR_REWRITE=1) to regenerate the expected output, then review the diff.
//
// Commands (ids are 1..N, then the observers; IDS is one id, a list such as 2,3, or all):
//   add-nodes N [observers=K] [pre-vote=off] [check-quorum=off] [election-timeout=T]
//             [fetch-max=K] [seed=S]   N voters 1..N; K observers N+1..N+K (not voters)
//   tick IDS [xK]           campaign ID        resign ID        propose ID "payload"
//   deliver [N]             delivers queued messages in order (N of them, or until none is left)
//   discard                 drops every queued message
//   drop A->B               blocks one direction of a link; isolate ID blocks all of a node's
//   heal                    unblocks every link
//   crash ID | restart ID   a crash keeps only what the node persisted
//   compact ID              snapshot at the node's high watermark, log truncated before it
//   status                  every node's role, epoch, high watermark, log range, applied data
//   log IDS                 the persisted snapshot id and entries
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "node/controller/raft_cluster.h"

namespace gregor::raft {
namespace {

namespace fs = std::filesystem;

struct Block {
  std::vector<std::string> preamble;  // comments and blank lines before the command
  std::string command;
  std::vector<std::string> expected;
};

std::vector<std::string> split_words(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  std::string w;
  while (in >> w) words.push_back(w);
  return words;
}

class Interpreter {
 public:
  std::vector<std::string> run(const std::string& command) {
    out_.clear();
    std::vector<std::string> w = split_words(command);
    const std::string& cmd = w.at(0);
    if (cmd == "add-nodes") {
      add_nodes(w);
    } else if (cmd == "tick") {
      int times = w.size() > 2 ? std::stoi(w[2].substr(1)) : 1;
      for (int i = 0; i < times; ++i) {
        for (NodeId id : ids(w.at(1))) {
          cluster_->tick(id);
          emit_lines("");
        }
      }
    } else if (cmd == "campaign") {
      cluster_->campaign(std::stoi(w.at(1)));
    } else if (cmd == "resign") {
      cluster_->resign(std::stoi(w.at(1)));
    } else if (cmd == "propose") {
      std::string payload = command.substr(command.find('"') + 1);
      payload = payload.substr(0, payload.rfind('"'));
      int64_t offset = cluster_->propose(std::stoi(w.at(1)), payload);
      emit_lines("");
      out_.push_back(offset < 0 ? "rejected: not the leader (or backlog full)"
                                : "proposed at offset " + std::to_string(offset));
    } else if (cmd == "deliver") {
      deliver(w.size() > 1 ? std::stoi(w[1]) : kDeliverMax);
    } else if (cmd == "discard") {
      for (const Message& m : queue_) out_.push_back(to_string(m) + " (discarded)");
      queue_.clear();
    } else if (cmd == "drop") {
      size_t arrow = w.at(1).find("->");
      blocked_.insert({std::stoi(w[1].substr(0, arrow)), std::stoi(w[1].substr(arrow + 2))});
    } else if (cmd == "isolate") {
      NodeId id = std::stoi(w.at(1));
      for (NodeId other = 1; other <= cluster_->size(); ++other) {
        if (other == id) continue;
        blocked_.insert({id, other});
        blocked_.insert({other, id});
      }
    } else if (cmd == "heal") {
      blocked_.clear();
    } else if (cmd == "crash") {
      cluster_->crash(std::stoi(w.at(1)));
    } else if (cmd == "restart") {
      cluster_->restart(std::stoi(w.at(1)));
    } else if (cmd == "compact") {
      if (!cluster_->compact(std::stoi(w.at(1)))) out_.push_back("nothing to compact");
    } else if (cmd == "status") {
      for (NodeId id = 1; id <= cluster_->size(); ++id) out_.push_back(cluster_->status_line(id));
      out_.push_back("queued messages: " + std::to_string(queue_.size()));
    } else if (cmd == "log") {
      for (NodeId id : ids(w.at(1))) out_.push_back(cluster_->log_line(id));
    } else {
      out_.push_back("unknown command: " + cmd);
    }
    after_command();
    if (out_.empty()) out_.push_back("ok");
    return out_;
  }

 private:
  static constexpr int kDeliverMax = 10000;  // a protocol that never quiesces is a bug

  void add_nodes(const std::vector<std::string>& w) {
    ClusterOptions o;
    o.nodes = std::stoi(w.at(1));
    o.election_timeout_ticks = 5;  // short timeouts keep transcripts short
    o.record_lines = true;
    for (size_t i = 2; i < w.size(); ++i) {
      std::string key = w[i].substr(0, w[i].find('='));
      std::string value = w[i].substr(w[i].find('=') + 1);
      if (key == "observers") o.observers = std::stoi(value);
      if (key == "pre-vote") o.pre_vote = value != "off";
      if (key == "check-quorum") o.check_quorum = value != "off";
      if (key == "election-timeout") o.election_timeout_ticks = std::stoi(value);
      if (key == "fetch-max") o.fetch_entries_max = std::stoul(value);
      if (key == "seed") o.seed = std::stoull(value);
    }
    cluster_ = std::make_unique<Cluster>(o);
  }

  std::vector<NodeId> ids(const std::string& word) const {
    std::vector<NodeId> out;
    if (word == "all") {
      for (NodeId id = 1; id <= cluster_->size(); ++id) out.push_back(id);
      return out;
    }
    std::istringstream in(word);  // 2 or 2,3
    std::string id;
    while (std::getline(in, id, ',')) out.push_back(std::stoi(id));
    return out;
  }

  void emit_lines(const std::string& indent) {
    for (const std::string& l : cluster_->take_lines()) out_.push_back(indent + l);
  }

  void after_command() {
    emit_lines("");
    for (Message& m : cluster_->take_outbox()) queue_.push_back(std::move(m));
    cluster_->check_invariants();
    emit_lines("");
  }

  void deliver(int max) {
    for (int n = 0; n < max && !queue_.empty(); ++n) {
      Message m = std::move(queue_.front());
      queue_.pop_front();
      if (blocked_.contains({m.from, m.to})) {
        out_.push_back(to_string(m) + " (dropped)");
        continue;
      }
      if (!cluster_->up(m.to)) {
        out_.push_back(to_string(m) + " (node down)");
        continue;
      }
      out_.push_back(to_string(m));
      cluster_->deliver(m);
      emit_lines("  ");
      for (Message& next : cluster_->take_outbox()) queue_.push_back(std::move(next));
      cluster_->check_invariants();
      emit_lines("  ");
    }
  }

  std::unique_ptr<Cluster> cluster_;
  std::deque<Message> queue_;
  std::set<std::pair<NodeId, NodeId>> blocked_;
  std::vector<std::string> out_;
};

std::vector<Block> parse(const fs::path& path) {
  std::ifstream in(path);
  std::vector<Block> blocks;
  Block b;
  std::string line;
  while (std::getline(in, line)) {
    if (b.command.empty()) {
      if (line.empty() || line[0] == '#') {
        b.preamble.push_back(line);
      } else {
        b.command = line;
        std::getline(in, line);
        EXPECT_EQ(line, "----") << path << ": after " << b.command;
        while (std::getline(in, line) && !line.empty()) b.expected.push_back(line);
        blocks.push_back(std::move(b));
        b = Block{};
      }
    }
  }
  if (!b.preamble.empty()) blocks.push_back(std::move(b));  // trailing comments
  return blocks;
}

bool rewrite_requested() {
  const char* env = std::getenv("GREGOR_REWRITE");
  if (env != nullptr && std::string(env) == "1") return true;
  for (const std::string& arg : ::testing::internal::GetArgvs()) {
    if (arg == "--rewrite") return true;
  }
  return false;
}

std::vector<std::string> transcript_files() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(GREGOR_RAFT_TESTDATA)) {
    if (e.path().extension() == ".txt") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class RaftTranscript : public ::testing::TestWithParam<std::string> {};

TEST_P(RaftTranscript, Matches) {
  fs::path path = fs::path(GREGOR_RAFT_TESTDATA) / (GetParam() + ".txt");
  std::vector<Block> blocks = parse(path);
  ASSERT_FALSE(blocks.empty()) << path;
  Interpreter interpreter;
  std::string rewritten;
  for (const Block& b : blocks) {
    for (const std::string& p : b.preamble) rewritten += p + "\n";
    if (b.command.empty()) continue;
    std::vector<std::string> actual = interpreter.run(b.command);
    rewritten += b.command + "\n----\n";
    for (const std::string& l : actual) rewritten += l + "\n";
    rewritten += "\n";
    for (const std::string& l : actual) {
      EXPECT_EQ(l.find("VIOLATION"), std::string::npos) << path << ": " << b.command << ": " << l;
    }
    if (!rewrite_requested()) {
      auto join = [](const std::vector<std::string>& v) {
        std::string s;
        for (const std::string& l : v) s += l + "\n";
        return s;
      };
      EXPECT_EQ(join(b.expected), join(actual)) << path << ": command `" << b.command << "`";
    }
  }
  if (rewrite_requested()) {
    while (rewritten.ends_with("\n\n")) rewritten.pop_back();
    std::ofstream(path) << rewritten;
  }
}

INSTANTIATE_TEST_SUITE_P(Files, RaftTranscript, ::testing::ValuesIn(transcript_files()),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace gregor::raft
