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

/// An extern "C" kernel of a source and the type of its one parameter
/// ("LaceFwdParams", "LaceBwdParams").
struct KernelEntry {
  std::string name;
  std::string paramsType;
};

/// The source for the emulator: lace_emu_device.cuh, the kernel source
/// unchanged, and per entry a thread entry `lace_emu_entry_<name>` calling
/// the kernel with its parameters.
std::string emulatorSource(std::string_view kernelSource,
                           const std::vector<KernelEntry> &entries);

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

  /// Runs kernel `entry` (a KernelEntry name) over the grid with `params`
  /// (its parameter struct).
  std::optional<Error> launch(const LaunchConfig &config,
                              const std::string &entry,
                              const void *params) const;

private:
  KernelObject() = default;
  void *handle_ = nullptr;
  int memfd_ = -1;
  std::string label_;
};

} // namespace lace::emu

#endif // LACE_RUNTIME_EMULATORKERNEL_H
