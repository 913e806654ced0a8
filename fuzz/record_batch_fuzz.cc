// libFuzzer target: the record batch v2 parser (node/log/record_batch.h) on arbitrary bytes.
// Random bytes almost never carry a valid CRC32C, which would stop every input at the checksum;
// so when the first input byte is even, the rest gets its batchLength and CRC fixed up before
// parsing, letting the fuzzer reach record framing and every decompressor. Checks: no crash or
// sanitizer report, and the validators agree with each other (strict passing implies stored
// passing and decode_records returning record_count records).
#include <cstddef>
#include <cstdint>

#include "node/log/record_batch.h"

namespace {

constexpr size_t kDecodedBytesMax = 4 << 20;  // bounds decompression per input

void check_batch(gregor::ByteView batch) {
  using namespace gregor::log;
  gregor::Status strict = validate_batch(batch, Validation::strict);
  gregor::Status shallow = validate_batch(batch, Validation::shallow);
  gregor::Status stored = validate_batch(batch, Validation::stored);
  gregor::Result<std::vector<Record>> records = decode_records(batch, kDecodedBytesMax);
  if (strict.ok()) {
    GREGOR_ASSERT(shallow.ok() && stored.ok(), "strict ok but shallow {} stored {}", shallow,
                  stored);
    if (records.ok()) {
      auto header = parse_batch_header(batch);
      GREGOR_ASSERT(header.ok(), "strict ok but header {}", header.status());
      GREGOR_ASSERT(records->size() == static_cast<size_t>(header->record_count),
                    "decoded {} records, header says {}", records->size(), header->record_count);
    } else {
      // Only the smaller decompression bound here may refuse what strict accepted.
      GREGOR_ASSERT(records.code() == gregor::Errc::limit_exceeded, "strict ok but decode {}",
                    records.status());
    }
  }
  if (shallow.ok()) GREGOR_ASSERT(stored.ok(), "shallow ok but stored {}", stored);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gregor;
  if (size == 0) return 0;
  const bool fix_up = data[0] % 2 == 0;
  Bytes batch(data + 1, data + size);
  if (fix_up && batch.size() >= log::kBatchHeaderBytes) {
    Writer(batch).patch_be<int32_t>(8, static_cast<int32_t>(batch.size() - log::kBatchLogOverhead));
    log::update_crc(batch);
  }
  check_batch(batch);
  // The same bytes as a stream of batches (a fetch response, a segment slice).
  log::BatchIterator it(batch);
  while (std::optional<ByteView> one = it.next()) {
    log::validate_batch(*one, log::Validation::shallow).ignore();
  }
  return 0;
}
