//===- Nvrtc.h - NVRTC loaded at run time ---------------------------------===//
//
// NVRTC is opened with dlopen (libnvrtc.so* under $CUDAToolkit_ROOT/lib64,
// the build's toolkit, /usr/local/cuda/lib64, then the loader's path), so
// nothing in Lace links CUDA: without a toolkit load() returns an Error that
// says where it looked. compile() produces PTX and a cubin for a real arch
// and the ptxas resource report. On failure the Error carries the NVRTC log,
// the options and the path of the dumped source.
//
// Environment: LACE_DUMP_DIR, if set, receives <name>-<hash>.cu (always) and
// .ptx / .log (on success); without it a failing source goes to a temporary
// file.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_RUNTIME_NVRTC_H
#define LACE_RUNTIME_NVRTC_H

#include "lace/Runtime/Error.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lace::jit {

/// Resource usage of the kernel as ptxas reports it (-v).
struct PtxasInfo {
  bool parsed = false; ///< the report for the kernel was found
  int registers = 0;   ///< per thread
  int sharedBytes = 0; ///< static shared memory (dynamic is the spec's)
  int stackBytes = 0;  ///< stack frame
  int spillStores = 0; ///< bytes, summed over every function in the report
  int spillLoads = 0;
  int constantBytes = 0; ///< cmem[0]
};

/// Parses the `ptxas info` lines of an NVRTC log for entry function `name`.
PtxasInfo parsePtxasInfo(std::string_view log, std::string_view name);

struct CompiledKernel {
  std::string name; ///< the kernel symbol
  std::string arch; ///< e.g. "sm_80"
  std::string ptx;
  std::string cubin; ///< bytes
  std::string log;
  std::vector<std::string> options;
  PtxasInfo ptxasInfo;
  double seconds = 0; ///< wall time of nvrtcCompileProgram
};

/// An in-memory header handed to NVRTC (name as in `#include "name"`).
struct SourceHeader {
  std::string name;
  std::string text;
};

class Nvrtc {
public:
  /// Opens NVRTC once per process (thread-safe); later calls return the same
  /// instance or the same error.
  static Expected<const Nvrtc *> load();

  /// NVRTC's (major, minor) version.
  std::pair<int, int> version() const { return version_; }
  /// The path of the library that was opened.
  const std::string &libraryPath() const { return path_; }

  /// The options compile() passes for `arch` before `extra`:
  /// -arch=<arch> -std=c++17 --use_fast_math --ptxas-options=-v
  /// -I<toolkit>/include (when the toolkit's headers exist).
  std::vector<std::string> options(std::string_view arch) const;

  /// Compiles `source` to PTX and a cubin for `arch` ("sm_80", "sm_90",
  /// "sm_90a"...; a real arch, so that there is a cubin). `name` is the
  /// kernel symbol (used for the ptxas report and the dump file names).
  Expected<CompiledKernel>
  compile(std::string_view source, std::string_view name, std::string_view arch,
          const std::vector<std::string> &extraOptions = {},
          const std::vector<SourceHeader> &headers = {}) const;

private:
  Nvrtc() = default;
  struct Api;
  const Api *api_ = nullptr;
  std::pair<int, int> version_{0, 0};
  std::string path_;
  std::string includeDir_;
};

} // namespace lace::jit

#endif // LACE_RUNTIME_NVRTC_H
