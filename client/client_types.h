// Types shared by Gregor's Kafka client (producer, consumer, admin): topic-partitions, the
// configuration every client has, Kafka error classification, and the named limits of the client.
//
// Errors: seam and protocol failures are Status values with their Errc (connection_reset,
// timed_out, closed, corrupt...). A Kafka error code from a broker becomes kafka_status(code, ...):
// the Errc from kafka_errc() and a message starting with Kafka's error name, so a caller can print
// it as is; calls that report per-item results also carry the kafka::ErrorCode itself.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "net/network.h"
#include "node/kafka/error_code.h"

namespace gregor::client {

// --- Named limits -----------------------------------------------------------------------------
inline constexpr uint32_t kResponseBytesMax = 100 << 20;  // one response frame from a broker
inline constexpr size_t kRequestsInFlightMax = 1000;      // per connection, whatever the client
inline constexpr size_t kBootstrapServersMax = 100;       // entries of bootstrap_servers
inline constexpr size_t kTopicsPerRequestMax = 10000;     // topics in one admin request

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
  std::string to_string() const;  // "topic-3", as Kafka prints it
};

// The settings every client (producer, consumer, admin) has, with Kafka's names and defaults.
struct CommonConfig {
  // "host:port" of brokers to ask for the cluster's metadata first (bootstrap.servers).
  std::vector<std::string> bootstrap_servers;
  std::string client_id = "gregor";                    // client.id
  Duration request_timeout_ms = milliseconds(30000);   // request.timeout.ms
  Duration connection_setup_timeout_ms = seconds(10);  // socket.connection.setup.timeout.ms
  Duration reconnect_backoff_ms = milliseconds(50);    // reconnect.backoff.ms
  Duration retry_backoff_ms = milliseconds(100);       // retry.backoff.ms
  Duration metadata_max_age_ms = minutes(5);           // metadata.max.age.ms
  bool allow_auto_create_topics = true;                // allow.auto.create.topics
  uint32_t response_bytes_max = kResponseBytesMax;
};

// Parses bootstrap_servers; each entry may itself be a comma-separated list ("h1:9092,h2:9092").
// Errc::invalid_argument for an empty list, a bad entry, or more than kBootstrapServersMax.
Result<std::vector<net::Address>> parse_bootstrap_servers(const std::vector<std::string>& servers);

// Kafka's retriable errors (the Java client's RetriableException family): the request may
// succeed if sent again, perhaps after a metadata refresh.
bool is_retriable(kafka::ErrorCode code);
// Errors after which the client's metadata is stale (leader moved, topic created or deleted).
bool needs_metadata_refresh(kafka::ErrorCode code);
// An Errc for a Kafka error: timed_out for REQUEST_TIMED_OUT, not_found for unknown topics and
// producer ids, out_of_range for offsets and sequences, limit_exceeded for sizes, already_exists
// for TOPIC_ALREADY_EXISTS, io_error for storage errors, invalid_argument for the rest.
Errc kafka_errc(kafka::ErrorCode code);
// A Status for a Kafka error: "NOT_LEADER_OR_FOLLOWER: <context>". Asserts code != none.
Status kafka_status(kafka::ErrorCode code, std::string_view context);

}  // namespace gregor::client
