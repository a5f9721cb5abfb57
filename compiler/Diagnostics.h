/// \file One path for everything odlc reports to a user: errors are exceptions carrying one line
/// (what, where, what to do); the driver prints them as `odlc: error: ...` and exits with 1.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace odlc {

/// Why compilation stopped. Unsupported is a valid model that uses something odlc does not
/// implement (the conformance runner counts those separately from failures).
enum class ErrorKind { User, Unsupported, Internal };

class Error : public std::runtime_error {
public:
  Error(ErrorKind kind, const std::string &message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

private:
  ErrorKind kind_;
};

/// A problem with the user's input or flags.
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args &&...args) {
  throw Error(ErrorKind::User, fmt::format(format, std::forward<Args>(args)...));
}

/// A valid model using a feature odlc does not implement.
template <typename... Args>
[[noreturn]] void unsupported(fmt::format_string<Args...> format, Args &&...args) {
  throw Error(ErrorKind::Unsupported, fmt::format(format, std::forward<Args>(args)...));
}

/// A broken invariant inside odlc: reported, never a crash.
[[noreturn]] void internalError(const std::string &message, const char *file, int line);

} // namespace odlc

/// Asserts an invariant with a message; a failure becomes an internal-error diagnostic.
#define ODLC_ASSERT(cond, ...)                                                                     \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      ::odlc::internalError(fmt::format(__VA_ARGS__), __FILE__, __LINE__);                         \
  } while (0)
