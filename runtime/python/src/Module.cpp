//===- Module.cpp - lace._lace, the extension module under `import lace` --===//
//
// A thin layer over the C++ host API; the Pythonic surface (keyword
// parameters, allocation, layouts, torch) is lace/__init__.py and
// lace/torch.py.
//
//===----------------------------------------------------------------------===//
#include "Bindings.h"
#include "Errors.h"

#include "lace/Runtime/KernelSource.h"

namespace py = pybind11;

PYBIND11_MODULE(_lace, m) {
  m.doc() = "Lace: sparse attention patterns compiled to fused kernels";
  py::register_exception<lace::python::LaceError>(m, "Error",
                                                  PyExc_RuntimeError);
  m.attr("template_version") =
      std::string(lace::jit::KernelSource::templateVersion());
  lace::python::bindPatterns(m);
  lace::python::bindKernels(m);
}
