#include "cli/dump_log_command.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

#include "node/log/checkpoint_file.h"
#include "node/log/compression.h"
#include "node/log/record_batch.h"

namespace gregor::cli {
namespace {

namespace fs = std::filesystem;
using namespace gregor::log;

// Refuse to slurp anything larger than a segment can reasonably be.
constexpr uintmax_t kDumpFileBytesMax = uintmax_t{4} << 30;

struct DumpArgs {
  std::string path;
  bool print_data = false;
};

Result<Bytes> read_file(const fs::path& path) {
  std::error_code ec;
  uintmax_t size = fs::file_size(path, ec);
  if (ec) return errorf(Errc::not_found, "{}: {}", path.string(), ec.message());
  if (size > kDumpFileBytesMax) return errorf(Errc::limit_exceeded, "{}: too large", path.string());
  std::ifstream in(path, std::ios::binary);
  if (!in) return errorf(Errc::io_error, "{}: cannot open", path.string());
  Bytes data(static_cast<size_t>(size));
  in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(size));
  if (!in) return errorf(Errc::io_error, "{}: short read", path.string());
  return data;
}

std::string printable(const std::optional<Bytes>& b) {
  if (!b) return "null";
  std::string s;
  for (uint8_t c : *b) s += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '.';
  return s;
}

void print_records(ByteView batch, const BatchHeader& h) {
  auto records = decode_records(batch);
  if (!records.ok()) {
    std::cout << fmt::format("| records unreadable: {}\n", records.status().message());
    return;
  }
  int32_t seq = h.base_sequence;
  for (const Record& r : *records) {
    std::string headers;
    for (auto& hd : r.headers) headers += (headers.empty() ? "" : ",") + hd.key;
    std::cout << fmt::format(
        "| offset: {} {}: {} keySize: {} valueSize: {} sequence: {} headerKeys: [{}] key: {} "
        "payload: {}\n",
        r.offset,
        h.timestamp_type() == TimestampType::log_append_time ? "LogAppendTime" : "CreateTime",
        r.timestamp, r.key ? static_cast<int64_t>(r.key->size()) : -1,
        r.value ? static_cast<int64_t>(r.value->size()) : -1,
        seq < 0 ? -1 : seq + static_cast<int32_t>(r.offset - h.base_offset), headers,
        printable(r.key), printable(r.value));
  }
}

// Returns false if any batch failed its CRC or trailing bytes were invalid.
bool dump_segment(const fs::path& path, bool print_data) {
  auto data = read_file(path);
  if (!data.ok()) {
    std::cout << fmt::format("{}\n", data.status().message());
    return false;
  }
  std::cout << fmt::format("Dumping {}\n", path.string());
  bool all_valid = true;
  size_t position = 0;
  ByteView rest(*data);
  while (auto size = peek_batch_size(rest)) {
    if (*size > rest.size() || *size < kBatchHeaderBytes) break;
    ByteView batch = rest.first(*size);
    auto h = parse_batch_header(batch);
    if (!h.ok()) break;
    Status valid = validate_batch(batch, Validation::stored);
    all_valid &= valid.ok();
    std::cout << fmt::format(
        "baseOffset: {} lastOffset: {} count: {} baseSequence: {} lastSequence: {} producerId: "
        "{} producerEpoch: {} partitionLeaderEpoch: {} isTransactional: {} isControl: {} "
        "position: {} {}: {} size: {} magic: {} compresscodec: {} crc: {} isvalid: {}\n",
        h->base_offset, h->last_offset(), h->record_count, h->base_sequence, h->last_sequence(),
        h->producer_id, h->producer_epoch, h->partition_leader_epoch, h->is_transactional(),
        h->is_control(), position,
        h->timestamp_type() == TimestampType::log_append_time ? "LogAppendTime" : "CreateTime",
        h->max_timestamp, *size, h->magic, compression_name(h->compression()), h->crc, valid.ok());
    if (print_data && valid.ok()) print_records(batch, *h);
    position += *size;
    rest = rest.subspan(*size);
  }
  if (!rest.empty()) {
    std::cout << fmt::format("Found {} invalid bytes at the end of {}\n", rest.size(),
                             path.filename().string());
    all_valid = false;
  }
  return all_valid;
}

bool dump_checkpoint(const fs::path& path) {
  auto data = read_file(path);
  if (!data.ok()) return false;
  auto entries = CheckpointFile::decode(*data);
  std::cout << fmt::format("Dumping {}\n", path.string());
  if (!entries.ok()) {
    std::cout << fmt::format("invalid checkpoint: {}\n", entries.status().message());
    return false;
  }
  for (auto& [key, value] : *entries) std::cout << fmt::format("{} {}\n", key, value);
  return true;
}

int run_dump(const DumpArgs& args) {
  std::error_code ec;
  fs::path path(args.path);
  if (!fs::exists(path, ec)) {
    std::cerr << fmt::format("gregor dump-log: {} does not exist\n", args.path);
    return 2;
  }
  std::vector<fs::path> files;
  if (fs::is_directory(path, ec)) {
    for (auto& entry : fs::directory_iterator(path, ec)) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(path);
  }
  bool ok = true;
  for (const fs::path& f : files) {
    std::string ext = f.extension().string();
    if (ext == ".log") {
      ok &= dump_segment(f, args.print_data);
    } else if (f.filename() == "partition.checkpoint" ||
               f.filename() == "leader-epoch-checkpoint") {
      ok &= dump_checkpoint(f);
    } else if (files.size() == 1) {
      std::cerr << fmt::format("gregor dump-log: {}: not a segment (.log) or checkpoint\n",
                               f.string());
      return 2;
    }
  }
  return ok ? 0 : 1;
}

}  // namespace

void add_dump_log_command(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<DumpArgs>();
  CLI::App* cmd = app.add_subcommand(
      "dump-log", "Print the batches of a segment file or of every file in a partition directory");
  cmd->add_option("path", args->path, "A .log segment file or a partition directory")->required();
  cmd->add_flag("--print-data-log", args->print_data, "Also print every record");
  cmd->callback([args, exit_code] { *exit_code = run_dump(*args); });
}

}  // namespace gregor::cli
