//===- DLPack.cpp - Tensors handed over through DLPack capsules -----------===//
#include "DLPack.h"

#include "Errors.h"

#include <Python.h>

namespace lace::python {

namespace {

ElementType classify(const DLDataType &type) {
  if (type.lanes != 1)
    return ElementType::Other;
  if (type.code == kDLFloat && type.bits == 16)
    return ElementType::F16;
  if (type.code == kDLBfloat && type.bits == 16)
    return ElementType::BF16;
  if (type.code == kDLFloat && type.bits == 32)
    return ElementType::F32;
  if (type.code == kDLInt && type.bits == 32)
    return ElementType::I32;
  if (type.code == kDLInt && type.bits == 64)
    return ElementType::I64;
  return ElementType::Other;
}

std::string describe(const DLDataType &type) {
  std::string name;
  switch (type.code) {
  case kDLInt:
    name = "int";
    break;
  case kDLUInt:
    name = "uint";
    break;
  case kDLFloat:
    name = "float";
    break;
  case kDLBfloat:
    name = "bfloat";
    break;
  default:
    name = "dlpack-code-" + std::to_string(type.code) + "-";
  }
  name += std::to_string(type.bits);
  if (type.lanes != 1)
    name += "x" + std::to_string(type.lanes);
  return name;
}

} // namespace

std::string elementTypeName(ElementType type) {
  switch (type) {
  case ElementType::F16:
    return "float16";
  case ElementType::BF16:
    return "bfloat16";
  case ElementType::F32:
    return "float32";
  case ElementType::I32:
    return "int32";
  case ElementType::I64:
    return "int64";
  case ElementType::Other:
    break;
  }
  return "an unsupported type";
}

ElementType elementTypeOf(DType dtype) {
  return dtype == DType::BF16 ? ElementType::BF16 : ElementType::F16;
}

std::int64_t TensorView::numElements() const {
  std::int64_t n = 1;
  for (std::int64_t extent : shape)
    n *= extent;
  return n;
}

std::string TensorView::deviceName() const {
  if (deviceType == kDLCPU)
    return "cpu";
  if (deviceType == kDLCUDA)
    return "cuda:" + std::to_string(deviceId);
  return "DLPack device type " + std::to_string(deviceType);
}

TensorView viewOf(const pybind11::handle &capsule, const std::string &name) {
  if (!PyCapsule_CheckExact(capsule.ptr()))
    raise(name + ": expected a DLPack capsule (the result of __dlpack__())");
  if (!PyCapsule_IsValid(capsule.ptr(), "dltensor"))
    raise(name + ": the DLPack capsule was already consumed");
  auto *managed = static_cast<DLManagedTensor *>(
      PyCapsule_GetPointer(capsule.ptr(), "dltensor"));
  const DLTensor &t = managed->tensor;
  TensorView view;
  view.name = name;
  view.data = static_cast<char *>(t.data) + t.byteOffset;
  view.deviceType = t.device.deviceType;
  view.deviceId = t.device.deviceId;
  view.type = classify(t.dtype);
  view.typeName = view.type == ElementType::Other ? describe(t.dtype)
                                                  : elementTypeName(view.type);
  view.shape.assign(t.shape, t.shape + t.ndim);
  view.strides.resize(static_cast<std::size_t>(t.ndim));
  std::int64_t compact = 1;
  for (std::int32_t d = t.ndim - 1; d >= 0; --d) {
    // A dimension of extent 1 is never stepped over, and producers write
    // any stride there (torch writes 1): take the compact one, which the
    // kernel's alignment checks accept.
    view.strides[static_cast<std::size_t>(d)] =
        t.strides && t.shape[d] != 1 ? t.strides[d] : compact;
    compact *= t.shape[d];
  }
  return view;
}

TensorRef tensorRef(const TensorView &view, bool headsFirst) {
  if (view.shape.size() != 4)
    raise(view.name + " has " + std::to_string(view.shape.size()) +
          " dimensions; the kernel takes [batch, seq, heads, head_dim]");
  TensorRef ref;
  ref.data = view.data;
  for (std::size_t d = 0; d < 4; ++d) {
    ref.shape[d] = view.shape[d];
    ref.strides[d] = view.strides[d];
  }
  if (headsFirst) {
    std::swap(ref.shape[1], ref.shape[2]);
    std::swap(ref.strides[1], ref.strides[2]);
  }
  return ref;
}

void expectType(const TensorView &view, ElementType type) {
  if (view.type != type)
    raise(view.name + " holds " + view.typeName + "; expected " +
          elementTypeName(type));
}

void expectDevice(const TensorView &view, Backend backend, int device) {
  const bool ok = backend == Backend::Emulator
                      ? view.deviceType == kDLCPU
                      : view.deviceType == kDLCUDA && view.deviceId == device;
  if (!ok)
    raise(view.name + " is on " + view.deviceName() +
          " but the kernel runs on " +
          (backend == Backend::Emulator ? std::string("the emulator (cpu)")
                                        : "cuda:" + std::to_string(device)));
}

void expectContiguous(const TensorView &view) {
  std::int64_t compact = 1;
  for (std::size_t d = view.shape.size(); d-- > 0;) {
    if (view.shape[d] != 1 && view.strides[d] != compact)
      raise(view.name + " must be contiguous");
    compact *= view.shape[d];
  }
}

} // namespace lace::python
