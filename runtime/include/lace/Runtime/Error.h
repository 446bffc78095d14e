//===- Error.h - Errors as values for the runtime -------------------------===//
//
// Every runtime stage (cache, NVRTC, driver, emulator) returns either a result
// or an Error that explains itself: a one-line message, optional details (a
// compile log, the options, the path) and the context it passed through.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_RUNTIME_ERROR_H
#define LACE_RUNTIME_ERROR_H

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace lace {

/// A failure: `message` is one lowercase line without a final period;
/// `details` is free-form text such as a compile log.
class Error {
public:
  explicit Error(std::string message, std::string details = {})
      : message_(std::move(message)), details_(std::move(details)) {}

  const std::string &message() const { return message_; }
  const std::string &details() const { return details_; }

  /// Prefixes the message with what was being done: "loading kernel: ...".
  Error &withContext(const std::string &context) {
    message_ = context + ": " + message_;
    return *this;
  }

  /// The message, then the details on the following lines.
  std::string str() const {
    return details_.empty() ? message_ : message_ + "\n" + details_;
  }

private:
  std::string message_;
  std::string details_;
};

/// Either a T or an Error. Test it before use: `if (!value) return
/// value.error();` and then `*value` or `value->`.
template <typename T> class [[nodiscard]] Expected {
public:
  Expected(T value) : storage_(std::in_place_index<0>, std::move(value)) {}
  Expected(Error error) : storage_(std::in_place_index<1>, std::move(error)) {}

  explicit operator bool() const { return storage_.index() == 0; }
  bool hasValue() const { return storage_.index() == 0; }

  T &operator*() & {
    assert(hasValue() && "dereferencing an Expected that holds an error");
    return std::get<0>(storage_);
  }
  const T &operator*() const & {
    assert(hasValue() && "dereferencing an Expected that holds an error");
    return std::get<0>(storage_);
  }
  T &&operator*() && {
    assert(hasValue() && "dereferencing an Expected that holds an error");
    return std::get<0>(std::move(storage_));
  }
  T *operator->() { return &**this; }
  const T *operator->() const { return &**this; }

  Error &error() & {
    assert(!hasValue() && "asking a successful Expected for its error");
    return std::get<1>(storage_);
  }
  const Error &error() const & {
    assert(!hasValue() && "asking a successful Expected for its error");
    return std::get<1>(storage_);
  }
  Error &&error() && {
    assert(!hasValue() && "asking a successful Expected for its error");
    return std::get<1>(std::move(storage_));
  }

private:
  std::variant<T, Error> storage_;
};

} // namespace lace

#endif // LACE_RUNTIME_ERROR_H
