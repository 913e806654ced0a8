// gregor_bench: Google Benchmark with a reporter that also prints ratios of each benchmark to
// its baseline measured in the same process (CRC32C against memcpy of the same buffer), so the
// figures compare across machines.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <string>

namespace {

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      auto it = r.counters.find("bytes_per_second");
      if (it != r.counters.end()) bytes_per_s_[r.benchmark_name()] = it->second.value;
    }
  }
  void print_ratios() const {
    const std::pair<const char*, const char*> pairs[] = {
        {"BM_Crc32c/65536", "BM_Memcpy/65536"},
        {"BM_Crc32c/1048576", "BM_Memcpy/1048576"},
        {"BM_Crc32cSoftware/1048576", "BM_Memcpy/1048576"},
    };
    std::printf("\nratios (same process, same buffer):\n");
    for (auto [name, base] : pairs) {
      auto a = bytes_per_s_.find(name), b = bytes_per_s_.find(base);
      if (a == bytes_per_s_.end() || b == bytes_per_s_.end() || b->second == 0) continue;
      std::printf("  %-28s %7.2f GB/s  vs %-20s %7.2f GB/s  ratio %.2f\n", name, a->second / 1e9,
                  base, b->second / 1e9, a->second / b->second);
    }
  }

 private:
  std::map<std::string, double> bytes_per_s_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_ratios();
  benchmark::Shutdown();
  return 0;
}
