//===- Nvrtc.cpp - NVRTC loaded at run time -------------------------------===//

#include "lace/Runtime/Nvrtc.h"
#include "lace/Runtime/SourceDump.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#ifndef LACE_JIT_CUDA_ROOT
#define LACE_JIT_CUDA_ROOT ""
#endif

namespace lace::jit {

namespace {
// The subset of nvrtc.h Lace uses; declared here so that building needs no
// toolkit. nvrtcResult is an int-sized enum, NVRTC_SUCCESS == 0.
using nvrtcResult = int;
using nvrtcProgram = struct _nvrtcProgram *;
} // namespace

struct Nvrtc::Api {
  const char *(*getErrorString)(nvrtcResult);
  nvrtcResult (*version)(int *, int *);
  nvrtcResult (*createProgram)(nvrtcProgram *, const char *, const char *, int,
                               const char *const *, const char *const *);
  nvrtcResult (*destroyProgram)(nvrtcProgram *);
  nvrtcResult (*compileProgram)(nvrtcProgram, int, const char *const *);
  nvrtcResult (*getPTXSize)(nvrtcProgram, std::size_t *);
  nvrtcResult (*getPTX)(nvrtcProgram, char *);
  nvrtcResult (*getCUBINSize)(nvrtcProgram, std::size_t *);
  nvrtcResult (*getCUBIN)(nvrtcProgram, char *);
  nvrtcResult (*getProgramLogSize)(nvrtcProgram, std::size_t *);
  nvrtcResult (*getProgramLog)(nvrtcProgram, char *);
};

namespace {

std::vector<std::string> toolkitRoots() {
  std::vector<std::string> roots;
  if (const char *env = std::getenv("CUDAToolkit_ROOT"); env && *env)
    roots.push_back(env);
  if (std::strlen(LACE_JIT_CUDA_ROOT) > 0)
    roots.push_back(LACE_JIT_CUDA_ROOT);
  roots.push_back("/usr/local/cuda");
  return roots;
}

/// Candidate library files: every libnvrtc.so* (not the builtins) under each
/// root's lib64, then the dynamic loader's search path.
std::vector<std::string> libraryCandidates() {
  std::vector<std::string> out;
  for (const std::string &root : toolkitRoots()) {
    std::filesystem::path dir = std::filesystem::path(root) / "lib64";
    out.push_back((dir / "libnvrtc.so").string());
    std::error_code ec;
    std::vector<std::string> versioned;
    for (const auto &entry : std::filesystem::directory_iterator(dir, ec)) {
      std::string file = entry.path().filename().string();
      if (file.rfind("libnvrtc.so.", 0) == 0)
        versioned.push_back(entry.path().string());
    }
    std::sort(versioned.rbegin(), versioned.rend());
    out.insert(out.end(), versioned.begin(), versioned.end());
  }
  for (const char *name : {"libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12"})
    out.push_back(name);
  return out;
}

std::string joinOptions(const std::vector<std::string> &options) {
  std::string s;
  for (const std::string &o : options) {
    if (!s.empty())
      s += ' ';
    s += o;
  }
  return s;
}

std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

int numberBefore(std::string_view text, std::size_t pos) {
  // The integer that ends just before `pos` (skipping spaces).
  while (pos > 0 && text[pos - 1] == ' ')
    --pos;
  std::size_t end = pos;
  while (pos > 0 && text[pos - 1] >= '0' && text[pos - 1] <= '9')
    --pos;
  return pos == end
             ? 0
             : std::atoi(std::string(text.substr(pos, end - pos)).c_str());
}

int numberFor(std::string_view line, std::string_view unit) {
  std::size_t at = line.find(unit);
  return at == std::string_view::npos ? 0 : numberBefore(line, at);
}

} // namespace

PtxasInfo parsePtxasInfo(std::string_view log, std::string_view name) {
  PtxasInfo info;
  // "Compiling entry function 'NAME' for 'sm_80'", then "Function
  // properties for NAME" / "N bytes stack frame, N bytes spill stores, N
  // bytes spill loads", then "Used N registers, ... N bytes smem, N bytes
  // cmem[0]". Spills count for the entry and for every function that is no
  // entry (the device functions it may call), not for the module's other
  // entries (the backward has two).
  auto lines = [](std::string_view text, auto &&visit) {
    while (!text.empty()) {
      std::size_t end = text.find('\n');
      visit(text.substr(0, end));
      text = end == std::string_view::npos ? std::string_view{}
                                           : text.substr(end + 1);
    }
  };
  auto quoted = [](std::string_view line) {
    std::size_t open = line.find('\'');
    std::size_t close = line.find('\'', open + 1);
    return open == std::string_view::npos || close == std::string_view::npos
               ? std::string_view{}
               : line.substr(open + 1, close - open - 1);
  };
  std::vector<std::string_view> entries;
  lines(log, [&](std::string_view line) {
    if (line.find("Compiling entry function") != std::string_view::npos)
      entries.push_back(quoted(line));
  });
  constexpr std::string_view kProperties = "Function properties for ";
  bool inEntry = false;
  bool counted = false, inProperties = false;
  lines(log, [&](std::string_view line) {
    if (line.find("Compiling entry function") != std::string_view::npos) {
      inEntry = quoted(line) == name;
      return;
    }
    if (std::size_t at = line.find(kProperties); at != std::string_view::npos) {
      std::string_view function = line.substr(at + kProperties.size());
      while (!function.empty() &&
             (function.back() == ' ' || function.back() == '\r'))
        function.remove_suffix(1);
      inProperties = function == name;
      counted = inProperties || std::find(entries.begin(), entries.end(),
                                          function) == entries.end();
      return;
    }
    if (line.find("spill stores") != std::string_view::npos) {
      if (counted) {
        info.spillStores += numberFor(line, " bytes spill stores");
        info.spillLoads += numberFor(line, " bytes spill loads");
      }
      if (inProperties)
        info.stackBytes = numberFor(line, " bytes stack frame");
      return;
    }
    if (inEntry && line.find("Used ") != std::string_view::npos &&
        line.find(" registers") != std::string_view::npos) {
      info.parsed = true;
      info.registers = numberFor(line, " registers");
      info.sharedBytes = numberFor(line, " bytes smem");
      info.constantBytes = numberFor(line, " bytes cmem[0]");
      inEntry = false;
    }
  });
  return info;
}

Expected<const Nvrtc *> Nvrtc::load() {
  static const Expected<const Nvrtc *> loaded =
      []() -> Expected<const Nvrtc *> {
    std::string tried;
    void *handle = nullptr;
    std::string path;
    for (const std::string &candidate : libraryCandidates()) {
      handle = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (handle) {
        path = candidate;
        break;
      }
      tried += "  " + candidate + "\n";
    }
    if (!handle)
      return Error("nvrtc not found: no loadable libnvrtc.so (set "
                   "CUDAToolkit_ROOT to a CUDA toolkit)",
                   "tried:\n" + tried);
    static Api api;
    struct Symbol {
      const char *name;
      void **slot;
    };
    const Symbol symbols[] = {
        {"nvrtcGetErrorString", reinterpret_cast<void **>(&api.getErrorString)},
        {"nvrtcVersion", reinterpret_cast<void **>(&api.version)},
        {"nvrtcCreateProgram", reinterpret_cast<void **>(&api.createProgram)},
        {"nvrtcDestroyProgram", reinterpret_cast<void **>(&api.destroyProgram)},
        {"nvrtcCompileProgram", reinterpret_cast<void **>(&api.compileProgram)},
        {"nvrtcGetPTXSize", reinterpret_cast<void **>(&api.getPTXSize)},
        {"nvrtcGetPTX", reinterpret_cast<void **>(&api.getPTX)},
        {"nvrtcGetCUBINSize", reinterpret_cast<void **>(&api.getCUBINSize)},
        {"nvrtcGetCUBIN", reinterpret_cast<void **>(&api.getCUBIN)},
        {"nvrtcGetProgramLogSize",
         reinterpret_cast<void **>(&api.getProgramLogSize)},
        {"nvrtcGetProgramLog", reinterpret_cast<void **>(&api.getProgramLog)},
    };
    for (const Symbol &s : symbols) {
      *s.slot = dlsym(handle, s.name);
      if (!*s.slot)
        return Error("nvrtc at " + path + " lacks " + s.name +
                     " (too old; CUDA 11.1 or newer is needed)");
    }
    static Nvrtc nvrtc;
    nvrtc.api_ = &api;
    nvrtc.path_ = path;
    api.version(&nvrtc.version_.first, &nvrtc.version_.second);
    for (const std::string &root : toolkitRoots()) {
      std::error_code ec;
      if (std::filesystem::exists(
              std::filesystem::path(root) / "include" / "cuda_fp16.h", ec)) {
        nvrtc.includeDir_ = (std::filesystem::path(root) / "include").string();
        break;
      }
    }
    return static_cast<const Nvrtc *>(&nvrtc);
  }();
  return loaded;
}

std::vector<std::string> Nvrtc::options(std::string_view arch) const {
  std::vector<std::string> opts = {"-arch=" + std::string(arch), "-std=c++17",
                                   "--use_fast_math", "--ptxas-options=-v"};
  if (!includeDir_.empty())
    opts.push_back("-I" + includeDir_);
  return opts;
}

static bool isRealArch(std::string_view arch) {
  if (arch.substr(0, 3) != "sm_" || arch.size() < 5)
    return false;
  std::size_t i = 3;
  while (i < arch.size() && arch[i] >= '0' && arch[i] <= '9')
    ++i;
  return i >= 5 && (i == arch.size() || (i + 1 == arch.size() &&
                                         (arch[i] == 'a' || arch[i] == 'f')));
}

Expected<CompiledKernel>
Nvrtc::compile(std::string_view source, std::string_view name,
               std::string_view arch,
               const std::vector<std::string> &extraOptions,
               const std::vector<SourceHeader> &headers) const {
  if (!isRealArch(arch))
    return Error("nvrtc: arch '" + std::string(arch) +
                 "' is not a real architecture such as sm_80 or sm_90 (a cubin "
                 "needs one; 'native' needs the CUDA driver)");
  CompiledKernel out;
  out.name = std::string(name);
  out.arch = std::string(arch);
  out.options = options(arch);
  out.options.insert(out.options.end(), extraOptions.begin(),
                     extraOptions.end());
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx",
                static_cast<unsigned long long>(fnv1a(source)));
  const std::string stem =
      std::string(name) + "-" + std::string(arch) + "-" + hash;
  const std::string srcName = std::string(name) + ".cu";
  const std::string sourceText(source);

  std::vector<const char *> headerTexts, headerNames, optionPtrs;
  for (const SourceHeader &h : headers) {
    headerTexts.push_back(h.text.c_str());
    headerNames.push_back(h.name.c_str());
  }
  for (const std::string &o : out.options)
    optionPtrs.push_back(o.c_str());

  nvrtcProgram program = nullptr;
  nvrtcResult rc = api_->createProgram(
      &program, sourceText.c_str(), srcName.c_str(),
      static_cast<int>(headers.size()), headerTexts.data(), headerNames.data());
  if (rc != 0)
    return Error(std::string("nvrtc: nvrtcCreateProgram failed: ") +
                 api_->getErrorString(rc));
  struct Destroy {
    const Api *api;
    nvrtcProgram *p;
    ~Destroy() { api->destroyProgram(p); }
  } destroy{api_, &program};

  const auto start = std::chrono::steady_clock::now();
  rc = api_->compileProgram(program, static_cast<int>(optionPtrs.size()),
                            optionPtrs.data());
  out.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::size_t logSize = 0;
  if (api_->getProgramLogSize(program, &logSize) == 0 && logSize > 1) {
    out.log.resize(logSize);
    api_->getProgramLog(program, out.log.data());
    out.log.resize(out.log.find_last_not_of('\0') + 1);
  }
  if (rc != 0) {
    const std::string path = dumpSource(source, stem, ".cu");
    return Error("nvrtc: compiling " + std::string(name) + " for " +
                     std::string(arch) + " failed (" +
                     api_->getErrorString(rc) + "); source: " + path,
                 "options: " + joinOptions(out.options) + "\nsource: " + path +
                     "\nlog:\n" + out.log);
  }
  std::size_t size = 0;
  if (api_->getPTXSize(program, &size) == 0 && size > 0) {
    out.ptx.resize(size);
    api_->getPTX(program, out.ptx.data());
    out.ptx.resize(out.ptx.find_last_not_of('\0') + 1);
  }
  size = 0;
  if (api_->getCUBINSize(program, &size) != 0 || size == 0)
    return Error("nvrtc: no cubin for " + std::string(arch),
                 "options: " + joinOptions(out.options));
  out.cubin.resize(size);
  api_->getCUBIN(program, out.cubin.data());
  out.ptxasInfo = parsePtxasInfo(out.log, name);

  if (!dumpDirectory().empty()) {
    dumpSource(source, stem, ".cu");
    dumpSource(out.ptx, stem, ".ptx");
    dumpSource("options: " + joinOptions(out.options) + "\n" + out.log, stem,
               ".log");
  }
  return out;
}

} // namespace lace::jit
