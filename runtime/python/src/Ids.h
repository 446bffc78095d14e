//===- Ids.h - Python's integers as the runtime's 32-bit ids --------------===//
#ifndef LACE_PYTHON_IDS_H
#define LACE_PYTHON_IDS_H

#include "Errors.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lace::python {

/// Segment ids or offsets from Python as int32; raises lace.Error naming
/// `what` for a value that does not fit.
inline std::vector<std::int32_t>
int32Ids(const std::vector<std::int64_t> &values, const char *what) {
  std::vector<std::int32_t> out;
  out.reserve(values.size());
  for (std::int64_t v : values) {
    if (v < INT32_MIN || v > INT32_MAX)
      raise(std::string(what) + ": " + std::to_string(v) +
            " does not fit in 32 bits");
    out.push_back(static_cast<std::int32_t>(v));
  }
  return out;
}

} // namespace lace::python

#endif // LACE_PYTHON_IDS_H
