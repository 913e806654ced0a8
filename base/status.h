// Status and Result<T>: operating errors as typed values. Every seam call (disk, network) reports
// failure through these; callers branch on the code, humans read the message.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "base/assert.h"

namespace gregor {

enum class Errc : uint8_t {
  ok = 0,
  // generic
  invalid_argument,
  not_found,
  already_exists,
  out_of_range,
  corrupt,    // data failed validation (CRC, framing)
  closed,     // the object was closed by its owner
  cancelled,  // the operation was abandoned (for example by a crash)
  timed_out,
  limit_exceeded,  // a named limit was hit (queue, batch, request size)
  // disk
  io_error,  // EIO: read error, failed fsync
  no_space,  // ENOSPC or quota
  // network
  connection_refused,
  connection_reset,
  unreachable,
  address_in_use,
};

std::string_view errc_name(Errc code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Errc code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return {}; }

  bool ok() const { return code_ == Errc::ok; }
  Errc code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string to_string() const;
  // Marks a status as deliberately dropped, for call sites where failure changes nothing.
  void ignore() const {}

 private:
  Errc code_ = Errc::ok;
  std::string message_;
};

// For test failure messages and logs.
std::ostream& operator<<(std::ostream& os, const Status& status);

inline Status error(Errc code, std::string message) {
  return Status(code, std::move(message));
}

template <typename... Args>
Status errorf(Errc code, fmt::format_string<Args...> f, Args&&... args) {
  return Status(code, fmt::format(f, std::forward<Args>(args)...));
}

// Result<T>: a value or a non-ok Status (std::expected is C++23).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    GREGOR_ASSERT(!std::get<Status>(v_).ok(), "Result built from an ok Status");
  }

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    GREGOR_ASSERT(ok(), "value() of failed Result: {}", status().to_string());
    return std::get<0>(v_);
  }
  const T& value() const& {
    GREGOR_ASSERT(ok(), "value() of failed Result: {}", status().to_string());
    return std::get<0>(v_);
  }
  T&& value() && {
    GREGOR_ASSERT(ok(), "value() of failed Result: {}", status().to_string());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  Status status() const { return ok() ? Status::Ok() : std::get<1>(v_); }
  Errc code() const { return ok() ? Errc::ok : std::get<1>(v_).code(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace gregor

template <>
struct fmt::formatter<gregor::Status> : fmt::formatter<std::string> {
  auto format(const gregor::Status& s, format_context& ctx) const {
    return fmt::formatter<std::string>::format(s.to_string(), ctx);
  }
};

// Propagates a non-ok Status out of the calling function.
#define GREGOR_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::gregor::Status gregor_status_ = (expr);        \
    if (!gregor_status_.ok()) return gregor_status_; \
  } while (0)
