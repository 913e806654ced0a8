// Pieces shared by the counter's .cc files: the connection records and the lifetime guard.
#pragma once

#include <memory>

#include "base/guarded.h"
#include "sim/demo/counter_node.h"

namespace gregor::demo {

// Log record: u32 crc | u32 slot | u64 count | u64 index. The CRC covers slot, count and index;
// the index is the record's position in the file, so a write that lands in the wrong place fails
// its check instead of passing as a valid older record.
inline constexpr size_t kRecordBytes = 24;
inline constexpr size_t kLogBytesMax = 4 << 20;  // read at most this much at recovery
inline constexpr const char* kLogDir = "counter";
inline constexpr const char* kLogPath = "counter/log";
inline constexpr const char* kLogTmpPath = "counter/log.tmp";

struct CounterNode::Inbound {
  uint64_t id;
  net::ConnectionPtr conn;
  net::FrameReader reader;
  MonoTime last_heard{};
};

struct CounterNode::Peer {
  uint32_t index;
  net::Address address;
  net::ConnectionPtr conn;
  bool connecting = false;
  std::unique_ptr<net::FrameReader> reader;
  MonoTime last_heard{};
};

}  // namespace gregor::demo
