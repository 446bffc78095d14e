//===- Bindings.h - The parts of the lace._lace extension module ----------===//
#ifndef LACE_PYTHON_BINDINGS_H
#define LACE_PYTHON_BINDINGS_H

#include <pybind11/pybind11.h>

namespace lace::python {

/// Compiler, Plan and the reference (PatternBindings.cpp).
void bindPatterns(pybind11::module_ &m);
/// Runtime, Kernel and Documents (KernelBindings.cpp).
void bindKernels(pybind11::module_ &m);

} // namespace lace::python

#endif // LACE_PYTHON_BINDINGS_H
