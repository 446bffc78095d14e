//===- Driver.h - The CUDA driver API loaded at run time ------------------===//
//
// libcuda is opened with dlopen ("libcuda.so.1", then "libcuda.so") and its
// entry points are resolved through cuGetProcAddress (asking for the CUDA 12.0
// ABI, i.e. the `_v2` variants) or, on drivers without it, dlsym of the
// versioned names. Nothing in Lace links CUDA or includes cuda.h: the few
// types used are declared below. Without a driver, Driver::load() returns an
// Error saying so (the library tried, dlerror()) and that a GPU machine or
// the emulator backend is needed; nothing aborts.
//
// Every driver call goes through Driver::check(), which turns a failing
// CUresult into a lace::Error naming the call, the CUresult's name and
// description and what was being done.
//
// RAII wrappers: Device (a value: ordinal and properties), Context (the
// device's primary context, retained and released), Module (a loaded cubin),
// Function, DeviceBuffer (cuMemAlloc / cuMemFree) and launch().
//
//===----------------------------------------------------------------------===//
#ifndef LACE_RUNTIME_DRIVER_H
#define LACE_RUNTIME_DRIVER_H

#include "lace/Runtime/Error.h"

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lace::cuda {

// ---- The subset of cuda.h Lace uses (ABI of CUDA 12.0 and later) ---------
using CUresult = int; ///< CUDA_SUCCESS == 0
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *; ///< null: the legacy default stream
using CUevent = struct CUevent_st *;

inline constexpr CUresult kCudaSuccess = 0;
inline constexpr CUresult kCudaErrorNoDevice = 100;
// CUdevice_attribute values.
inline constexpr int kAttrMultiprocessorCount = 16;
inline constexpr int kAttrComputeCapabilityMajor = 75;
inline constexpr int kAttrComputeCapabilityMinor = 76;
inline constexpr int kAttrMaxSharedMemoryPerBlockOptin = 97;
// CUfunction_attribute values.
inline constexpr int kFuncAttrMaxDynamicSharedSizeBytes = 8;
/// Dynamic shared memory a kernel may use without opting in.
inline constexpr unsigned kDefaultSharedLimit = 48 * 1024;

/// The driver entry points Lace calls. Each points at the versioned symbol
/// where the API has one (cuMemAlloc_v2, cuDevicePrimaryCtxRelease_v2...).
struct DriverApi {
  CUresult (*init)(unsigned flags) = nullptr;
  CUresult (*driverGetVersion)(int *version) = nullptr;
  CUresult (*deviceGet)(CUdevice *device, int ordinal) = nullptr;
  CUresult (*deviceGetCount)(int *count) = nullptr;
  CUresult (*deviceGetAttribute)(int *value, int attribute,
                                 CUdevice device) = nullptr;
  CUresult (*deviceGetName)(char *name, int length, CUdevice device) = nullptr;
  CUresult (*deviceTotalMem)(std::size_t *bytes, CUdevice device) = nullptr;
  CUresult (*devicePrimaryCtxRetain)(CUcontext *context,
                                     CUdevice device) = nullptr;
  CUresult (*devicePrimaryCtxRelease)(CUdevice device) = nullptr;
  CUresult (*ctxSetCurrent)(CUcontext context) = nullptr;
  CUresult (*moduleLoadData)(CUmodule *module, const void *image) = nullptr;
  CUresult (*moduleUnload)(CUmodule module) = nullptr;
  CUresult (*moduleGetFunction)(CUfunction *function, CUmodule module,
                                const char *name) = nullptr;
  CUresult (*funcSetAttribute)(CUfunction function, int attribute,
                               int value) = nullptr;
  CUresult (*launchKernel)(CUfunction function, unsigned gridX, unsigned gridY,
                           unsigned gridZ, unsigned blockX, unsigned blockY,
                           unsigned blockZ, unsigned sharedBytes,
                           CUstream stream, void **params,
                           void **extra) = nullptr;
  CUresult (*memAlloc)(CUdeviceptr *pointer, std::size_t bytes) = nullptr;
  CUresult (*memFree)(CUdeviceptr pointer) = nullptr;
  CUresult (*memcpyHtoD)(CUdeviceptr dst, const void *src,
                         std::size_t bytes) = nullptr;
  CUresult (*memcpyDtoH)(void *dst, CUdeviceptr src,
                         std::size_t bytes) = nullptr;
  CUresult (*streamSynchronize)(CUstream stream) = nullptr;
  CUresult (*eventCreate)(CUevent *event, unsigned flags) = nullptr;
  CUresult (*eventRecord)(CUevent event, CUstream stream) = nullptr;
  CUresult (*eventSynchronize)(CUevent event) = nullptr;
  CUresult (*eventElapsedTime)(float *milliseconds, CUevent start,
                               CUevent end) = nullptr;
  CUresult (*eventDestroy)(CUevent event) = nullptr;
  CUresult (*getErrorName)(CUresult result, const char **name) = nullptr;
  CUresult (*getErrorString)(CUresult result,
                             const char **description) = nullptr;
};

/// The error of a failed driver call: "cuda: <context>: <call> failed with
/// <name> (<description>)". A null name or description reads as the number
/// / "unknown error".
Error driverError(std::string_view call, CUresult result, const char *name,
                  const char *description, std::string_view context);

class Driver {
public:
  /// Opens libcuda once per process (thread-safe), resolves the entry points
  /// and calls cuInit(0); later calls return the same instance or error.
  static Expected<const Driver *> load();

  /// Uncached: tries each library name in turn with dlopen. load() is
  /// open({"libcuda.so.1", "libcuda.so"}) kept for the process.
  static Expected<std::unique_ptr<Driver>>
  open(const std::vector<std::string> &libraryNames);

  /// A driver over a given table (tests inject fakes): every pointer must
  /// be set; calls cuInit(0).
  static Expected<std::unique_ptr<Driver>> fromApi(const DriverApi &api,
                                                   std::string libraryPath);

  const DriverApi &api() const { return api_; }
  const std::string &libraryPath() const { return path_; }
  /// cuDriverGetVersion: 1000 * major + 10 * minor, e.g. 12080.
  int version() const { return version_; }
  /// cuInit reported CUDA_ERROR_NO_DEVICE: the driver works, no GPU.
  bool hasNoDevice() const { return noDevice_; }

  /// nullopt when `result` is CUDA_SUCCESS, else driverError() with the
  /// driver's name and description of `result`.
  std::optional<Error> check(CUresult result, std::string_view call,
                             std::string_view context) const;

  Driver(const Driver &) = delete;
  Driver &operator=(const Driver &) = delete;
  ~Driver();

private:
  Driver() = default;
  DriverApi api_;
  std::string path_;
  void *handle_ = nullptr; ///< dlopen handle, closed by the destructor
  int version_ = 0;
  bool noDevice_ = false;
};

/// A GPU: a copyable value holding its ordinal and properties.
class Device {
public:
  /// The number of CUDA devices (0 when the driver has none).
  static Expected<int> count();
  static Expected<int> count(const Driver &driver);
  /// Device `ordinal` with its properties read.
  static Expected<Device> open(int ordinal);
  static Expected<Device> open(const Driver &driver, int ordinal);

  const Driver &driver() const { return *driver_; }
  CUdevice handle() const { return handle_; }
  int ordinal() const { return ordinal_; }
  const std::string &name() const { return name_; }
  int major() const { return major_; }
  int minor() const { return minor_; }
  /// "sm_<major><minor>", e.g. "sm_90" (the arch NVRTC compiles for).
  std::string arch() const;
  int smCount() const { return smCount_; }
  /// Per-block shared memory with opt-in (cuFuncSetAttribute), bytes.
  int maxSharedOptin() const { return maxSharedOptin_; }
  std::size_t totalMemory() const { return totalMemory_; }

private:
  Device() = default;
  const Driver *driver_ = nullptr;
  CUdevice handle_ = 0;
  int ordinal_ = 0;
  std::string name_;
  int major_ = 0, minor_ = 0, smCount_ = 0, maxSharedOptin_ = 0;
  std::size_t totalMemory_ = 0;
};

/// The device's primary context: retained on creation, released by the
/// destructor. Move-only.
class Context {
public:
  /// Retains the primary context of `device` and makes it current on the
  /// calling thread.
  static Expected<Context> retain(const Device &device);

  /// Makes the context current on the calling thread (each thread that
  /// calls into the driver needs this once).
  std::optional<Error> setCurrent() const;

  const Driver &driver() const { return *driver_; }
  CUcontext handle() const { return context_; }
  bool valid() const { return context_ != nullptr; }

  Context(Context &&other) noexcept;
  Context &operator=(Context &&other) noexcept;
  Context(const Context &) = delete;
  Context &operator=(const Context &) = delete;
  ~Context();

private:
  Context() = default;
  void reset();
  const Driver *driver_ = nullptr;
  CUdevice device_ = 0;
  CUcontext context_ = nullptr;
};

/// A kernel of a Module; valid while the module lives.
class Function {
public:
  const Driver &driver() const { return *driver_; }
  CUfunction handle() const { return function_; }
  const std::string &name() const { return name_; }
  /// cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES): needed before a
  /// launch with more than 48 KiB of dynamic shared memory.
  std::optional<Error> setMaxDynamicSharedBytes(int bytes) const;

private:
  friend class Module;
  Function(const Driver *driver, CUfunction function, std::string name)
      : driver_(driver), function_(function), name_(std::move(name)) {}
  const Driver *driver_;
  CUfunction function_;
  std::string name_;
};

/// A loaded cubin (or PTX) image; unloaded by the destructor. Move-only.
/// Needs the context current on the calling thread.
class Module {
public:
  static Expected<Module> load(const Context &context, std::string_view image);

  Expected<Function> function(const std::string &name) const;

  CUmodule handle() const { return module_; }
  bool valid() const { return module_ != nullptr; }

  Module(Module &&other) noexcept;
  Module &operator=(Module &&other) noexcept;
  Module(const Module &) = delete;
  Module &operator=(const Module &) = delete;
  ~Module();

private:
  Module() = default;
  void reset();
  const Driver *driver_ = nullptr;
  CUmodule module_ = nullptr;
};

/// Device memory; freed by the destructor. Move-only. A zero-byte buffer
/// allocates nothing and has pointer 0.
class DeviceBuffer {
public:
  static Expected<DeviceBuffer> allocate(const Context &context,
                                         std::size_t bytes);

  /// Copies `bytes` from host `data` to the buffer at `offset` (synchronous).
  std::optional<Error> upload(const void *data, std::size_t bytes,
                              std::size_t offset = 0);
  /// Copies `bytes` at `offset` of the buffer to host `data` (synchronous).
  std::optional<Error> download(void *data, std::size_t bytes,
                                std::size_t offset = 0) const;

  CUdeviceptr pointer() const { return pointer_; }
  std::size_t size() const { return size_; }
  /// The device address as a pointer, for kernel parameter structs.
  void *get() const { return reinterpret_cast<void *>(pointer_); }

  DeviceBuffer(DeviceBuffer &&other) noexcept;
  DeviceBuffer &operator=(DeviceBuffer &&other) noexcept;
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;
  ~DeviceBuffer();

private:
  DeviceBuffer() = default;
  void reset();
  const Driver *driver_ = nullptr;
  CUdeviceptr pointer_ = 0;
  std::size_t size_ = 0;
};

struct Dim3 {
  unsigned x = 1, y = 1, z = 1;
};

/// cuLaunchKernel. `args` holds one pointer per kernel parameter, to its
/// value (for a LaceFwdParams kernel: {&params}). Above 48 KiB of dynamic
/// shared memory the function's limit is raised first. Asynchronous: errors
/// of the kernel itself surface at synchronize().
std::optional<Error> launch(const Function &function, Dim3 grid, Dim3 block,
                            unsigned sharedBytes, CUstream stream,
                            std::span<void *const> args);

/// cuStreamSynchronize.
std::optional<Error> synchronize(const Driver &driver, CUstream stream);

/// A CUDA event for timing work on a stream. Move-only; destroyed with it.
class Event {
public:
  static Expected<Event> create(const Context &context);
  /// Records the event at the current end of `stream`.
  std::optional<Error> record(CUstream stream) const;
  /// Milliseconds between two recorded events (waits for `end`).
  static Expected<float> elapsed(const Event &start, const Event &end);

  Event(Event &&other) noexcept;
  Event &operator=(Event &&other) noexcept;
  Event(const Event &) = delete;
  Event &operator=(const Event &) = delete;
  ~Event();

private:
  Event() = default;
  void reset();
  const Driver *driver_ = nullptr;
  CUevent event_ = nullptr;
};

} // namespace lace::cuda

#endif // LACE_RUNTIME_DRIVER_H
