#include "client/client_types.h"

#include <fmt/format.h>

namespace gregor::client {

using kafka::ErrorCode;

std::string TopicPartition::to_string() const {
  return fmt::format("{}-{}", topic, partition);
}

Result<std::vector<net::Address>> parse_bootstrap_servers(const std::vector<std::string>& servers) {
  std::vector<net::Address> out;
  for (const std::string& entry : servers) {
    std::string_view rest = entry;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view item = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
      if (item.empty()) continue;
      auto address = net::Address::parse(item);
      if (!address.ok()) {
        return errorf(Errc::invalid_argument, "bootstrap server: {}", address.status().message());
      }
      if (address->port == 0) {
        return errorf(Errc::invalid_argument, "bootstrap server '{}': port 0", item);
      }
      out.push_back(std::move(address).value());
      if (out.size() > kBootstrapServersMax) {
        return errorf(Errc::invalid_argument, "more than {} bootstrap servers",
                      kBootstrapServersMax);
      }
    }
  }
  if (out.empty()) return error(Errc::invalid_argument, "no bootstrap servers given");
  return out;
}

bool is_retriable(ErrorCode code) {
  switch (code) {
    case ErrorCode::corrupt_message:
    case ErrorCode::unknown_topic_or_partition:
    case ErrorCode::leader_not_available:
    case ErrorCode::not_leader_or_follower:
    case ErrorCode::request_timed_out:
    case ErrorCode::not_enough_replicas:
    case ErrorCode::not_enough_replicas_after_append:
    case ErrorCode::kafka_storage_error:
    case ErrorCode::fenced_leader_epoch:
    case ErrorCode::unknown_leader_epoch:
    case ErrorCode::broker_not_available:
    case ErrorCode::replica_not_available:
    case ErrorCode::coordinator_load_in_progress:
    case ErrorCode::coordinator_not_available:
    case ErrorCode::not_coordinator:
    case ErrorCode::not_controller:
    case ErrorCode::preferred_leader_not_available:
      return true;
    default:
      return false;
  }
}

bool needs_metadata_refresh(ErrorCode code) {
  switch (code) {
    case ErrorCode::unknown_topic_or_partition:
    case ErrorCode::leader_not_available:
    case ErrorCode::not_leader_or_follower:
    case ErrorCode::fenced_leader_epoch:
    case ErrorCode::unknown_leader_epoch:
    case ErrorCode::broker_not_available:
    case ErrorCode::replica_not_available:
    case ErrorCode::not_controller:
    case ErrorCode::kafka_storage_error:
      return true;
    default:
      return false;
  }
}

Errc kafka_errc(ErrorCode code) {
  switch (code) {
    case ErrorCode::none:
      return Errc::ok;
    case ErrorCode::request_timed_out:
      return Errc::timed_out;
    case ErrorCode::unknown_topic_or_partition:
    case ErrorCode::unknown_producer_id:
    case ErrorCode::unknown_topic_id:
    case ErrorCode::group_id_not_found:
      return Errc::not_found;
    case ErrorCode::offset_out_of_range:
    case ErrorCode::out_of_order_sequence_number:
      return Errc::out_of_range;
    case ErrorCode::message_too_large:
    case ErrorCode::record_list_too_large:
      return Errc::limit_exceeded;
    case ErrorCode::topic_already_exists:
      return Errc::already_exists;
    case ErrorCode::kafka_storage_error:
      return Errc::io_error;
    case ErrorCode::corrupt_message:
      return Errc::corrupt;
    default:
      return Errc::invalid_argument;
  }
}

Status kafka_status(ErrorCode code, std::string_view context) {
  GREGOR_ASSERT(code != ErrorCode::none, "kafka_status of NONE");
  return Status(kafka_errc(code), fmt::format("{}: {}", kafka::error_name(code), context));
}

}  // namespace gregor::client
