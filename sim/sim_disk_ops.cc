// SimDisk: the namespace (directories, rename, remove), garbage collection of unreachable files
// and directories, and the inspection helpers.
#include <algorithm>
#include <set>
#include <utility>

#include "base/assert.h"
#include "sim/sim_disk.h"

namespace gregor::sim {

using simdisk::Dir;
using simdisk::DirOp;
using simdisk::Entry;
using simdisk::kRootDir;
using simdisk::Table;

namespace {
const Table& table_of(const Dir& d, bool durable) {
  return durable ? d.durable : d.current;
}
}  // namespace

Result<uint64_t> SimDisk::resolve_dir(const std::string& dir, View view) const {
  GREGOR_RETURN_IF_ERROR(disk::validate_path(dir, /*allow_root=*/true));
  uint64_t id = kRootDir;
  size_t start = 0;
  while (start < dir.size()) {
    size_t slash = std::min(dir.find('/', start), dir.size());
    auto d = dirs_.find(id);
    GREGOR_ASSERT(d != dirs_.end(), "directory {} referenced but gone", id);
    const Table& table = table_of(d->second, view == View::durable);
    auto it = table.find(dir.substr(start, slash - start));
    if (it == table.end()) return errorf(Errc::not_found, "no directory '{}'", dir);
    if (!it->second.is_dir) {
      return errorf(Errc::io_error, "'{}' is not a directory", dir.substr(0, slash));
    }
    id = it->second.id;
    start = slash + 1;
  }
  return id;
}

std::optional<Entry> SimDisk::lookup(const std::string& path, View view) const {
  if (!disk::validate_path(path).ok()) return std::nullopt;
  Result<uint64_t> parent = resolve_dir(disk::parent_dir(path), view);
  if (!parent.ok()) return std::nullopt;
  const Table& table = table_of(dirs_.at(*parent), view == View::durable);
  auto it = table.find(disk::base_name(path));
  if (it == table.end()) return std::nullopt;
  return it->second;
}

Status SimDisk::do_rename(const std::string& from, const std::string& to) {
  GREGOR_RETURN_IF_ERROR(disk::validate_path(from));
  GREGOR_RETURN_IF_ERROR(disk::validate_path(to));
  Result<uint64_t> from_dir = resolve_dir(disk::parent_dir(from));
  if (!from_dir.ok()) return from_dir.status();
  Result<uint64_t> to_dir = resolve_dir(disk::parent_dir(to));
  if (!to_dir.ok()) return to_dir.status();
  Dir& source = dirs_.at(*from_dir);
  Dir& target = dirs_.at(*to_dir);
  std::string from_name = disk::base_name(from);
  std::string to_name = disk::base_name(to);
  auto it = source.current.find(from_name);
  if (it == source.current.end()) return errorf(Errc::not_found, "no '{}' to rename", from);
  Entry moving = it->second;
  if (moving.is_dir && to.starts_with(from + "/")) {
    return errorf(Errc::io_error, "cannot move '{}' into itself ('{}')", from, to);
  }
  auto existing = target.current.find(to_name);
  if (existing != target.current.end()) {
    if (existing->second == moving) return Status::Ok();  // same file or directory: no-op
    if (existing->second.is_dir != moving.is_dir) {
      return errorf(Errc::io_error, "rename '{}' over '{}': file and directory", from, to);
    }
    if (existing->second.is_dir && !dirs_.at(existing->second.id).current.empty()) {
      return errorf(Errc::io_error, "rename over non-empty directory '{}'", to);
    }
  }
  if (*from_dir == *to_dir) {
    push_dir_op(source, DirOp{{{from_name, std::nullopt}, {to_name, moving}}});
  } else {
    // Two directories, two journal entries: each is durable with its own fsync_dir, so a crash
    // may leave the entry in both directories or in neither.
    push_dir_op(target, DirOp{{{to_name, moving}}});
    push_dir_op(source, DirOp{{{from_name, std::nullopt}}});
  }
  ++counters_.metadata_ops;
  world_.trace(owner_, "disk.rename", TraceFields().add("from", from).add("to", to));
  return Status::Ok();
}

Status SimDisk::do_remove(const std::string& path) {
  GREGOR_RETURN_IF_ERROR(disk::validate_path(path));
  Result<uint64_t> parent = resolve_dir(disk::parent_dir(path));
  if (!parent.ok()) return parent.status();
  Dir& dir = dirs_.at(*parent);
  std::string name = disk::base_name(path);
  auto it = dir.current.find(name);
  if (it == dir.current.end()) return errorf(Errc::not_found, "no '{}' to remove", path);
  if (it->second.is_dir && !dirs_.at(it->second.id).current.empty()) {
    return errorf(Errc::io_error, "directory '{}' is not empty", path);
  }
  push_dir_op(dir, DirOp{{{name, std::nullopt}}});
  ++counters_.metadata_ops;
  world_.trace(owner_, "disk.remove", TraceFields().add("path", path));
  return Status::Ok();
}

Status SimDisk::do_mkdir(const std::string& path) {
  GREGOR_RETURN_IF_ERROR(disk::validate_path(path));
  Result<uint64_t> parent = resolve_dir(disk::parent_dir(path));
  if (!parent.ok()) return parent.status();
  Dir& dir = dirs_.at(*parent);
  std::string name = disk::base_name(path);
  if (dir.current.contains(name)) return errorf(Errc::already_exists, "'{}' exists", path);
  uint64_t id = next_id_++;
  dirs_[id] = Dir{};
  push_dir_op(dir, DirOp{{{name, Entry{true, id}}}});
  ++counters_.metadata_ops;
  world_.trace(owner_, "disk.mkdir", TraceFields().add("path", path));
  return Status::Ok();
}

Result<std::vector<std::string>> SimDisk::do_list(const std::string& dir) {
  Result<uint64_t> id = resolve_dir(dir);
  if (!id.ok()) return id.status();
  std::vector<std::string> names;
  for (const auto& [name, entry] : dirs_.at(*id).current) {
    names.push_back(entry.is_dir ? name + "/" : name);
  }
  std::sort(names.begin(), names.end());  // the '/' suffix can reorder names
  return names;
}

Status SimDisk::do_fsync_dir(const std::string& dir) {
  Result<uint64_t> id = resolve_dir(dir);
  if (!id.ok()) return id.status();
  Dir& d = dirs_.at(*id);
  uint64_t ops = d.pending.size();
  d.durable = d.current;
  d.pending.clear();
  ++counters_.fsync_dirs;
  world_.trace(owner_, "disk.fsync_dir", TraceFields().add("dir", dir).add("ops", ops));
  // Entries dropped from both tables may have been the last reference to a file.
  if (ops > 0) collect_garbage(/*keep_open=*/true);
  return Status::Ok();
}

// Mark and sweep from the root through durable tables, current tables and pending entry ops
// (any of which a later crash may make the surviving one). With keep_open, files pinned by a
// handle survive too (unlinked but open, as POSIX keeps them).
void SimDisk::collect_garbage(bool keep_open) {
  std::set<uint64_t> dirs_seen;
  std::set<uint64_t> files_seen;
  std::vector<uint64_t> todo{kRootDir};
  auto mark = [&](const Entry& e) {
    if (e.is_dir) {
      todo.push_back(e.id);
    } else {
      files_seen.insert(e.id);
    }
  };
  while (!todo.empty()) {
    uint64_t id = todo.back();
    todo.pop_back();
    if (!dirs_seen.insert(id).second) continue;
    auto d = dirs_.find(id);
    GREGOR_ASSERT(d != dirs_.end(), "directory {} referenced but gone", id);
    for (const auto& [name, e] : d->second.durable) mark(e);
    for (const auto& [name, e] : d->second.current) mark(e);
    for (const DirOp& op : d->second.pending) {
      for (const auto& [name, e] : op.changes) {
        if (e) mark(*e);
      }
    }
  }
  std::erase_if(dirs_, [&](const auto& kv) { return !dirs_seen.contains(kv.first); });
  std::erase_if(inodes_, [&](const auto& kv) {
    return !files_seen.contains(kv.first) && !(keep_open && kv.second.use_count() > 1);
  });
  recount_bytes();
}

void SimDisk::recount_bytes() {
  current_bytes_ = 0;
  for (const auto& [id, f] : inodes_) current_bytes_ += f->current.size();
}

// Depth-first walk of one view of the namespace, in name order. Crashes that keep one half of a
// cross-directory rename can leave a directory reachable twice (even in a cycle): visit once.
std::vector<std::string> SimDisk::paths(bool durable) const {
  std::vector<std::string> out;
  std::set<uint64_t> seen;
  std::vector<std::pair<uint64_t, std::string>> todo{{kRootDir, ""}};
  while (!todo.empty()) {
    auto [id, prefix] = std::move(todo.back());
    todo.pop_back();
    if (!seen.insert(id).second) continue;
    for (const auto& [name, e] : table_of(dirs_.at(id), durable)) {
      out.push_back(prefix + name + (e.is_dir ? "/" : ""));
      if (e.is_dir) todo.emplace_back(e.id, prefix + name + "/");
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string SimDisk::path_of(uint64_t inode_id) const {
  for (const std::string& path : paths()) {
    std::optional<Entry> e = lookup(path, View::current);
    if (e && !e->is_dir && e->id == inode_id) return path;
  }
  return "<unlinked #" + std::to_string(inode_id) + ">";
}

std::optional<Bytes> SimDisk::durable_contents(const std::string& path) const {
  std::optional<Entry> e = lookup(path, View::durable);
  if (!e || e->is_dir) return std::nullopt;
  return inodes_.at(e->id)->durable;
}

std::optional<Bytes> SimDisk::current_contents(const std::string& path) const {
  std::optional<Entry> e = lookup(path, View::current);
  if (!e || e->is_dir) return std::nullopt;
  return inodes_.at(e->id)->current;
}

}  // namespace gregor::sim
