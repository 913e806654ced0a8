#include "disk/disk.h"

namespace gregor::disk {

Status validate_path(const std::string& path, bool allow_root) {
  if (path.empty()) {
    return allow_root ? Status::Ok() : error(Errc::invalid_argument, "empty path");
  }
  if (path.front() == '/') return errorf(Errc::invalid_argument, "absolute path '{}'", path);
  if (path.find('\0') != std::string::npos)
    return errorf(Errc::invalid_argument, "NUL in path '{}'", path);
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string_view part(path.data() + start, end - start);
    if (part.empty() || part == "." || part == "..")
      return errorf(Errc::invalid_argument, "bad path '{}': empty, '.' or '..' component", path);
    start = end + 1;
  }
  return Status::Ok();
}

std::string parent_dir(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

std::string base_name(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace gregor::disk
