// Kafka record-batch compression codecs: the bytes after a v2 batch's record count are one
// compressed stream in the codec named by the low three bits of the batch attributes.
//
// Framings (what real clients put on the wire, so what we must read and should write):
//   gzip   RFC 1952 gzip members (zlib). decompress also accepts a zlib (RFC 1950) stream and
//          concatenated gzip members.
//   snappy decompress accepts both raw snappy (librdkafka, sarama) and snappy-java's "xerial"
//          framing (the Java client): magic 82 'S' 'N' 'A' 'P' 'P' 'Y' 00, version and
//          compatible-version as big-endian int32, then chunks of [u32 BE length][raw block].
//          compress writes xerial framing with 32 KiB chunks, like the Java producer, so our
//          batches have the shape Kafka's own clients write (and every known reader takes it).
//   lz4    the LZ4 frame format (LZ4F). compress writes 64 KiB blocks without checksums or
//          content size, and independent: Kafka's Java KafkaLZ4BlockInputStream decodes each
//          block alone, so linked blocks (LZ4F's default) would break Java consumers.
//   zstd   zstd frames; decompress streams with bounded output and accepts concatenated frames.
//
// Errors are values, never assertions, so untrusted bytes from the network or a damaged disk are
// safe to pass in:
//   Errc::corrupt          the compressed data is malformed or truncated
//   Errc::limit_exceeded   the decompressed size would pass out_bytes_max (decompression bombs
//                          are cut off after out_bytes_max + 1 bytes, never fully allocated)
//   Errc::invalid_argument an unknown codec id (the broker answers UNSUPPORTED_COMPRESSION_TYPE),
//                          or the compression library failed on compress
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/bytes.h"
#include "base/status.h"

namespace gregor::log {

// The codec ids of the batch attributes (bits 0..2). Ids 5..7 are unassigned.
enum class Compression : uint8_t { none = 0, gzip = 1, snappy = 2, lz4 = 3, zstd = 4 };

// True for the five codecs above; false for any other value cast into the enum.
bool is_known_compression(Compression codec);

// "none", "gzip", "snappy", "lz4", "zstd", or "unknown".
std::string_view compression_name(Compression codec);

// Compresses `in` as one stream in the codec's Kafka framing. Compression::none copies.
Result<Bytes> compress(Compression codec, ByteView in);

// Decompresses one stream, producing at most out_bytes_max bytes (Errc::limit_exceeded past it).
// Compression::none copies (subject to the same limit).
Result<Bytes> decompress(Compression codec, ByteView in, size_t out_bytes_max);

}  // namespace gregor::log
