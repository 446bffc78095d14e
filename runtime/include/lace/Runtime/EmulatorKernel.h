//===- EmulatorKernel.h - Generated kernels as host shared objects --------===//
//
// The emulator backend's compiler and loader. The source is the one NVRTC
// compiles, behind the emulator's device header and followed by a thread
// entry; the host C++ compiler recorded at configure time (or
// $LACE_HOST_CXX) turns it into a shared object, which is cached like a
// cubin and loaded from memory with dlopen.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_RUNTIME_EMULATORKERNEL_H
#define LACE_RUNTIME_EMULATORKERNEL_H

#include "lace/Runtime/Emulator.h"
#include "lace/Runtime/Error.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace lace::emu {

/// The source for the emulator: lace_emu_device.cuh, the kernel source
/// unchanged, and `lace_emu_thread_main` calling the extern "C" kernel
/// `kernelName` with a LaceFwdParams.
std::string emulatorSource(std::string_view kernelSource,
                           std::string_view kernelName);

class HostCompiler {
public:
  /// The compiler: $LACE_HOST_CXX, else the one Lace was built with. Fails
  /// when it cannot be run.
  static Expected<HostCompiler> find();

  const std::string &path() const { return path_; }
  /// The first line of `--version` and the flags (part of the cache key).
  const std::string &identity() const { return identity_; }
  const std::vector<std::string> &flags() const { return flags_; }

  /// Compiles an emulator source into the bytes of a shared object. On
  /// failure the error carries the compiler's output, the command and where
  /// the source was kept.
  Expected<std::vector<char>> compile(std::string_view source,
                                      const std::string &label) const;

private:
  std::string path_;
  std::string identity_;
  std::vector<std::string> flags_;
};

/// A loaded emulator kernel (dlopen'ed from memory). Shared: unloading
/// waits for the last user.
class KernelObject {
public:
  static Expected<std::shared_ptr<KernelObject>>
  load(const std::vector<char> &sharedObject, const std::string &label);
  ~KernelObject();
  KernelObject(const KernelObject &) = delete;
  KernelObject &operator=(const KernelObject &) = delete;

  /// Runs the kernel over the grid with `params` (a LaceFwdParams).
  std::optional<Error> launch(const LaunchConfig &config,
                              const void *params) const;

private:
  KernelObject() = default;
  void *handle_ = nullptr;
  int memfd_ = -1;
  ThreadMain main_ = nullptr;
};

} // namespace lace::emu

#endif // LACE_RUNTIME_EMULATORKERNEL_H
