//===- KernelObject.cpp - Generated kernels as host shared objects --------===//
#include "lace/Runtime/EmulatorKernel.h"

#include "lace/Runtime/KernelSource.h"
#include "lace/Runtime/SourceDump.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace lace::emu {

namespace fs = std::filesystem;

std::string emulatorSource(std::string_view kernelSource,
                           const std::vector<KernelEntry> &entries) {
  std::string out = "// The Lace CPU emulator's build of a generated kernel.\n";
  out += jit::KernelSource::inlined("lace_emu_device.cuh");
  out += kernelSource;
  for (const KernelEntry &entry : entries)
    out += "\nextern \"C\" __attribute__((visibility(\"default\"))) void\n"
           "lace_emu_entry_" +
           entry.name + "(const void *params) {\n  " + entry.name +
           "(*static_cast<const lace::" + entry.paramsType +
           " *>(params));\n}\n";
  return out;
}

namespace {

/// Runs argv with stdout and stderr into `logPath`; the exit status or -1.
int runCommand(const std::vector<std::string> &argv,
               const std::string &logPath) {
  std::vector<char *> args;
  for (const std::string &arg : argv)
    args.push_back(const_cast<char *>(arg.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, logPath.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0)
    return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string readText(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::string joined(const std::vector<std::string> &argv) {
  std::string out;
  for (const std::string &arg : argv)
    out += (out.empty() ? "" : " ") + arg;
  return out;
}

/// A private scratch directory, removed with everything in it.
struct ScratchDir {
  fs::path path;
  ScratchDir() {
    std::string pattern =
        (fs::temp_directory_path() / "lace-emu-XXXXXX").string();
    if (mkdtemp(pattern.data()))
      path = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path.empty())
      fs::remove_all(path, ec);
  }
};

} // namespace

Expected<HostCompiler> HostCompiler::find() {
  static std::once_flag once;
  static std::optional<Expected<HostCompiler>> found;
  std::call_once(once, [] {
    HostCompiler compiler;
    const char *fromEnv = std::getenv("LACE_HOST_CXX");
#ifdef LACE_HOST_CXX
    compiler.path_ = fromEnv && *fromEnv ? fromEnv : LACE_HOST_CXX;
#else
    compiler.path_ = fromEnv && *fromEnv ? fromEnv : "c++";
#endif
    // -O1: a third of -O2's compile time for the same kernel speed here
    // (the emulator's time goes to fiber switches and collectives);
    // hidden visibility keeps each object's symbols to itself.
    compiler.flags_ = {"-std=c++17",
                       "-O1",
                       "-fPIC",
                       "-shared",
                       "-fvisibility=hidden",
                       "-fno-strict-aliasing",
                       "-w"};
    ScratchDir scratch;
    if (scratch.path.empty()) {
      found = Error("emulator: cannot create a temporary directory");
      return;
    }
    const fs::path log = scratch.path / "version.txt";
    if (runCommand({compiler.path_, "--version"}, log.string()) != 0) {
      found = Error("emulator: cannot run the host C++ compiler '" +
                        compiler.path_ + "'",
                    "set LACE_HOST_CXX to a C++17 compiler");
      return;
    }
    std::string version = readText(log);
    version = version.substr(0, version.find('\n'));
    compiler.identity_ = version + " [" + joined(compiler.flags_) + "]";
    found = std::move(compiler);
  });
  return *found;
}

Expected<std::vector<char>>
HostCompiler::compile(std::string_view source, const std::string &label) const {
  ScratchDir scratch;
  if (scratch.path.empty())
    return Error("emulator: cannot create a temporary directory");
  const fs::path sourcePath = scratch.path / (label + ".emu.cpp");
  const fs::path objectPath = scratch.path / (label + ".so");
  const fs::path logPath = scratch.path / "compile.log";
  {
    std::ofstream out(sourcePath, std::ios::binary);
    out.write(source.data(), static_cast<std::streamsize>(source.size()));
    if (!out)
      return Error("emulator: cannot write " + sourcePath.string());
  }
  std::vector<std::string> argv = {path_};
  argv.insert(argv.end(), flags_.begin(), flags_.end());
  argv.insert(argv.end(),
              {"-o", objectPath.string(), "-x", "c++", sourcePath.string()});
  if (!jit::dumpDirectory().empty())
    jit::dumpSource(source, label, ".emu.cpp");
  const int rc = runCommand(argv, logPath.string());
  if (rc != 0) {
    const std::string kept = jit::dumpSource(source, label, ".emu.cpp");
    return Error("emulator: compiling " + label +
                     " with the host compiler "
                     "failed; source: " +
                     kept,
                 "command: " + joined(argv) + "\nlog:\n" + readText(logPath));
  }
  std::ifstream in(objectPath, std::ios::binary);
  std::vector<char> bytes{std::istreambuf_iterator<char>(in), {}};
  if (bytes.empty())
    return Error("emulator: the host compiler wrote no object for " + label);
  return bytes;
}

Expected<std::shared_ptr<KernelObject>>
KernelObject::load(const std::vector<char> &sharedObject,
                   const std::string &label) {
  std::shared_ptr<KernelObject> object(new KernelObject());
  // dlopen needs a file: an anonymous in-memory one, so nothing is left on
  // disk and two objects never share a path.
  object->memfd_ = memfd_create(("lace-" + label).c_str(), MFD_CLOEXEC);
  if (object->memfd_ < 0)
    return Error("emulator: memfd_create failed: " +
                 std::string(std::strerror(errno)));
  std::size_t written = 0;
  while (written < sharedObject.size()) {
    ssize_t n = write(object->memfd_, sharedObject.data() + written,
                      sharedObject.size() - written);
    if (n <= 0)
      return Error("emulator: writing the kernel object failed: " +
                   std::string(std::strerror(errno)));
    written += static_cast<std::size_t>(n);
  }
  const std::string path = "/proc/self/fd/" + std::to_string(object->memfd_);
  object->handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!object->handle_)
    return Error("emulator: loading kernel object " + label +
                 " failed: " + dlerror());
  object->label_ = label;
  auto bind = reinterpret_cast<int (*)(const Hooks *)>(
      dlsym(object->handle_, "lace_emu_bind"));
  if (!bind)
    return Error("emulator: " + label +
                 " is not a Lace emulator kernel (no lace_emu_bind)");
  const int version = bind(&hookTable());
  if (version != kAbiVersion)
    return Error("emulator: " + label + " was built for emulator ABI " +
                 std::to_string(version) + ", this runtime has " +
                 std::to_string(kAbiVersion));
  return object;
}

KernelObject::~KernelObject() {
  if (handle_)
    dlclose(handle_);
  if (memfd_ >= 0)
    close(memfd_);
}

std::optional<Error> KernelObject::launch(const LaunchConfig &config,
                                          const std::string &entry,
                                          const void *params) const {
  const std::string symbol = "lace_emu_entry_" + entry;
  auto main = reinterpret_cast<ThreadMain>(dlsym(handle_, symbol.c_str()));
  if (!main)
    return Error("emulator: " + label_ + " has no kernel " + entry + " (" +
                 symbol + ")");
  return emu::launch(main, config, params);
}

} // namespace lace::emu
