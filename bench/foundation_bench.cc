// Foundation benchmarks: the empty scheduler's events per second, SimNetwork's bytes per second
// through one connection, and CRC32C beside memcpy on the same buffer. Ratios against baselines
// measured in the same process are printed at the end (see main.cc).
#include <benchmark/benchmark.h>

#include <cstring>

#include "base/crc32c.h"
#include "base/random.h"
#include "sim/scheduler.h"
#include "sim/sim_network.h"
#include "sim/world.h"

namespace gregor {
namespace {

Bytes random_buffer(size_t n) {
  Bytes b(n);
  Random r(1);
  for (auto& x : b) x = static_cast<uint8_t>(r.next_u64());
  return b;
}

void BM_Memcpy(benchmark::State& state) {
  Bytes src = random_buffer(static_cast<size_t>(state.range(0)));
  Bytes dst(src.size());
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), src.size());
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * src.size()));
}
BENCHMARK(BM_Memcpy)->Arg(64 << 10)->Arg(1 << 20);

void BM_Crc32c(benchmark::State& state) {
  Bytes src = random_buffer(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(crc32c(src));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * src.size()));
}
BENCHMARK(BM_Crc32c)->Arg(64 << 10)->Arg(1 << 20);

void BM_Crc32cSoftware(benchmark::State& state) {
  Bytes src = random_buffer(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(crc32c_software(0, src.data(), src.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * src.size()));
}
BENCHMARK(BM_Crc32cSoftware)->Arg(1 << 20);

// Schedules and runs no-op events, 1000 per iteration, 64 pending at a time.
void BM_SchedulerEmptyEvents(benchmark::State& state) {
  sim::Scheduler s;
  int64_t t = 0;
  for (int i = 0; i < 64; ++i) s.schedule(MonoTime(Duration(++t)), [] {});
  for (auto _ : state) {
    for (int i = 0; i < 1000; ++i) {
      s.schedule(MonoTime(Duration(t += 3)), [] {});
      s.run_next();
    }
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_SchedulerEmptyEvents);

// One connection between two simulated nodes; each iteration sends 64 chunks and runs the world
// until all of them arrived.
void BM_SimNetworkBytes(benchmark::State& state) {
  const size_t chunk = static_cast<size_t>(state.range(0));
  sim::World world(sim::World::Options{1, {}});
  sim::NodeId a = world.add_node("a"), b = world.add_node("b");
  sim::SimNetwork net(world);
  uint64_t received = 0;
  net::ConnectionPtr server, client;
  auto listener = net.endpoint(b).listen({"b", 1}, [&](net::ConnectionPtr c) {
    server = c;
    server->set_handlers({[&](ByteView d) { received += d.size(); }, [](const Status&) {}});
  });
  net.endpoint(a).connect({"b", 1}, [&](Result<net::ConnectionPtr> c) { client = *c; });
  world.run_until([&] { return client != nullptr; }, MonoTime(seconds(10)));
  client->set_handlers({[](ByteView) {}, [](const Status&) {}});
  Bytes payload(chunk, 0x5a);
  uint64_t sent = 0;
  for (auto _ : state) {
    for (int i = 0; i < 64; ++i) {
      client->send(payload);
      sent += chunk;
    }
    world.run_until([&] { return received == sent; }, world.now() + seconds(100));
  }
  state.SetBytesProcessed(static_cast<int64_t>(received));
}
BENCHMARK(BM_SimNetworkBytes)->Arg(1 << 10)->Arg(64 << 10);

}  // namespace
}  // namespace gregor
