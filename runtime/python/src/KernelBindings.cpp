//===- KernelBindings.cpp - lace._lace: runtimes, kernels, documents ------===//
//
// The runtime half of the Python module. Tensors arrive as DLPack capsules
// and are read and written in place; the GIL is released while a kernel
// compiles or runs (nothing Python is touched then).
//
//===----------------------------------------------------------------------===//
#include "Bindings.h"
#include "DLPack.h"
#include "Errors.h"
#include "Ids.h"

#include "lace/Runtime/Runtime.h"

#include <pybind11/stl.h>

namespace py = pybind11;

namespace lace::python {

namespace {

/// A runtime and the device it runs on; kernels keep it alive.
struct RuntimeHandle {
  std::shared_ptr<Runtime> runtime;
  int device = 0;
};

struct KernelHandle {
  std::shared_ptr<const Kernel> kernel;
  std::shared_ptr<Runtime> runtime;
  int device = 0;
  Backend backend() const { return runtime->backend(); }
};

using DocumentsHandle = std::shared_ptr<const DocumentLayout>;

Backend backendNamed(const std::string &name) {
  if (name == "cuda")
    return Backend::Cuda;
  if (name == "emulator")
    return Backend::Emulator;
  raise("backend '" + name + "': expected 'cuda', 'emulator' or 'auto'");
}

/// A 16-bit [batch, seq, heads, head_dim] tensor of the kernel's dtype on
/// its device.
TensorRef operand(const KernelHandle &k, py::handle capsule, const char *name,
                  bool headsFirst) {
  TensorView view = viewOf(capsule, name);
  expectType(view, elementTypeOf(k.kernel->plan().spec.dtype));
  expectDevice(view, k.backend(), k.device);
  return tensorRef(view, headsFirst);
}

/// A contiguous float32 tensor of at least `floats` elements on the
/// kernel's device (LSE, the backward's workspace).
float *floats(const KernelHandle &k, py::handle capsule, const char *name,
              std::int64_t floats, bool exact) {
  TensorView view = viewOf(capsule, name);
  expectType(view, ElementType::F32);
  expectDevice(view, k.backend(), k.device);
  expectContiguous(view);
  if (exact ? view.numElements() != floats : view.numElements() < floats)
    raise(std::string(name) + " has " + std::to_string(view.numElements()) +
          " elements; expected " + (exact ? "" : "at least ") +
          std::to_string(floats));
  return static_cast<float *>(view.data);
}

std::string segmentsNeeded(const KernelPlan &plan) {
  return "pattern " + plan.pattern +
         " uses segment: pass the segment ids (documents)";
}

std::int64_t lseFloats(const KernelPlan &plan) {
  return plan.shape.batch * plan.shape.heads * plan.shape.seqQ;
}

void forward(const KernelHandle &k, py::handle q, py::handle kk, py::handle v,
             py::handle o, py::handle lse, float scale, bool headsFirst,
             std::uintptr_t stream, const DocumentsHandle &documents) {
  const KernelPlan &plan = k.kernel->plan();
  const TensorRef qt = operand(k, q, "q", headsFirst),
                  kt = operand(k, kk, "k", headsFirst),
                  vt = operand(k, v, "v", headsFirst),
                  ot = operand(k, o, "out", headsFirst);
  float *lsePtr =
      lse.is_none() ? nullptr : floats(k, lse, "lse", lseFloats(plan), true);
  if (!documents && plan.usesSegments)
    raise(segmentsNeeded(plan));
  auto *streamPtr = reinterpret_cast<void *>(stream);
  py::gil_scoped_release release;
  if (documents)
    check(k.kernel->forward(qt, kt, vt, ot, lsePtr, *documents, streamPtr,
                            scale));
  else
    check(k.kernel->forward(qt, kt, vt, ot, lsePtr, streamPtr, scale));
}

void backward(const KernelHandle &k, py::handle q, py::handle kk, py::handle v,
              py::handle o, py::handle lse, py::handle dout, py::handle dq,
              py::handle dk, py::handle dv, py::handle delta, float scale,
              bool headsFirst, std::uintptr_t stream,
              const DocumentsHandle &documents) {
  const KernelPlan &plan = k.kernel->plan();
  BackwardTensors t;
  t.q = operand(k, q, "q", headsFirst);
  t.k = operand(k, kk, "k", headsFirst);
  t.v = operand(k, v, "v", headsFirst);
  t.o = operand(k, o, "out", headsFirst);
  t.dout = operand(k, dout, "dout", headsFirst);
  t.dq = operand(k, dq, "dq", headsFirst);
  t.dk = operand(k, dk, "dk", headsFirst);
  t.dv = operand(k, dv, "dv", headsFirst);
  t.lse = floats(k, lse, "lse", lseFloats(plan), true);
  t.delta =
      floats(k, delta, "delta", k.kernel->backwardWorkspaceFloats(), false);
  if (!documents && plan.usesSegments)
    raise(segmentsNeeded(plan));
  auto *streamPtr = reinterpret_cast<void *>(stream);
  py::gil_scoped_release release;
  if (documents)
    check(k.kernel->backward(t, *documents, streamPtr, scale));
  else
    check(k.kernel->backward(t, SegmentIdsRef{}, streamPtr, scale));
}

} // namespace

void bindKernels(py::module_ &m) {
  py::class_<DocumentLayout, std::shared_ptr<DocumentLayout>>(m, "Documents")
      .def_property_readonly("computed_tiles", &DocumentLayout::computedTiles)
      .def_property_readonly("superset_tiles", &DocumentLayout::supersetTiles)
      .def_property_readonly("build_seconds", &DocumentLayout::buildSeconds)
      .def_property_readonly(
          "split_rows",
          [](const DocumentLayout &d) { return d.schedule().numCombines(); })
      .def_property_readonly("imbalance", [](const DocumentLayout &d) {
        return d.schedule().imbalance;
      });

  py::class_<KernelHandle>(m, "Kernel")
      .def_property_readonly(
          "plan",
          [](const KernelHandle &k) -> const KernelPlan & {
            return k.kernel->plan();
          },
          // The kernel's own plan, not a copy (it keeps the kernel alive).
          py::return_value_policy::reference_internal)
      .def_property_readonly(
          "from_cache",
          [](const KernelHandle &k) { return k.kernel->fromCache(); })
      .def_property_readonly(
          "compile_seconds",
          [](const KernelHandle &k) { return k.kernel->compileSeconds(); })
      .def_property_readonly(
          "has_backward",
          [](const KernelHandle &k) { return k.kernel->hasBackward(); })
      .def_property_readonly("backward_workspace_floats",
                             [](const KernelHandle &k) {
                               return k.kernel->backwardWorkspaceFloats();
                             })
      .def_property_readonly("backend",
                             [](const KernelHandle &k) {
                               return std::string(backendName(k.backend()));
                             })
      .def_readonly("device", &KernelHandle::device)
      .def(
          "documents",
          [](const KernelHandle &k, const std::vector<std::int64_t> &qIds,
             const std::vector<std::int64_t> &kIds) {
            const auto q = int32Ids(qIds, "segment ids"),
                       kv = int32Ids(kIds, "segment ids");
            py::gil_scoped_release release;
            return std::const_pointer_cast<DocumentLayout>(
                unwrap(k.kernel->documents(q, kv)));
          },
          py::arg("q_ids"), py::arg("k_ids"))
      .def(
          "varlen",
          [](const KernelHandle &k, const std::vector<std::int64_t> &cuQ,
             const std::vector<std::int64_t> &cuK) {
            py::gil_scoped_release release;
            return std::const_pointer_cast<DocumentLayout>(
                unwrap(k.kernel->varlen(cuQ, cuK)));
          },
          py::arg("cu_seqlens_q"), py::arg("cu_seqlens_k"))
      .def("forward", &forward, py::arg("q"), py::arg("k"), py::arg("v"),
           py::arg("out"), py::arg("lse"), py::arg("scale"),
           py::arg("heads_first"), py::arg("stream"), py::arg("documents"))
      .def("backward", &backward, py::arg("q"), py::arg("k"), py::arg("v"),
           py::arg("out"), py::arg("lse"), py::arg("dout"), py::arg("dq"),
           py::arg("dk"), py::arg("dv"), py::arg("delta"), py::arg("scale"),
           py::arg("heads_first"), py::arg("stream"), py::arg("documents"));

  py::class_<RuntimeHandle>(m, "Runtime")
      .def(py::init([](const std::string &backend, int device,
                       const std::string &arch,
                       const std::optional<std::string> &cacheDir,
                       unsigned workers) {
             RuntimeOptions options;
             if (backend != "auto")
               options.backend = backendNamed(backend);
             options.device = device;
             options.arch = arch;
             if (cacheDir) {
               CacheConfig cache;
               cache.directory = *cacheDir;
               options.cache = cache;
             }
             options.emulatorWorkers = workers;
             auto created = [&] {
               py::gil_scoped_release release;
               return Runtime::create(options);
             }();
             RuntimeHandle handle;
             handle.runtime =
                 std::shared_ptr<Runtime>(unwrap(std::move(created)));
             handle.device = device;
             return handle;
           }),
           py::arg("backend"), py::arg("device"), py::arg("arch"),
           py::arg("cache_dir"), py::arg("workers"))
      .def_property_readonly("backend",
                             [](const RuntimeHandle &r) {
                               return std::string(
                                   backendName(r.runtime->backend()));
                             })
      .def_readonly("device", &RuntimeHandle::device)
      .def_property_readonly(
          "target", [](const RuntimeHandle &r) { return r.runtime->target(); })
      .def("describe",
           [](const RuntimeHandle &r) { return r.runtime->describe(); })
      .def(
          "load",
          [](const RuntimeHandle &r, const KernelPlan &plan,
             bool withBackward) {
            LoadOptions options;
            options.backward = withBackward;
            auto loaded = [&] {
              py::gil_scoped_release release;
              return r.runtime->load(plan, options);
            }();
            return KernelHandle{unwrap(std::move(loaded)), r.runtime, r.device};
          },
          py::arg("plan"), py::arg("backward"));
}

} // namespace lace::python
