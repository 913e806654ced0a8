// The consumer-group APIs: FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
// OffsetCommit, OffsetFetch, DescribeGroups, ListGroups. Each decodes into the GroupManager's
// calls and encodes its answer in the request's version (fields a version lacks are dropped by
// the codec; the version rules that change meaning are handled here).
#include <fmt/format.h>

#include "node/broker/kafka_apis.h"

namespace gregor::broker {

using kafka::ErrorCode;
namespace k = kafka;

namespace {

// Kafka's GroupCoordinator member ids embed the client id; the wire needs a string, never null.
GroupClient client_of(const k::RequestHeader& h, const std::string& host) {
  return GroupClient{h.api_version, h.client_id.value_or(""), "/" + host};
}

}  // namespace

void KafkaApis::on(const k::RequestHeader& h, k::FindCoordinatorRequest req,
                   std::function<void(k::FindCoordinatorResponse)> done) {
  k::FindCoordinatorResponse resp;
  auto fail = [&](ErrorCode e, std::string message) {
    resp.error_code = code(e);
    resp.node_id = -1;
    if (h.api_version >= 1) resp.error_message = std::move(message);
    done(std::move(resp));
  };
  if (req.key_type != 0) {
    // Transactions are not served: there is no transaction coordinator to find.
    return fail(ErrorCode::invalid_request, "only group coordinators (key type 0) are served");
  }
  groups_.find_coordinator(req.key, [&](ErrorCode e, const BrokerImage* broker) {
    if (e != ErrorCode::none) return fail(e, std::string(k::error_name(e)));
    resp.error_message = std::nullopt;
    resp.node_id = broker->id;
    resp.host = broker->host;
    resp.port = broker->port;
    done(std::move(resp));
  });
}

void KafkaApis::on(const k::RequestHeader& h, k::JoinGroupRequest req,
                   std::function<void(k::JoinGroupResponse)> done) {
  // v0 has no rebalance timeout: the coordinator uses the session timeout (-1 marks it absent).
  if (h.api_version == 0) req.rebalance_timeout_ms = -1;
  groups_.join_group(req, client_of(h, client_host_), [done](JoinGroupResult r) {
    k::JoinGroupResponse resp;
    resp.error_code = code(r.error);
    resp.generation_id = r.generation_id;
    resp.protocol_name = r.protocol_name.value_or("");
    resp.leader = r.leader;
    resp.member_id = r.member_id;
    resp.members = std::move(r.members);
    done(std::move(resp));
  });
}

void KafkaApis::on(const k::RequestHeader&, k::SyncGroupRequest req,
                   std::function<void(k::SyncGroupResponse)> done) {
  groups_.sync_group(req, [done](SyncGroupResult r) {
    k::SyncGroupResponse resp;
    resp.error_code = code(r.error);
    resp.assignment = std::move(r.assignment);
    done(std::move(resp));
  });
}

void KafkaApis::on(const k::RequestHeader&, k::HeartbeatRequest req,
                   std::function<void(k::HeartbeatResponse)> done) {
  k::HeartbeatResponse resp;
  resp.error_code = code(groups_.heartbeat(req));
  done(std::move(resp));
}

void KafkaApis::on(const k::RequestHeader& h, k::LeaveGroupRequest req,
                   std::function<void(k::LeaveGroupResponse)> done) {
  done(groups_.leave_group(req, h.api_version));
}

void KafkaApis::on(const k::RequestHeader& h, k::OffsetCommitRequest req,
                   std::function<void(k::OffsetCommitResponse)> done) {
  groups_.commit_offsets(req, h.api_version, std::move(done));
}

void KafkaApis::on(const k::RequestHeader& h, k::OffsetFetchRequest req,
                   std::function<void(k::OffsetFetchResponse)> done) {
  done(groups_.fetch_offsets(req, h.api_version));
}

void KafkaApis::on(const k::RequestHeader&, k::DescribeGroupsRequest req,
                   std::function<void(k::DescribeGroupsResponse)> done) {
  k::DescribeGroupsResponse resp;
  for (const std::string& group_id : req.groups) {
    resp.groups.push_back(groups_.describe_group(group_id));
  }
  done(std::move(resp));
}

void KafkaApis::on(const k::RequestHeader&, k::ListGroupsRequest,
                   std::function<void(k::ListGroupsResponse)> done) {
  done(groups_.list_groups({}));
}

}  // namespace gregor::broker
