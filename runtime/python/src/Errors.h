//===- Errors.h - Lace's errors as Python's lace.Error --------------------===//
//
// Every lace::Error that reaches Python is raised as lace.Error carrying the
// whole text (the message, then the details: a pattern's file:line:col
// diagnostics with their carets, a compile log).
//
//===----------------------------------------------------------------------===//
#ifndef LACE_PYTHON_ERRORS_H
#define LACE_PYTHON_ERRORS_H

#include "lace/Runtime/Error.h"

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace lace::python {

/// Registered with pybind11 as lace.Error.
class LaceError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] inline void raise(const Error &error) {
  throw LaceError(error.str());
}
[[noreturn]] inline void raise(const std::string &message) {
  throw LaceError(message);
}

inline void check(const std::optional<Error> &error) {
  if (error)
    raise(*error);
}

template <typename T> T unwrap(Expected<T> value) {
  if (!value)
    raise(value.error());
  return std::move(*value);
}

} // namespace lace::python

#endif // LACE_PYTHON_ERRORS_H
