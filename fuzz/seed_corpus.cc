// Writes seed corpora for the fuzz targets: `seed_corpus DIR` fills DIR/request_decoder with one
// request frame (without its size prefix) per api and known version, from random messages of
// node/kafka/messages_testing.h, and DIR/record_batch with valid batches in every codec (each
// prefixed with the byte 0, which asks record_batch_fuzz to fix up length and CRC after
// mutation). Seeds let a million executions start from deep inside the decoders instead of
// rediscovering the formats.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "node/kafka/api.h"
#include "node/kafka/messages_testing.h"
#include "node/log/record_batch.h"

namespace {

using namespace gregor;

void write_file(const std::filesystem::path& path, ByteView bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  GREGOR_ASSERT(out.good(), "cannot write {}", path.string());
}

template <typename Request>
Request sample(int16_t version, uint64_t seed) {
  auto gen = rc::gen::exec([version] { return kafka::testing::random_message<Request>(version); });
  return gen(rc::Random(seed), 30).value();
}

void request_seeds(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  uint64_t seed = 1;
  for (const kafka::ApiInfo& api : kafka::kApis) {
    kafka::visit_api(api.key, [&](auto traits) {
      using Request = typename decltype(traits)::Request;
      for (int16_t v = 0; v <= Request::max_version; ++v) {
        for (int i = 0; i < 2; ++i) {
          kafka::RequestHeader header{
              .api_key = api.key, .api_version = v, .correlation_id = i, .client_id = "seed"};
          Bytes frame = kafka::encode_request_frame(header, sample<Request>(v, seed++)).value();
          write_file(dir / fmt::format("{}_v{}_{}", api.name, v, i), ByteView(frame).subspan(4));
        }
      }
      return 0;
    });
  }
}

void batch_seeds(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  using log::Compression;
  for (Compression codec : {Compression::none, Compression::gzip, Compression::snappy,
                            Compression::lz4, Compression::zstd}) {
    log::BatchBuilder builder(
        {.compression = codec, .producer_id = 7, .producer_epoch = 1, .base_sequence = 0});
    builder.add(1700000000000, as_bytes("key"), as_bytes("value"), {{"h", to_bytes("x")}});
    builder.add(1700000000100, std::nullopt, as_bytes(""));
    builder.add(1700000000200, as_bytes("k2"), std::nullopt);
    Bytes batch = builder.build().value();
    batch.insert(batch.begin(), 0);  // record_batch_fuzz: fix up length and CRC
    write_file(dir / fmt::format("batch_{}", log::compression_name(codec)), batch);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    fmt::print(stderr, "usage: seed_corpus DIR\n");
    return 2;
  }
  std::filesystem::path dir = argv[1];
  request_seeds(dir / "request_decoder");
  batch_seeds(dir / "record_batch");
  return 0;
}
