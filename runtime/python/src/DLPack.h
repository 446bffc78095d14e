//===- DLPack.h - Tensors handed over through DLPack capsules -------------===//
//
// The DLPack ABI (dmlc/dlpack, include/dlpack/dlpack.h, the unversioned
// "dltensor" capsule every numpy >= 1.22 and torch >= 1.10 produce),
// declared here because Debian ships no dlpack.h, and a view of one
// capsule's tensor in the terms the runtime takes: Lace reads and writes the
// memory in place and never takes ownership (the capsule keeps it alive and
// frees it when Python drops the capsule).
//
//===----------------------------------------------------------------------===//
#ifndef LACE_PYTHON_DLPACK_H
#define LACE_PYTHON_DLPACK_H

#include "lace/Runtime/Runtime.h"

#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

namespace lace::python {

// The ABI, field for field (DLPack 0.6-0.8).
struct DLDevice {
  std::int32_t deviceType;
  std::int32_t deviceId;
};
struct DLDataType {
  std::uint8_t code;
  std::uint8_t bits;
  std::uint16_t lanes;
};
struct DLTensor {
  void *data;
  DLDevice device;
  std::int32_t ndim;
  DLDataType dtype;
  std::int64_t *shape;
  std::int64_t *strides; ///< in elements; null: compact row-major
  std::uint64_t byteOffset;
};
struct DLManagedTensor {
  DLTensor tensor;
  void *managerContext;
  void (*deleter)(DLManagedTensor *self);
};

enum DLDeviceType : std::int32_t { kDLCPU = 1, kDLCUDA = 2 };
enum DLDataTypeCode : std::uint8_t {
  kDLInt = 0,
  kDLUInt = 1,
  kDLFloat = 2,
  kDLBfloat = 4
};

/// What an array holds, as Lace names it.
enum class ElementType { F16, BF16, F32, I32, I64, Other };

/// One capsule's tensor: shape and strides in elements, the address with
/// the byte offset applied.
struct TensorView {
  std::string name; ///< the argument's name, for errors ("q", "dout")
  void *data = nullptr;
  std::int32_t deviceType = kDLCPU;
  std::int32_t deviceId = 0;
  ElementType type = ElementType::Other;
  std::string typeName; ///< "float16", "int8", ... for errors
  std::vector<std::int64_t> shape, strides;

  std::int64_t numElements() const;
  bool onCpu() const { return deviceType == kDLCPU; }
  /// "cpu" / "cuda:1".
  std::string deviceName() const;
};

/// Reads `capsule` (a "dltensor" PyCapsule, unconsumed). Throws lace's
/// error (as Python's lace.Error) when it is anything else.
TensorView viewOf(const pybind11::handle &capsule, const std::string &name);

/// A [batch, seq, heads, head_dim] view as the kernel takes it, from a
/// tensor in that layout or, with `headsFirst`, in [batch, heads, seq,
/// head_dim] (FlexAttention's and SDPA's: the strides are swapped, nothing
/// is copied); throws when the tensor is not 4-dimensional.
TensorRef tensorRef(const TensorView &view, bool headsFirst = false);

/// Throws unless `view` holds `type` (the kernel's dtype, float32 for LSE
/// and workspaces, int32 for ids).
void expectType(const TensorView &view, ElementType type);
/// Throws unless the tensor is on the backend's device (host memory for
/// the emulator, CUDA device `device` for CUDA).
void expectDevice(const TensorView &view, Backend backend, int device);
/// Throws unless the tensor's elements are contiguous (row-major).
void expectContiguous(const TensorView &view);

ElementType elementTypeOf(DType dtype);
std::string elementTypeName(ElementType type);

} // namespace lace::python

#endif // LACE_PYTHON_DLPACK_H
