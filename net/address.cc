#include <charconv>

#include "net/network.h"

namespace gregor::net {

std::string Address::to_string() const {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

Result<Address> Address::parse(std::string_view text) {
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return errorf(Errc::invalid_argument, "bad address '{}': expected [host]:port", text);
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
      return errorf(Errc::invalid_argument, "bad address '{}': expected host:port", text);
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty()) return errorf(Errc::invalid_argument, "bad address '{}': empty host", text);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value > 65535 || port.empty())
    return errorf(Errc::invalid_argument, "bad address '{}': port must be 0-65535", text);
  return Address{std::string(host), static_cast<uint16_t>(value)};
}

}  // namespace gregor::net
