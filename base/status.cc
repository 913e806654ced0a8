#include "base/status.h"

#include <ostream>

namespace gregor {

std::string_view errc_name(Errc code) {
  switch (code) {
    case Errc::ok:
      return "ok";
    case Errc::invalid_argument:
      return "invalid_argument";
    case Errc::not_found:
      return "not_found";
    case Errc::already_exists:
      return "already_exists";
    case Errc::out_of_range:
      return "out_of_range";
    case Errc::corrupt:
      return "corrupt";
    case Errc::closed:
      return "closed";
    case Errc::cancelled:
      return "cancelled";
    case Errc::timed_out:
      return "timed_out";
    case Errc::limit_exceeded:
      return "limit_exceeded";
    case Errc::io_error:
      return "io_error";
    case Errc::no_space:
      return "no_space";
    case Errc::connection_refused:
      return "connection_refused";
    case Errc::connection_reset:
      return "connection_reset";
    case Errc::unreachable:
      return "unreachable";
    case Errc::address_in_use:
      return "address_in_use";
  }
  return "unknown";
}

std::string Status::to_string() const {
  if (ok()) return "ok";
  if (message_.empty()) return std::string(errc_name(code_));
  return fmt::format("{}: {}", errc_name(code_), message_);
}

std::ostream& operator<<(std::ostream& os, const Status& status) {
  return os << status.to_string();
}

}  // namespace gregor
