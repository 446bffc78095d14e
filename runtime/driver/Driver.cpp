//===- Driver.cpp - The CUDA driver API loaded at run time ----------------===//

#include "lace/Runtime/Driver.h"

#include <dlfcn.h>

#include <cstdint>
#include <utility>

namespace lace::cuda {

namespace {

/// The ABI asked of cuGetProcAddress: CUDA 12.0's, whose cuda.h maps
/// cuMemAlloc to cuMemAlloc_v2 and so on.
constexpr int kRequestedCudaVersion = 12000;

using GetProcAddressV2 = CUresult (*)(const char *, void **, int, std::uint64_t,
                                      int *);
using GetProcAddressV1 = CUresult (*)(const char *, void **, int,
                                      std::uint64_t);

struct Symbol {
  const char *name;      ///< as cuGetProcAddress takes it (no suffix)
  const char *versioned; ///< the exported symbol of that ABI, for dlsym
  void **slot;
};

std::string lastDlerror() {
  const char *message = dlerror();
  return message ? message : "unknown dlopen error";
}

std::string describeAttempts(const std::vector<std::string> &names) {
  std::string s;
  for (const std::string &name : names)
    s += (s.empty() ? "" : ", ") + name;
  return s;
}

} // namespace

Error driverError(std::string_view call, CUresult result, const char *name,
                  const char *description, std::string_view context) {
  std::string resultName =
      name ? std::string(name) : "CUresult " + std::to_string(result);
  std::string message = "cuda: ";
  if (!context.empty())
    message += std::string(context) + ": ";
  message += std::string(call) + " failed with " + resultName + " (" +
             (description ? description : "unknown error") + ")";
  return Error(std::move(message));
}

std::optional<Error> Driver::check(CUresult result, std::string_view call,
                                   std::string_view context) const {
  if (result == kCudaSuccess)
    return std::nullopt;
  const char *name = nullptr;
  const char *description = nullptr;
  if (api_.getErrorName && api_.getErrorName(result, &name) != kCudaSuccess)
    name = nullptr;
  if (api_.getErrorString &&
      api_.getErrorString(result, &description) != kCudaSuccess)
    description = nullptr;
  return driverError(call, result, name, description, context);
}

Driver::~Driver() {
  if (handle_)
    dlclose(handle_);
}

Expected<std::unique_ptr<Driver>> Driver::fromApi(const DriverApi &api,
                                                  std::string libraryPath) {
  const void *const pointers[] = {
      reinterpret_cast<const void *>(api.init),
      reinterpret_cast<const void *>(api.driverGetVersion),
      reinterpret_cast<const void *>(api.deviceGet),
      reinterpret_cast<const void *>(api.deviceGetCount),
      reinterpret_cast<const void *>(api.deviceGetAttribute),
      reinterpret_cast<const void *>(api.deviceGetName),
      reinterpret_cast<const void *>(api.deviceTotalMem),
      reinterpret_cast<const void *>(api.devicePrimaryCtxRetain),
      reinterpret_cast<const void *>(api.devicePrimaryCtxRelease),
      reinterpret_cast<const void *>(api.ctxSetCurrent),
      reinterpret_cast<const void *>(api.moduleLoadData),
      reinterpret_cast<const void *>(api.moduleUnload),
      reinterpret_cast<const void *>(api.moduleGetFunction),
      reinterpret_cast<const void *>(api.funcSetAttribute),
      reinterpret_cast<const void *>(api.launchKernel),
      reinterpret_cast<const void *>(api.memAlloc),
      reinterpret_cast<const void *>(api.memFree),
      reinterpret_cast<const void *>(api.memcpyHtoD),
      reinterpret_cast<const void *>(api.memcpyDtoH),
      reinterpret_cast<const void *>(api.streamSynchronize),
      reinterpret_cast<const void *>(api.eventCreate),
      reinterpret_cast<const void *>(api.eventRecord),
      reinterpret_cast<const void *>(api.eventSynchronize),
      reinterpret_cast<const void *>(api.eventElapsedTime),
      reinterpret_cast<const void *>(api.eventDestroy),
      reinterpret_cast<const void *>(api.getErrorName),
      reinterpret_cast<const void *>(api.getErrorString),
  };
  for (const void *p : pointers)
    if (!p)
      return Error("cuda: the driver table for " + libraryPath +
                   " is missing an entry point");
  std::unique_ptr<Driver> driver(new Driver());
  driver->api_ = api;
  driver->path_ = std::move(libraryPath);
  CUresult rc = api.init(0);
  if (rc == kCudaErrorNoDevice) {
    driver->noDevice_ = true;
  } else if (auto error = driver->check(
                 rc, "cuInit", "initializing the driver at " + driver->path_)) {
    return std::move(*error);
  }
  if (auto error = driver->check(api.driverGetVersion(&driver->version_),
                                 "cuDriverGetVersion", "reading the version"))
    return std::move(*error);
  return driver;
}

Expected<std::unique_ptr<Driver>>
Driver::open(const std::vector<std::string> &libraryNames) {
  void *handle = nullptr;
  std::string path;
  std::string failures;
  for (const std::string &name : libraryNames) {
    handle = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle) {
      path = name;
      break;
    }
    failures += "  " + name + ": " + lastDlerror() + "\n";
  }
  if (!handle)
    return Error("no cuda driver found: could not load " +
                     describeAttempts(libraryNames) +
                     "; running kernels needs a machine with an nvidia gpu "
                     "and its driver, or the emulator backend "
                     "(LACE_DEVICE=emulator)",
                 "dlopen errors:\n" + failures);
  struct CloseOnError {
    void *handle;
    ~CloseOnError() {
      if (handle)
        dlclose(handle);
    }
  } guard{handle};

  DriverApi api;
  const Symbol symbols[] = {
      {"cuInit", "cuInit", reinterpret_cast<void **>(&api.init)},
      {"cuDriverGetVersion", "cuDriverGetVersion",
       reinterpret_cast<void **>(&api.driverGetVersion)},
      {"cuDeviceGet", "cuDeviceGet", reinterpret_cast<void **>(&api.deviceGet)},
      {"cuDeviceGetCount", "cuDeviceGetCount",
       reinterpret_cast<void **>(&api.deviceGetCount)},
      {"cuDeviceGetAttribute", "cuDeviceGetAttribute",
       reinterpret_cast<void **>(&api.deviceGetAttribute)},
      {"cuDeviceGetName", "cuDeviceGetName",
       reinterpret_cast<void **>(&api.deviceGetName)},
      {"cuDeviceTotalMem", "cuDeviceTotalMem_v2",
       reinterpret_cast<void **>(&api.deviceTotalMem)},
      {"cuDevicePrimaryCtxRetain", "cuDevicePrimaryCtxRetain",
       reinterpret_cast<void **>(&api.devicePrimaryCtxRetain)},
      {"cuDevicePrimaryCtxRelease", "cuDevicePrimaryCtxRelease_v2",
       reinterpret_cast<void **>(&api.devicePrimaryCtxRelease)},
      {"cuCtxSetCurrent", "cuCtxSetCurrent",
       reinterpret_cast<void **>(&api.ctxSetCurrent)},
      {"cuModuleLoadData", "cuModuleLoadData",
       reinterpret_cast<void **>(&api.moduleLoadData)},
      {"cuModuleUnload", "cuModuleUnload",
       reinterpret_cast<void **>(&api.moduleUnload)},
      {"cuModuleGetFunction", "cuModuleGetFunction",
       reinterpret_cast<void **>(&api.moduleGetFunction)},
      {"cuFuncSetAttribute", "cuFuncSetAttribute",
       reinterpret_cast<void **>(&api.funcSetAttribute)},
      {"cuLaunchKernel", "cuLaunchKernel",
       reinterpret_cast<void **>(&api.launchKernel)},
      {"cuMemAlloc", "cuMemAlloc_v2", reinterpret_cast<void **>(&api.memAlloc)},
      {"cuMemFree", "cuMemFree_v2", reinterpret_cast<void **>(&api.memFree)},
      {"cuMemcpyHtoD", "cuMemcpyHtoD_v2",
       reinterpret_cast<void **>(&api.memcpyHtoD)},
      {"cuMemcpyDtoH", "cuMemcpyDtoH_v2",
       reinterpret_cast<void **>(&api.memcpyDtoH)},
      {"cuStreamSynchronize", "cuStreamSynchronize",
       reinterpret_cast<void **>(&api.streamSynchronize)},
      {"cuEventCreate", "cuEventCreate",
       reinterpret_cast<void **>(&api.eventCreate)},
      {"cuEventRecord", "cuEventRecord",
       reinterpret_cast<void **>(&api.eventRecord)},
      {"cuEventSynchronize", "cuEventSynchronize",
       reinterpret_cast<void **>(&api.eventSynchronize)},
      {"cuEventElapsedTime", "cuEventElapsedTime",
       reinterpret_cast<void **>(&api.eventElapsedTime)},
      {"cuEventDestroy", "cuEventDestroy_v2",
       reinterpret_cast<void **>(&api.eventDestroy)},
      {"cuGetErrorName", "cuGetErrorName",
       reinterpret_cast<void **>(&api.getErrorName)},
      {"cuGetErrorString", "cuGetErrorString",
       reinterpret_cast<void **>(&api.getErrorString)},
  };
  // cuGetProcAddress (CUDA 11.3+; _v2 with a status argument since 12.0)
  // returns the entry point of the requested ABI; dlsym of the versioned
  // name is the fallback. Never dlsym the unsuffixed name of an API that
  // has a _v2: that is the old 32-bit ABI.
  auto getProcV2 =
      reinterpret_cast<GetProcAddressV2>(dlsym(handle, "cuGetProcAddress_v2"));
  auto getProcV1 =
      reinterpret_cast<GetProcAddressV1>(dlsym(handle, "cuGetProcAddress"));
  for (const Symbol &s : symbols) {
    *s.slot = nullptr;
    if (getProcV2) {
      int status = 0;
      if (getProcV2(s.name, s.slot, kRequestedCudaVersion, 0, &status) !=
              kCudaSuccess ||
          status != 0)
        *s.slot = nullptr;
    } else if (getProcV1) {
      if (getProcV1(s.name, s.slot, kRequestedCudaVersion, 0) != kCudaSuccess)
        *s.slot = nullptr;
    }
    if (!*s.slot)
      *s.slot = dlsym(handle, s.versioned);
    if (!*s.slot)
      return Error("cuda: the driver at " + path + " lacks " + s.versioned +
                   " (too old; a CUDA 12 driver or newer is needed)");
  }
  auto driver = fromApi(api, path);
  if (!driver)
    return std::move(driver).error();
  (*driver)->handle_ = handle;
  guard.handle = nullptr;
  return driver;
}

Expected<const Driver *> Driver::load() {
  static const Expected<const Driver *> loaded =
      []() -> Expected<const Driver *> {
    auto driver = open({"libcuda.so.1", "libcuda.so"});
    if (!driver)
      return std::move(driver).error();
    // Kept for the process: wrappers hold pointers to it.
    return static_cast<const Driver *>(std::move(*driver).release());
  }();
  return loaded;
}

// ---- Device ----------------------------------------------------------------

Expected<int> Device::count() {
  auto driver = Driver::load();
  if (!driver)
    return driver.error();
  return count(**driver);
}

Expected<int> Device::count(const Driver &driver) {
  if (driver.hasNoDevice())
    return 0;
  int n = 0;
  if (auto error = driver.check(driver.api().deviceGetCount(&n),
                                "cuDeviceGetCount", "counting devices"))
    return std::move(*error);
  return n;
}

Expected<Device> Device::open(int ordinal) {
  auto driver = Driver::load();
  if (!driver)
    return driver.error();
  return open(**driver, ordinal);
}

Expected<Device> Device::open(const Driver &driver, int ordinal) {
  auto n = count(driver);
  if (!n)
    return n.error();
  if (ordinal < 0 || ordinal >= *n)
    return Error("cuda: no device " + std::to_string(ordinal) + " (" +
                 std::to_string(*n) + " device" + (*n == 1 ? "" : "s") +
                 " present)");
  const std::string context = "opening device " + std::to_string(ordinal);
  const DriverApi &api = driver.api();
  Device device;
  device.driver_ = &driver;
  device.ordinal_ = ordinal;
  if (auto error = driver.check(api.deviceGet(&device.handle_, ordinal),
                                "cuDeviceGet", context))
    return std::move(*error);
  char name[256] = {};
  if (auto error = driver.check(
          api.deviceGetName(name, static_cast<int>(sizeof name) - 1,
                            device.handle_),
          "cuDeviceGetName", context))
    return std::move(*error);
  device.name_ = name;
  struct Attribute {
    int attribute;
    int *value;
  };
  const Attribute attributes[] = {
      {kAttrComputeCapabilityMajor, &device.major_},
      {kAttrComputeCapabilityMinor, &device.minor_},
      {kAttrMultiprocessorCount, &device.smCount_},
      {kAttrMaxSharedMemoryPerBlockOptin, &device.maxSharedOptin_},
  };
  for (const Attribute &a : attributes)
    if (auto error = driver.check(
            api.deviceGetAttribute(a.value, a.attribute, device.handle_),
            "cuDeviceGetAttribute",
            context + " (attribute " + std::to_string(a.attribute) + ")"))
      return std::move(*error);
  if (auto error =
          driver.check(api.deviceTotalMem(&device.totalMemory_, device.handle_),
                       "cuDeviceTotalMem", context))
    return std::move(*error);
  return device;
}

std::string Device::arch() const {
  return "sm_" + std::to_string(major_) + std::to_string(minor_);
}

// ---- Context ---------------------------------------------------------------

Expected<Context> Context::retain(const Device &device) {
  const Driver &driver = device.driver();
  const std::string context = "retaining the primary context of device " +
                              std::to_string(device.ordinal());
  Context result;
  result.driver_ = &driver;
  result.device_ = device.handle();
  if (auto error = driver.check(driver.api().devicePrimaryCtxRetain(
                                    &result.context_, device.handle()),
                                "cuDevicePrimaryCtxRetain", context)) {
    result.context_ = nullptr;
    return std::move(*error);
  }
  if (auto error = result.setCurrent())
    return std::move(*error); // `result` releases the context
  return result;
}

std::optional<Error> Context::setCurrent() const {
  if (!context_)
    return Error("cuda: setting the current context: the context is empty "
                 "(moved from)");
  return driver_->check(driver_->api().ctxSetCurrent(context_),
                        "cuCtxSetCurrent", "making the context current");
}

void Context::reset() {
  if (context_)
    driver_->api().devicePrimaryCtxRelease(device_);
  context_ = nullptr;
}

Context::Context(Context &&other) noexcept
    : driver_(other.driver_), device_(other.device_),
      context_(std::exchange(other.context_, nullptr)) {}

Context &Context::operator=(Context &&other) noexcept {
  if (this != &other) {
    reset();
    driver_ = other.driver_;
    device_ = other.device_;
    context_ = std::exchange(other.context_, nullptr);
  }
  return *this;
}

Context::~Context() { reset(); }

// ---- Module and Function ---------------------------------------------------

Expected<Module> Module::load(const Context &context, std::string_view image) {
  if (!context.valid())
    return Error("cuda: loading a module: the context is empty (moved from)");
  if (image.empty())
    return Error("cuda: loading a module: the image is empty");
  const Driver &driver = context.driver();
  Module module;
  module.driver_ = &driver;
  if (auto error = driver.check(
          driver.api().moduleLoadData(&module.module_, image.data()),
          "cuModuleLoadData",
          "loading a module image of " + std::to_string(image.size()) +
              " bytes")) {
    module.module_ = nullptr;
    return std::move(*error);
  }
  return module;
}

Expected<Function> Module::function(const std::string &name) const {
  if (!module_)
    return Error("cuda: looking up kernel " + name +
                 ": the module is empty (moved from)");
  CUfunction function = nullptr;
  if (auto error = driver_->check(
          driver_->api().moduleGetFunction(&function, module_, name.c_str()),
          "cuModuleGetFunction", "looking up kernel " + name))
    return std::move(*error);
  return Function(driver_, function, name);
}

void Module::reset() {
  if (module_)
    driver_->api().moduleUnload(module_);
  module_ = nullptr;
}

Module::Module(Module &&other) noexcept
    : driver_(other.driver_), module_(std::exchange(other.module_, nullptr)) {}

Module &Module::operator=(Module &&other) noexcept {
  if (this != &other) {
    reset();
    driver_ = other.driver_;
    module_ = std::exchange(other.module_, nullptr);
  }
  return *this;
}

Module::~Module() { reset(); }

std::optional<Error> Function::setMaxDynamicSharedBytes(int bytes) const {
  return driver_->check(
      driver_->api().funcSetAttribute(
          function_, kFuncAttrMaxDynamicSharedSizeBytes, bytes),
      "cuFuncSetAttribute",
      "allowing " + name_ + " " + std::to_string(bytes) +
          " bytes of dynamic shared memory");
}

// ---- DeviceBuffer ----------------------------------------------------------

Expected<DeviceBuffer> DeviceBuffer::allocate(const Context &context,
                                              std::size_t bytes) {
  if (!context.valid())
    return Error("cuda: allocating device memory: the context is empty "
                 "(moved from)");
  DeviceBuffer buffer;
  buffer.driver_ = &context.driver();
  if (bytes == 0)
    return buffer;
  if (auto error = buffer.driver_->check(
          buffer.driver_->api().memAlloc(&buffer.pointer_, bytes), "cuMemAlloc",
          "allocating " + std::to_string(bytes) + " bytes of device memory")) {
    buffer.pointer_ = 0;
    return std::move(*error);
  }
  buffer.size_ = bytes;
  return buffer;
}

static std::optional<Error> checkRange(std::string_view what, std::size_t bytes,
                                       std::size_t offset, std::size_t size) {
  if (offset > size || bytes > size - offset)
    return Error("cuda: " + std::string(what) + " " + std::to_string(bytes) +
                 " bytes at offset " + std::to_string(offset) +
                 " overruns the " + std::to_string(size) + "-byte buffer");
  return std::nullopt;
}

std::optional<Error> DeviceBuffer::upload(const void *data, std::size_t bytes,
                                          std::size_t offset) {
  if (auto error = checkRange("uploading", bytes, offset, size_))
    return error;
  if (bytes == 0)
    return std::nullopt;
  return driver_->check(
      driver_->api().memcpyHtoD(pointer_ + offset, data, bytes), "cuMemcpyHtoD",
      "uploading " + std::to_string(bytes) + " bytes");
}

std::optional<Error> DeviceBuffer::download(void *data, std::size_t bytes,
                                            std::size_t offset) const {
  if (auto error = checkRange("downloading", bytes, offset, size_))
    return error;
  if (bytes == 0)
    return std::nullopt;
  return driver_->check(
      driver_->api().memcpyDtoH(data, pointer_ + offset, bytes), "cuMemcpyDtoH",
      "downloading " + std::to_string(bytes) + " bytes");
}

void DeviceBuffer::reset() {
  if (pointer_)
    driver_->api().memFree(pointer_);
  pointer_ = 0;
  size_ = 0;
}

DeviceBuffer::DeviceBuffer(DeviceBuffer &&other) noexcept
    : driver_(other.driver_), pointer_(std::exchange(other.pointer_, 0)),
      size_(std::exchange(other.size_, 0)) {}

DeviceBuffer &DeviceBuffer::operator=(DeviceBuffer &&other) noexcept {
  if (this != &other) {
    reset();
    driver_ = other.driver_;
    pointer_ = std::exchange(other.pointer_, 0);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

DeviceBuffer::~DeviceBuffer() { reset(); }

// ---- Launch ----------------------------------------------------------------

std::optional<Error> launch(const Function &function, Dim3 grid, Dim3 block,
                            unsigned sharedBytes, CUstream stream,
                            std::span<void *const> args) {
  if (sharedBytes > kDefaultSharedLimit)
    if (auto error =
            function.setMaxDynamicSharedBytes(static_cast<int>(sharedBytes)))
      return error;
  const Driver &driver = function.driver();
  return driver.check(
      driver.api().launchKernel(function.handle(), grid.x, grid.y, grid.z,
                                block.x, block.y, block.z, sharedBytes, stream,
                                const_cast<void **>(args.data()), nullptr),
      "cuLaunchKernel",
      "launching " + function.name() + " on grid (" + std::to_string(grid.x) +
          "," + std::to_string(grid.y) + "," + std::to_string(grid.z) +
          ") x block (" + std::to_string(block.x) + "," +
          std::to_string(block.y) + "," + std::to_string(block.z) + ") with " +
          std::to_string(sharedBytes) + " bytes of shared memory");
}

std::optional<Error> synchronize(const Driver &driver, CUstream stream) {
  return driver.check(driver.api().streamSynchronize(stream),
                      "cuStreamSynchronize", "waiting for the stream");
}

Expected<Event> Event::create(const Context &context) {
  Event event;
  event.driver_ = &context.driver();
  if (auto error = context.setCurrent())
    return std::move(*error);
  if (auto error = event.driver_->check(
          event.driver_->api().eventCreate(&event.event_, 0), "cuEventCreate",
          "creating a timing event"))
    return std::move(*error);
  return event;
}

std::optional<Error> Event::record(CUstream stream) const {
  return driver_->check(driver_->api().eventRecord(event_, stream),
                        "cuEventRecord", "recording a timing event");
}

Expected<float> Event::elapsed(const Event &start, const Event &end) {
  const Driver &driver = *end.driver_;
  if (auto error = driver.check(driver.api().eventSynchronize(end.event_),
                                "cuEventSynchronize", "waiting for an event"))
    return std::move(*error);
  float ms = 0;
  if (auto error = driver.check(
          driver.api().eventElapsedTime(&ms, start.event_, end.event_),
          "cuEventElapsedTime", "timing between events"))
    return std::move(*error);
  return ms;
}

Event::Event(Event &&other) noexcept
    : driver_(other.driver_), event_(other.event_) {
  other.event_ = nullptr;
}

Event &Event::operator=(Event &&other) noexcept {
  if (this != &other) {
    reset();
    driver_ = other.driver_;
    event_ = other.event_;
    other.event_ = nullptr;
  }
  return *this;
}

Event::~Event() { reset(); }

void Event::reset() {
  if (event_)
    driver_->api().eventDestroy(event_); // nothing to report in a destructor
  event_ = nullptr;
}

} // namespace lace::cuda
