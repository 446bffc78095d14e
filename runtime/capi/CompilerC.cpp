//===- CompilerC.cpp - The compiler half of the C API ---------------------===//
#include "lace/Compiler.h"
#include "lace/Runtime/CHandles.h"

struct lace_compiler {
  std::unique_ptr<lace::Compiler> compiler;
};

using lace::capi::fail;
using lace::capi::failNull;

namespace {
lace_status opened(lace::Expected<std::unique_ptr<lace::Compiler>> compiler,
                   lace_compiler **out) {
  if (!compiler)
    return fail(compiler.error());
  *out = new lace_compiler{std::move(*compiler)};
  return LACE_OK;
}
} // namespace

extern "C" {

lace_status lace_compiler_open(const char *path, lace_compiler **out) {
  if (!path || !out)
    return failNull("lace_compiler_open", !path ? "path" : "out");
  *out = nullptr;
  return opened(lace::Compiler::fromFile(path), out);
}

lace_status lace_compiler_open_source(const char *name, const char *text,
                                      lace_compiler **out) {
  if (!name || !text || !out)
    return failNull("lace_compiler_open_source",
                    !name ? "name" : !text ? "text" : "out");
  *out = nullptr;
  return opened(lace::Compiler::fromSource(name, text), out);
}

lace_status lace_compiler_select(lace_compiler *compiler, const char *pattern) {
  if (!compiler || !pattern)
    return failNull("lace_compiler_select", !compiler ? "compiler" : "pattern");
  if (auto error = compiler->compiler->select(pattern))
    return fail(*error);
  return LACE_OK;
}

lace_status lace_compiler_set_param(lace_compiler *compiler, const char *name,
                                    const char *value) {
  if (!compiler || !name || !value)
    return failNull("lace_compiler_set_param",
                    !compiler ? "compiler" : !name ? "name" : "value");
  compiler->compiler->setParam(name, value);
  return LACE_OK;
}

lace_status lace_compiler_plan(const lace_compiler *compiler,
                               const lace_shape *shape, lace_dtype dtype,
                               int head_dim, lace_plan **out) {
  if (!compiler || !shape || !out)
    return failNull("lace_compiler_plan",
                    !compiler ? "compiler" : !shape ? "shape" : "out");
  *out = nullptr;
  if (dtype != LACE_DTYPE_F16 && dtype != LACE_DTYPE_BF16)
    return fail(lace::Error("lace_compiler_plan: unknown dtype " +
                            std::to_string(static_cast<int>(dtype))));
  lace::PlanOptions options;
  options.dtype = dtype == LACE_DTYPE_F16 ? lace::DType::F16 : lace::DType::BF16;
  options.headDim = head_dim;
  auto plan = compiler->compiler->plan(
      {shape->batch, shape->heads, shape->kv_heads, shape->seq_q, shape->seq_k},
      options);
  if (!plan)
    return fail(plan.error());
  *out = new lace_plan{std::move(*plan)};
  return LACE_OK;
}

void lace_compiler_free(lace_compiler *compiler) { delete compiler; }

} // extern "C"
