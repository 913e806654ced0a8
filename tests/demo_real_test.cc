// Proves the demo counter runs unchanged on the production backends: three nodes on real TCP
// (127.0.0.1) with POSIX files and the real clock, one epoll loop. Increments are acknowledged,
// the nodes converge, and a node torn down and started again recovers its state from its files.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "base/trace.h"
#include "disk/posix_disk.h"
#include "net/event_loop.h"
#include "net/tcp_network.h"
#include "sim/demo/counter_client.h"
#include "sim/demo/counter_node.h"

namespace gregor {
namespace {

constexpr int kNodes = 3;
constexpr Duration kTimeout = seconds(20);

class DemoRealTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loop_ = std::move(net::EventLoop::create()).value();
    clock_ = std::make_unique<net::RealClock>(*loop_);
    network_ = std::make_unique<net::TcpNetwork>(*loop_);
    random_ = std::make_unique<Random>(net::os_random_seed());
    char tmpl[] = "/tmp/gregor-demo-real-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    // Free ports: bind port 0, note the port, release it (listeners set SO_REUSEADDR).
    for (int i = 0; i < kNodes; ++i) {
      auto l = network_->listen({"127.0.0.1", 0}, [](net::ConnectionPtr) {});
      ASSERT_TRUE(l.ok()) << l.status();
      addresses_.push_back((*l)->address());
    }
    for (int i = 0; i < kNodes; ++i) {
      std::string dir = root_ + "/n" + std::to_string(i);
      std::filesystem::create_directory(dir);
      disks_.push_back(std::move(disk::PosixDisk::create(*loop_, dir)).value());
      envs_.push_back(std::make_unique<Env>(
          Env{*clock_, *random_, *network_, *disks_[i], tracer_, "n" + std::to_string(i)}));
    }
  }
  void TearDown() override {
    client_.reset();
    nodes_.clear();
    loop_->run_until([] { return false; }, milliseconds(50));  // let posted completions drain
    std::filesystem::remove_all(root_);
  }

  void start_node(int i) {
    demo::CounterConfig config{.self = static_cast<uint32_t>(i), .nodes = addresses_};
    config.tick_interval = milliseconds(20);
    nodes_[i] = std::make_unique<demo::CounterNode>(*envs_[i], config);
    ASSERT_TRUE(nodes_[i]->start_status().ok()) << nodes_[i]->start_status();
  }
  bool converged() {
    for (auto& n : nodes_)
      if (!n || !n->ready() || n->counts() != nodes_[0]->counts()) return false;
    return true;
  }

  std::unique_ptr<net::EventLoop> loop_;
  std::unique_ptr<net::RealClock> clock_;
  std::unique_ptr<net::TcpNetwork> network_;
  std::unique_ptr<Random> random_;
  NullTracer tracer_;
  std::string root_;
  std::vector<net::Address> addresses_;
  std::vector<std::unique_ptr<disk::PosixDisk>> disks_;
  std::vector<std::unique_ptr<Env>> envs_;
  std::vector<std::unique_ptr<demo::CounterNode>> nodes_{kNodes};
  demo::CounterHistory history_;
  // The client's Env outlives the client (TearDown destroys the client, which still uses it).
  std::unique_ptr<Env> client_env_;
  std::unique_ptr<demo::CounterClient> client_;
};

TEST_F(DemoRealTest, CounterOnTcpAndPosixFilesSurvivesRestart) {
  for (int i = 0; i < kNodes; ++i) start_node(i);
  ASSERT_TRUE(loop_->run_until([&] { return converged(); }, kTimeout)) << "nodes never ready";

  client_env_ =
      std::make_unique<Env>(Env{*clock_, *random_, *network_, *disks_[0], tracer_, "client"});
  demo::CounterClientConfig cc{.client = 0, .nodes = addresses_};
  cc.think_min = Duration::zero();
  cc.think_max = milliseconds(1);
  client_ = std::make_unique<demo::CounterClient>(*client_env_, cc, &history_);
  auto acked = [&] {
    return std::count_if(history_.ops.begin(), history_.ops.end(),
                         [](auto& op) { return op.outcome == demo::CounterOp::Outcome::ok; });
  };
  ASSERT_TRUE(loop_->run_until([&] { return acked() >= 60; }, kTimeout));
  client_->stop();
  ASSERT_TRUE(loop_->run_until([&] { return client_->idle() && converged(); }, kTimeout));
  for (auto& op : history_.ops) EXPECT_EQ(op.outcome, demo::CounterOp::Outcome::ok);
  uint64_t total = nodes_[0]->total();
  EXPECT_EQ(total, history_.ops.size());

  // Tear node 1 down and start it again from its files: it must come back with the same state
  // from its own log (no peer needed), and the cluster converges again.
  std::vector<uint64_t> before = nodes_[1]->counts();
  nodes_[1].reset();
  loop_->run_until([] { return false; }, milliseconds(100));
  start_node(1);
  ASSERT_TRUE(loop_->run_until([&] { return nodes_[1]->ready(); }, kTimeout));
  EXPECT_EQ(nodes_[1]->counts(), before);
  ASSERT_TRUE(loop_->run_until([&] { return converged(); }, kTimeout));
  EXPECT_EQ(nodes_[1]->total(), total);
  EXPECT_TRUE(std::filesystem::exists(root_ + "/n1/counter/log"));
}

}  // namespace
}  // namespace gregor
