//===- LaceC.cpp - The runtime half of the C API --------------------------===//
#include "lace/Runtime/CHandles.h"
#include "lace/Runtime/FunctionRef.h"
#include "lace/Runtime/Runtime.h"

#include <memory>
#include <string>
#include <utility>

struct lace_runtime {
  std::unique_ptr<lace::Runtime> runtime;
};

struct lace_kernel {
  std::shared_ptr<const lace::Kernel> kernel;
};

struct lace_documents {
  std::shared_ptr<const lace::DocumentLayout> documents;
};

namespace lace::capi {

namespace {
thread_local std::string lastError;
} // namespace

lace_status fail(const Error &error) {
  lastError = error.str();
  return LACE_ERROR;
}

lace_status failNull(const char *function, const char *argument) {
  return fail(Error(std::string(function) + ": " + argument + " is null"));
}

} // namespace lace::capi

using lace::capi::fail;
using lace::capi::failNull;

extern "C" {

const char *lace_last_error(void) { return lace::capi::lastError.c_str(); }

double lace_plan_density(const lace_plan *plan) {
  return plan ? plan->plan.computedFlops() / plan->plan.denseFlops() : 0.0;
}

void lace_plan_free(lace_plan *plan) { delete plan; }

lace_status lace_runtime_create(lace_backend backend, int device,
                                lace_runtime **out) {
  if (!out)
    return failNull("lace_runtime_create", "out");
  *out = nullptr;
  lace::RuntimeOptions options;
  options.device = device;
  if (backend == LACE_BACKEND_CUDA)
    options.backend = lace::Backend::Cuda;
  else if (backend == LACE_BACKEND_EMULATOR)
    options.backend = lace::Backend::Emulator;
  else if (backend != LACE_BACKEND_AUTO)
    return fail(lace::Error("lace_runtime_create: unknown backend " +
                            std::to_string(static_cast<int>(backend))));
  auto runtime = lace::Runtime::create(options);
  if (!runtime)
    return fail(runtime.error());
  *out = new lace_runtime{std::move(*runtime)};
  return LACE_OK;
}

const char *lace_runtime_backend(const lace_runtime *runtime) {
  if (!runtime)
    return "";
  return runtime->runtime->backend() == lace::Backend::Cuda ? "cuda"
                                                            : "emulator";
}

namespace {
lace_status load(const char *function, lace_runtime *runtime,
                 const lace_plan *plan, lace_kernel **out, bool backward) {
  if (!runtime || !plan || !out)
    return failNull(function, !runtime ? "runtime" : !plan ? "plan" : "out");
  *out = nullptr;
  lace::LoadOptions options;
  options.backward = backward;
  auto kernel = runtime->runtime->load(plan->plan, options);
  if (!kernel)
    return fail(kernel.error());
  *out = new lace_kernel{std::move(*kernel)};
  return LACE_OK;
}

lace::TensorRef ref(const lace_tensor &t) {
  lace::TensorRef r;
  r.data = t.data;
  for (int i = 0; i < 4; ++i) {
    r.shape[i] = t.shape[i];
    r.strides[i] = t.strides[i];
  }
  return r;
}
} // namespace

lace_status lace_runtime_load(lace_runtime *runtime, const lace_plan *plan,
                              lace_kernel **out) {
  return load("lace_runtime_load", runtime, plan, out, false);
}

lace_status lace_runtime_load_with_backward(lace_runtime *runtime,
                                            const lace_plan *plan,
                                            lace_kernel **out) {
  return load("lace_runtime_load_with_backward", runtime, plan, out, true);
}

void lace_runtime_free(lace_runtime *runtime) { delete runtime; }

lace_status
lace_kernel_forward_packed(const lace_kernel *kernel, const lace_tensor *q,
                           const lace_tensor *k, const lace_tensor *v,
                           const lace_tensor *o, float *lse,
                           const int32_t *q_segments, const int32_t *k_segments,
                           void *stream, float scale) {
  if (!kernel || !q || !k || !v || !o)
    return failNull("lace_kernel_forward", !kernel ? "kernel"
                                           : !q    ? "q"
                                           : !k    ? "k"
                                           : !v    ? "v"
                                                   : "o");
  if (auto error =
          kernel->kernel->forward(ref(*q), ref(*k), ref(*v), ref(*o), lse,
                                  {q_segments, k_segments}, stream, scale))
    return fail(*error);
  return LACE_OK;
}

lace_status lace_kernel_forward(const lace_kernel *kernel, const lace_tensor *q,
                                const lace_tensor *k, const lace_tensor *v,
                                const lace_tensor *o, float *lse, void *stream,
                                float scale) {
  return lace_kernel_forward_packed(kernel, q, k, v, o, lse, nullptr, nullptr,
                                    stream, scale);
}

int64_t lace_kernel_backward_workspace(const lace_kernel *kernel) {
  return kernel ? kernel->kernel->backwardWorkspaceFloats() : 0;
}

namespace {
/// The backward's argument checks, then `run` on the tensors.
lace_status backwardWith(
    const char *function, const lace_kernel *kernel, const lace_tensor *q,
    const lace_tensor *k, const lace_tensor *v, const lace_tensor *o,
    const lace_tensor *dout, const float *lse, const lace_tensor *dq,
    const lace_tensor *dk, const lace_tensor *dv, float *workspace,
    lace::FunctionRef<std::optional<lace::Error>(const lace::Kernel &,
                                                 const lace::BackwardTensors &)>
        run) {
  if (!kernel)
    return failNull(function, "kernel");
  for (auto [name, tensor] :
       {std::pair{"q", q}, std::pair{"k", k}, std::pair{"v", v},
        std::pair{"o", o}, std::pair{"dout", dout}, std::pair{"dq", dq},
        std::pair{"dk", dk}, std::pair{"dv", dv}})
    if (!tensor)
      return failNull(function, name);
  lace::BackwardTensors t{ref(*q), ref(*k),  ref(*v),  ref(*o),  ref(*dout),
                          lse,     ref(*dq), ref(*dk), ref(*dv), workspace};
  if (auto error = run(*kernel->kernel, t))
    return fail(*error);
  return LACE_OK;
}
} // namespace

lace_status lace_kernel_backward(
    const lace_kernel *kernel, const lace_tensor *q, const lace_tensor *k,
    const lace_tensor *v, const lace_tensor *o, const lace_tensor *dout,
    const float *lse, const lace_tensor *dq, const lace_tensor *dk,
    const lace_tensor *dv, float *workspace, const int32_t *q_segments,
    const int32_t *k_segments, void *stream, float scale) {
  return backwardWith(
      "lace_kernel_backward", kernel, q, k, v, o, dout, lse, dq, dk, dv,
      workspace, [&](const lace::Kernel &run, const lace::BackwardTensors &t) {
        return run.backward(t, {q_segments, k_segments}, stream, scale);
      });
}

lace_status lace_kernel_backward_documents(
    const lace_kernel *kernel, const lace_tensor *q, const lace_tensor *k,
    const lace_tensor *v, const lace_tensor *o, const lace_tensor *dout,
    const float *lse, const lace_tensor *dq, const lace_tensor *dk,
    const lace_tensor *dv, float *workspace, const lace_documents *documents,
    void *stream, float scale) {
  if (!documents)
    return failNull("lace_kernel_backward_documents", "documents");
  return backwardWith(
      "lace_kernel_backward_documents", kernel, q, k, v, o, dout, lse, dq, dk,
      dv, workspace,
      [&](const lace::Kernel &run, const lace::BackwardTensors &t) {
        return run.backward(t, *documents->documents, stream, scale);
      });
}

void lace_kernel_free(lace_kernel *kernel) { delete kernel; }

namespace {
lace_status documentsResult(
    lace::Expected<std::shared_ptr<const lace::DocumentLayout>> built,
    lace_documents **out) {
  if (!built)
    return fail(built.error());
  *out = new lace_documents{std::move(*built)};
  return LACE_OK;
}
} // namespace

lace_status lace_kernel_documents(const lace_kernel *kernel,
                                  const int32_t *q_ids, int64_t q_count,
                                  const int32_t *k_ids, int64_t k_count,
                                  lace_documents **out) {
  if (!kernel || !q_ids || !out)
    return failNull("lace_kernel_documents", !kernel  ? "kernel"
                                             : !q_ids ? "q_ids"
                                                      : "out");
  if (q_count < 0 || (k_ids && k_count < 0))
    return fail(lace::Error("lace_kernel_documents: negative id count"));
  return documentsResult(kernel->kernel->documents(
                             {q_ids, static_cast<std::size_t>(q_count)},
                             k_ids
                                 ? std::span<const std::int32_t>(
                                       k_ids, static_cast<std::size_t>(k_count))
                                 : std::span<const std::int32_t>()),
                         out);
}

lace_status lace_kernel_varlen(const lace_kernel *kernel, const int64_t *cu_q,
                               const int64_t *cu_k, int64_t count,
                               lace_documents **out) {
  if (!kernel || !cu_q || !out)
    return failNull("lace_kernel_varlen", !kernel ? "kernel"
                                          : !cu_q ? "cu_q"
                                                  : "out");
  if (count < 0)
    return fail(lace::Error("lace_kernel_varlen: negative count"));
  const auto n = static_cast<std::size_t>(count);
  return documentsResult(
      kernel->kernel->varlen({cu_q, n},
                             cu_k ? std::span<const std::int64_t>(cu_k, n)
                                  : std::span<const std::int64_t>()),
      out);
}

double lace_documents_build_ms(const lace_documents *documents) {
  return documents ? documents->documents->buildSeconds() * 1e3 : 0.0;
}

int64_t lace_documents_computed_tiles(const lace_documents *documents) {
  return documents ? documents->documents->computedTiles() : 0;
}

int64_t lace_documents_superset_tiles(const lace_documents *documents) {
  return documents ? documents->documents->supersetTiles() : 0;
}

lace_status lace_kernel_forward_documents(
    const lace_kernel *kernel, const lace_tensor *q, const lace_tensor *k,
    const lace_tensor *v, const lace_tensor *o, float *lse,
    const lace_documents *documents, void *stream, float scale) {
  if (!kernel || !q || !k || !v || !o || !documents)
    return failNull("lace_kernel_forward_documents", !kernel ? "kernel"
                                                     : !q    ? "q"
                                                     : !k    ? "k"
                                                     : !v    ? "v"
                                                     : !o    ? "o"
                                                             : "documents");
  if (auto error =
          kernel->kernel->forward(ref(*q), ref(*k), ref(*v), ref(*o), lse,
                                  *documents->documents, stream, scale))
    return fail(*error);
  return LACE_OK;
}

void lace_documents_free(lace_documents *documents) { delete documents; }

} // extern "C"
