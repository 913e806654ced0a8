// Internals shared by the group coordinator's .cc files (not an API): the guard that runs the
// answers decided inside a call once it returns, and small answer builders.
#pragma once

#include <string>

#include "node/broker/group_coordinator.h"

namespace gregor::broker {

// Answers decided inside a call are queued and run when the outermost call returns, so a callback
// never observes a half-updated group and may itself call into the coordinator.
class GroupCoordinator::FlushGuard {
 public:
  explicit FlushGuard(GroupCoordinator& c) : c_(c) { ++c_.flush_depth_; }
  ~FlushGuard() {
    if (--c_.flush_depth_ == 0) c_.flush();
  }
  FlushGuard(const FlushGuard&) = delete;
  FlushGuard& operator=(const FlushGuard&) = delete;

 private:
  GroupCoordinator& c_;
};

namespace group_internal {

inline bool valid_group_id(const std::string& group_id) {
  return !group_id.empty() && group_id.size() <= kGroupIdBytesMax;
}

inline JoinGroupResult join_error(std::string member_id, kafka::ErrorCode error) {
  JoinGroupResult r;
  r.error = error;
  r.member_id = std::move(member_id);
  return r;
}

inline SyncGroupResult sync_error(kafka::ErrorCode error) {
  SyncGroupResult r;
  r.error = error;
  return r;
}

}  // namespace group_internal

}  // namespace gregor::broker
