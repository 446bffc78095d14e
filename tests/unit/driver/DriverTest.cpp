//===- DriverTest.cpp - The CUDA driver layer
//------------------------------===//
//
// Without a CUDA driver: Driver::load() fails with a message that says what
// is missing and what to do, Device::count() returns the same error, and the
// wrappers (Device, Context, Module, DeviceBuffer, launch) run over a fake
// driver table in host memory, which checks the error formatting and the
// move semantics (each handle released exactly once). With a driver, a short
// sequence runs on GPU 0.
//
//===----------------------------------------------------------------------===//

#include "lace/Runtime/Driver.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <vector>

using namespace lace::cuda;

namespace {

// ---- A fake driver ---------------------------------------------------------

constexpr CUresult kOutOfMemory = 2;
constexpr CUresult kNotFound = 500;
constexpr std::size_t kFakeMemoryLimit = std::size_t(1) << 30;

struct FakeState {
  CUresult initResult = kCudaSuccess;
  int retains = 0, releases = 0;
  int loads = 0, unloads = 0;
  int allocs = 0, frees = 0;
  int setCurrent = 0;
  int maxDynamicShared = 0;
  int launches = 0;
  unsigned launchShared = 0;
  void **launchParams = nullptr;
  int launchGridX = 0;
};
FakeState fake;

CUcontext fakeContext() { return reinterpret_cast<CUcontext>(0x1000); }

DriverApi fakeApi() {
  DriverApi api;
  api.eventCreate = +[](CUevent *event, unsigned) {
    *event = reinterpret_cast<CUevent>(0x3000);
    return kCudaSuccess;
  };
  api.eventRecord = +[](CUevent, CUstream) { return kCudaSuccess; };
  api.eventSynchronize = +[](CUevent) { return kCudaSuccess; };
  api.eventElapsedTime = +[](float *ms, CUevent, CUevent) {
    *ms = 1.5f;
    return kCudaSuccess;
  };
  api.eventDestroy = +[](CUevent) { return kCudaSuccess; };
  api.init = +[](unsigned) { return fake.initResult; };
  api.driverGetVersion = +[](int *v) {
    *v = 12080;
    return kCudaSuccess;
  };
  api.deviceGet = +[](CUdevice *d, int ordinal) {
    *d = ordinal;
    return kCudaSuccess;
  };
  api.deviceGetCount = +[](int *n) {
    *n = 1;
    return kCudaSuccess;
  };
  api.deviceGetAttribute = +[](int *value, int attribute, CUdevice) {
    switch (attribute) {
    case kAttrComputeCapabilityMajor:
      *value = 9;
      return kCudaSuccess;
    case kAttrComputeCapabilityMinor:
      *value = 0;
      return kCudaSuccess;
    case kAttrMultiprocessorCount:
      *value = 132;
      return kCudaSuccess;
    case kAttrMaxSharedMemoryPerBlockOptin:
      *value = 232448;
      return kCudaSuccess;
    }
    return CUresult(1);
  };
  api.deviceGetName = +[](char *name, int length, CUdevice) {
    std::strncpy(name, "Fake H200", static_cast<std::size_t>(length));
    return kCudaSuccess;
  };
  api.deviceTotalMem = +[](std::size_t *bytes, CUdevice) {
    *bytes = std::size_t(141) << 30;
    return kCudaSuccess;
  };
  api.devicePrimaryCtxRetain = +[](CUcontext *c, CUdevice) {
    ++fake.retains;
    *c = fakeContext();
    return kCudaSuccess;
  };
  api.devicePrimaryCtxRelease = +[](CUdevice) {
    ++fake.releases;
    return kCudaSuccess;
  };
  api.ctxSetCurrent = +[](CUcontext c) {
    ++fake.setCurrent;
    return c == fakeContext() ? kCudaSuccess : CUresult(201);
  };
  api.moduleLoadData = +[](CUmodule *m, const void *) {
    ++fake.loads;
    *m = reinterpret_cast<CUmodule>(0x2000);
    return kCudaSuccess;
  };
  api.moduleUnload = +[](CUmodule) {
    ++fake.unloads;
    return kCudaSuccess;
  };
  api.moduleGetFunction = +[](CUfunction *f, CUmodule, const char *name) {
    if (std::strcmp(name, "lace_kernel") != 0)
      return kNotFound;
    *f = reinterpret_cast<CUfunction>(0x3000);
    return kCudaSuccess;
  };
  api.funcSetAttribute = +[](CUfunction, int attribute, int value) {
    if (attribute == kFuncAttrMaxDynamicSharedSizeBytes)
      fake.maxDynamicShared = value;
    return kCudaSuccess;
  };
  api.launchKernel =
      +[](CUfunction, unsigned gx, unsigned, unsigned, unsigned, unsigned,
          unsigned, unsigned shared, CUstream, void **params, void **) {
        ++fake.launches;
        fake.launchShared = shared;
        fake.launchParams = params;
        fake.launchGridX = static_cast<int>(gx);
        return kCudaSuccess;
      };
  api.memAlloc = +[](CUdeviceptr *p, std::size_t bytes) {
    if (bytes > kFakeMemoryLimit)
      return kOutOfMemory;
    ++fake.allocs;
    *p = reinterpret_cast<std::uintptr_t>(std::malloc(bytes));
    return kCudaSuccess;
  };
  api.memFree = +[](CUdeviceptr p) {
    ++fake.frees;
    std::free(reinterpret_cast<void *>(p));
    return kCudaSuccess;
  };
  api.memcpyHtoD = +[](CUdeviceptr dst, const void *src, std::size_t bytes) {
    std::memcpy(reinterpret_cast<void *>(dst), src, bytes);
    return kCudaSuccess;
  };
  api.memcpyDtoH = +[](void *dst, CUdeviceptr src, std::size_t bytes) {
    std::memcpy(dst, reinterpret_cast<const void *>(src), bytes);
    return kCudaSuccess;
  };
  api.streamSynchronize = +[](CUstream) { return kCudaSuccess; };
  api.getErrorName = +[](CUresult r, const char **name) {
    switch (r) {
    case kOutOfMemory:
      *name = "CUDA_ERROR_OUT_OF_MEMORY";
      return kCudaSuccess;
    case kNotFound:
      *name = "CUDA_ERROR_NOT_FOUND";
      return kCudaSuccess;
    }
    *name = nullptr;
    return CUresult(1); // CUDA_ERROR_INVALID_VALUE, as the real driver does
  };
  api.getErrorString = +[](CUresult r, const char **s) {
    switch (r) {
    case kOutOfMemory:
      *s = "out of memory";
      return kCudaSuccess;
    case kNotFound:
      *s = "named symbol not found";
      return kCudaSuccess;
    }
    *s = nullptr;
    return CUresult(1);
  };
  return api;
}

class FakeDriverTest : public ::testing::Test {
protected:
  void SetUp() override {
    fake = FakeState{};
    auto made = Driver::fromApi(fakeApi(), "fake-libcuda");
    ASSERT_TRUE(made) << made.error().str();
    driver = std::move(*made);
  }
  Device device() {
    auto d = Device::open(*driver, 0);
    EXPECT_TRUE(d) << d.error().str();
    return *d;
  }
  std::unique_ptr<Driver> driver;
};

// ---- Without a driver
// --------------------------------------------------------

TEST(DriverLoad, MissingLibraryIsAClearError) {
  // Independent of the machine: a library name that cannot exist.
  auto driver = Driver::open({"libcuda-lace-missing.so.1"});
  ASSERT_FALSE(driver);
  const std::string message = driver.error().message();
  EXPECT_NE(message.find("no cuda driver found"), std::string::npos) << message;
  EXPECT_NE(message.find("libcuda-lace-missing.so.1"), std::string::npos);
  EXPECT_NE(message.find("LACE_DEVICE=emulator"), std::string::npos);
  EXPECT_NE(message.find("nvidia gpu"), std::string::npos);
  // dlerror() is in the details, after the library name.
  EXPECT_NE(driver.error().details().find("libcuda-lace-missing.so.1: "),
            std::string::npos)
      << driver.error().details();
  EXPECT_GT(
      driver.error().details().size(),
      std::string("dlopen errors:\n  libcuda-lace-missing.so.1: \n").size());
}

TEST(DriverLoad, NoDriverOnThisMachine) {
  auto driver = Driver::load();
  if (driver)
    GTEST_SKIP() << "a CUDA driver is installed (" << (*driver)->libraryPath()
                 << "), so the no-driver error cannot be observed here";
  const lace::Error &error = driver.error();
  EXPECT_NE(error.message().find("no cuda driver found"), std::string::npos)
      << error.str();
  EXPECT_NE(error.message().find("libcuda.so.1"), std::string::npos);
  EXPECT_NE(error.message().find("libcuda.so"), std::string::npos);
  EXPECT_NE(error.message().find("LACE_DEVICE=emulator"), std::string::npos);
  EXPECT_NE(error.details().find("libcuda.so.1: "), std::string::npos)
      << error.details();

  // Cached: the same error again, and from every entry point.
  auto again = Driver::load();
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().str(), error.str());
  auto count = Device::count();
  ASSERT_FALSE(count);
  EXPECT_EQ(count.error().str(), error.str());
  auto device = Device::open(0);
  ASSERT_FALSE(device);
  EXPECT_EQ(device.error().str(), error.str());
}

// ---- The error helper
// --------------------------------------------------------

TEST(DriverError, Formats) {
  EXPECT_EQ(driverError("cuMemAlloc", 2, "CUDA_ERROR_OUT_OF_MEMORY",
                        "out of memory", "allocating 64 bytes")
                .message(),
            "cuda: allocating 64 bytes: cuMemAlloc failed with "
            "CUDA_ERROR_OUT_OF_MEMORY (out of memory)");
  EXPECT_EQ(driverError("cuInit", 999, nullptr, nullptr, "").message(),
            "cuda: cuInit failed with CUresult 999 (unknown error)");
}

TEST_F(FakeDriverTest, CheckUsesTheDriversNames) {
  EXPECT_FALSE(driver->check(kCudaSuccess, "cuInit", "x"));
  auto error = driver->check(kOutOfMemory, "cuMemAlloc", "allocating");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->message(), "cuda: allocating: cuMemAlloc failed with "
                              "CUDA_ERROR_OUT_OF_MEMORY (out of memory)");
  auto unknown = driver->check(777, "cuLaunchKernel", "launching");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->message(), "cuda: launching: cuLaunchKernel failed with "
                                "CUresult 777 (unknown error)");
}

TEST(DriverFromApi, RejectsAnIncompleteTable) {
  DriverApi api = fakeApi();
  api.memcpyDtoH = nullptr;
  auto driver = Driver::fromApi(api, "partial");
  ASSERT_FALSE(driver);
  EXPECT_NE(driver.error().message().find("missing an entry point"),
            std::string::npos);
}

TEST(DriverFromApi, InitFailureIsReported) {
  fake = FakeState{};
  fake.initResult = kOutOfMemory;
  auto driver = Driver::fromApi(fakeApi(), "fake-libcuda");
  ASSERT_FALSE(driver);
  EXPECT_EQ(driver.error().message(),
            "cuda: initializing the driver at fake-libcuda: cuInit failed "
            "with CUDA_ERROR_OUT_OF_MEMORY (out of memory)");
  fake.initResult = kCudaSuccess;
}

TEST(DriverFromApi, NoDeviceMeansZeroDevices) {
  fake = FakeState{};
  fake.initResult = kCudaErrorNoDevice;
  auto driver = Driver::fromApi(fakeApi(), "fake-libcuda");
  fake.initResult = kCudaSuccess;
  ASSERT_TRUE(driver) << driver.error().str();
  EXPECT_TRUE((*driver)->hasNoDevice());
  auto count = Device::count(**driver);
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 0);
  auto device = Device::open(**driver, 0);
  ASSERT_FALSE(device);
  EXPECT_EQ(device.error().message(), "cuda: no device 0 (0 devices present)");
}

// ---- The wrappers over the fake driver
// ---------------------------------------

TEST_F(FakeDriverTest, DeviceProperties) {
  EXPECT_EQ(driver->version(), 12080);
  Device d = device();
  EXPECT_EQ(d.ordinal(), 0);
  EXPECT_EQ(d.name(), "Fake H200");
  EXPECT_EQ(d.arch(), "sm_90");
  EXPECT_EQ(d.smCount(), 132);
  EXPECT_EQ(d.maxSharedOptin(), 232448);
  EXPECT_EQ(d.totalMemory(), std::size_t(141) << 30);
  auto missing = Device::open(*driver, 1);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(), "cuda: no device 1 (1 device present)");
}

TEST_F(FakeDriverTest, ContextReleasedOnceAcrossMoves) {
  {
    auto a = Context::retain(device());
    ASSERT_TRUE(a) << a.error().str();
    EXPECT_EQ(fake.setCurrent, 1);
    Context first = std::move(*a);
    EXPECT_FALSE(a->valid());
    Context second(std::move(first));
    EXPECT_FALSE(first.valid());
    EXPECT_TRUE(second.valid());
    EXPECT_EQ(fake.releases, 0);
    EXPECT_TRUE(first.setCurrent()); // an error: moved from

    auto b = Context::retain(device());
    ASSERT_TRUE(b);
    second = std::move(*b); // releases the context `second` held
    EXPECT_EQ(fake.releases, 1);
    EXPECT_FALSE(second.setCurrent());
  }
  EXPECT_EQ(fake.retains, 2);
  EXPECT_EQ(fake.releases, 2);
}

TEST_F(FakeDriverTest, EventsTimeBetweenRecords) {
  auto context = Context::retain(device());
  ASSERT_TRUE(context);
  auto start = Event::create(*context);
  auto end = Event::create(*context);
  ASSERT_TRUE(start && end) << (start ? end.error() : start.error()).str();
  EXPECT_FALSE(start->record(nullptr));
  EXPECT_FALSE(end->record(nullptr));
  auto ms = Event::elapsed(*start, *end);
  ASSERT_TRUE(ms) << ms.error().str();
  EXPECT_EQ(*ms, 1.5f);
}

TEST_F(FakeDriverTest, ModuleUnloadedOnceAndFunctionLookup) {
  auto context = Context::retain(device());
  ASSERT_TRUE(context);
  {
    auto loaded = Module::load(*context, "not really a cubin");
    ASSERT_TRUE(loaded) << loaded.error().str();
    Module module = std::move(*loaded);
    auto kernel = module.function("lace_kernel");
    ASSERT_TRUE(kernel) << kernel.error().str();
    EXPECT_EQ(kernel->name(), "lace_kernel");
    auto missing = module.function("nope");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().message(),
              "cuda: looking up kernel nope: cuModuleGetFunction failed with "
              "CUDA_ERROR_NOT_FOUND (named symbol not found)");
    Module other(std::move(module));
    EXPECT_FALSE(module.valid());
    EXPECT_FALSE(module.function("lace_kernel"));
    module = std::move(other);
    EXPECT_TRUE(module.valid());
    EXPECT_EQ(fake.unloads, 0);
  }
  EXPECT_EQ(fake.loads, 1);
  EXPECT_EQ(fake.unloads, 1);
  EXPECT_FALSE(Module::load(*context, ""));
}

TEST_F(FakeDriverTest, BufferRoundTripAndMoves) {
  auto context = Context::retain(device());
  ASSERT_TRUE(context);
  {
    std::vector<float> in(256);
    std::iota(in.begin(), in.end(), 1.0f);
    auto made = DeviceBuffer::allocate(*context, in.size() * sizeof(float));
    ASSERT_TRUE(made) << made.error().str();
    DeviceBuffer buffer = std::move(*made);
    EXPECT_EQ(buffer.size(), in.size() * sizeof(float));
    EXPECT_FALSE(buffer.upload(in.data(), buffer.size()));
    std::vector<float> out(in.size());
    EXPECT_FALSE(buffer.download(out.data(), buffer.size()));
    EXPECT_EQ(in, out);
    float tail = 0;
    EXPECT_FALSE(buffer.download(&tail, sizeof tail, buffer.size() - 4));
    EXPECT_EQ(tail, 256.0f);

    auto overrun = buffer.upload(in.data(), 8, buffer.size() - 4);
    ASSERT_TRUE(overrun);
    EXPECT_NE(overrun->message().find("overruns the 1024-byte buffer"),
              std::string::npos)
        << overrun->message();

    DeviceBuffer moved(std::move(buffer));
    EXPECT_EQ(buffer.pointer(), 0u);
    EXPECT_EQ(buffer.size(), 0u);
    auto other = DeviceBuffer::allocate(*context, 16);
    ASSERT_TRUE(other);
    moved = std::move(*other); // frees the 1024-byte allocation
    EXPECT_EQ(fake.frees, 1);
    EXPECT_EQ(moved.size(), 16u);
  }
  EXPECT_EQ(fake.allocs, 2);
  EXPECT_EQ(fake.frees, 2);

  auto empty = DeviceBuffer::allocate(*context, 0);
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->pointer(), 0u);
  EXPECT_EQ(fake.allocs, 2);

  auto huge = DeviceBuffer::allocate(*context, kFakeMemoryLimit + 1);
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error().message(),
            "cuda: allocating 1073741825 bytes of device memory: cuMemAlloc "
            "failed with CUDA_ERROR_OUT_OF_MEMORY (out of memory)");
}

TEST_F(FakeDriverTest, LaunchRaisesTheSharedLimitAndPassesArguments) {
  auto context = Context::retain(device());
  ASSERT_TRUE(context);
  auto module = Module::load(*context, "image");
  ASSERT_TRUE(module);
  auto kernel = module->function("lace_kernel");
  ASSERT_TRUE(kernel);
  int params = 42;
  void *args[] = {&params};
  EXPECT_FALSE(launch(*kernel, {7, 2, 1}, {128}, 1024, nullptr, args));
  EXPECT_EQ(fake.launches, 1);
  EXPECT_EQ(fake.maxDynamicShared, 0); // under 48 KiB: no opt-in
  EXPECT_EQ(fake.launchGridX, 7);
  EXPECT_EQ(fake.launchParams, static_cast<void **>(args));
  EXPECT_FALSE(launch(*kernel, {1}, {128}, 100000, nullptr, args));
  EXPECT_EQ(fake.maxDynamicShared, 100000);
  EXPECT_EQ(fake.launchShared, 100000u);
  EXPECT_FALSE(synchronize(*driver, nullptr));
}

// ---- On a GPU
// ----------------------------------------------------------------

TEST(DriverGpu, InitArchAndRoundTrip) {
  auto driver = Driver::load();
  if (!driver)
    GTEST_SKIP() << "no CUDA driver on this machine, so nothing can run on a "
                    "GPU: "
                 << driver.error().message();
  auto count = Device::count();
  ASSERT_TRUE(count) << count.error().str();
  if (*count == 0)
    GTEST_SKIP() << "the CUDA driver (" << (*driver)->libraryPath()
                 << ") reports no GPU";
  auto device = Device::open(0);
  ASSERT_TRUE(device) << device.error().str();
  EXPECT_EQ(device->arch(), "sm_" + std::to_string(device->major()) +
                                std::to_string(device->minor()));
  EXPECT_GE(device->major(), 5);
  EXPECT_GT(device->smCount(), 0);
  EXPECT_GE(device->maxSharedOptin(), 48 * 1024);
  EXPECT_GT(device->totalMemory(), 0u);
  EXPECT_FALSE(device->name().empty());
  std::printf("device 0: %s %s, %d SMs, %d bytes shared opt-in\n",
              device->name().c_str(), device->arch().c_str(), device->smCount(),
              device->maxSharedOptin());

  auto context = Context::retain(*device);
  ASSERT_TRUE(context) << context.error().str();
  std::vector<std::uint32_t> in(1 << 18);
  std::iota(in.begin(), in.end(), 0x1234u);
  auto buffer =
      DeviceBuffer::allocate(*context, in.size() * sizeof(std::uint32_t));
  ASSERT_TRUE(buffer) << buffer.error().str();
  auto up = buffer->upload(in.data(), buffer->size());
  ASSERT_FALSE(up) << up->str();
  std::vector<std::uint32_t> out(in.size());
  auto down = buffer->download(out.data(), buffer->size());
  ASSERT_FALSE(down) << down->str();
  EXPECT_EQ(in, out);
  auto sync = synchronize(**driver, nullptr);
  EXPECT_FALSE(sync) << sync->str();

  // A bad image is an Error naming the call, not a crash.
  auto bad = Module::load(*context, "definitely not a cubin");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("cuModuleLoadData failed with "),
            std::string::npos)
      << bad.error().message();
}

} // namespace
