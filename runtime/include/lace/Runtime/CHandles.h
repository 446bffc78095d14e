//===- CHandles.h - What the C API's opaque handles hold ------------------===//
//
// Shared by the runtime's and the compiler's halves of lace.h; not part of
// the installed C API.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_RUNTIME_CHANDLES_H
#define LACE_RUNTIME_CHANDLES_H

#include "lace/Runtime/Error.h"
#include "lace/Runtime/KernelPlan.h"
#include "lace/lace.h"

struct lace_plan {
  lace::KernelPlan plan;
};

namespace lace::capi {

/// Records `error` as the calling thread's last error; returns LACE_ERROR.
lace_status fail(const Error &error);
/// fail() for a null pointer argument.
lace_status failNull(const char *function, const char *argument);

} // namespace lace::capi

#endif // LACE_RUNTIME_CHANDLES_H
