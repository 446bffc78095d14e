//===- GpuCheck.cpp - The device check: correctness and timings -----------===//
//
//   lace-gpu-check --device cuda|emulator --out DIR
//                  [--correctness DIR] [--timing DIR] [--dump DIR]
//
// Runs every plan of the kernel bundles in --correctness on seeded random
// inputs, forward and backward, and compares O and LSE, then dQ, dK and dV
// (for a random upstream gradient) with the float64 reference (the bundled
// .lace sources on the interpreter); times the forward and the backward of
// every plan in --timing (CUDA events after warm-up, median over repeats,
// input sets rotated past the L2 cache); writes lace_correctness.csv and
// lace_timing.csv to --out and prints both tables. --dump writes the
// inputs, the upstream gradient and Lace's output and gradients of the bf16
// head-dim-128 correctness cases for torch_baselines.py to compare with
// PyTorch. Exit status 1 when a correctness case fails. Built in
// runtime-only configurations: it needs no compiler.
//
//===----------------------------------------------------------------------===//
#include "lace/Reference.h"
#include "lace/Runtime/KernelBundle.h"
#include "lace/Runtime/Runtime.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using namespace lace;

namespace {

struct Options {
  Backend backend = Backend::Cuda;
  fs::path out = ".", correctness, timing, dump;
};

struct Case {
  BundledPlan bundled;
  std::string file;
  std::shared_ptr<const Kernel> kernel;
  std::string error;
};

std::vector<Case> loadCases(const fs::path &dir) {
  std::vector<Case> cases;
  if (dir.empty())
    return cases;
  std::vector<fs::path> files;
  for (const auto &entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".lacebundle")
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const fs::path &file : files) {
    auto bundle = loadBundleFile(file);
    if (!bundle) {
      Case failed;
      failed.file = file.filename().string();
      failed.error = bundle.error().str();
      cases.push_back(std::move(failed));
      continue;
    }
    for (BundledPlan &plan : *bundle)
      cases.push_back({std::move(plan), file.filename().string(), nullptr, ""});
  }
  return cases;
}

/// Compiles (or finds in the cache) every case's kernel, several at once.
void loadKernels(Runtime &runtime, std::vector<Case> &cases) {
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < cases.size();) {
      Case &c = cases[i];
      if (!c.error.empty())
        continue;
      LoadOptions options;
      options.backward = true;
      auto kernel = runtime.load(c.bundled.plan, options);
      if (kernel)
        c.kernel = std::move(*kernel);
      else
        c.error = kernel.error().str();
    }
  };
  const unsigned jobs = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
  std::vector<std::thread> pool;
  for (unsigned j = 0; j < jobs; ++j)
    pool.emplace_back(work);
  for (std::thread &t : pool)
    t.join();
}

std::string shapeText(const KernelPlan &p) {
  std::ostringstream os;
  os << p.shape.batch << "x" << p.shape.heads << "/" << p.shape.kvHeads << "x"
     << p.shape.seqQ;
  if (p.shape.seqK != p.shape.seqQ)
    os << ":" << p.shape.seqK;
  return os.str();
}

std::string paramsText(const BundledPlan &b) {
  std::string text;
  for (const auto &[name, value] : b.params)
    text += (text.empty() ? "" : ";") + name + "=" + value;
  return text;
}

template <class T>
void writeRaw(const fs::path &path, const std::vector<T> &values) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char *>(values.data()),
            static_cast<std::streamsize>(values.size() * sizeof(T)));
}

std::uint64_t seedOf(const std::string &text) {
  std::uint64_t h = 14695981039346656037ull;
  for (char c : text)
    h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h % 1000000;
}

/// Runs the correctness cases; returns the number that failed.
int runCorrectness(Runtime &runtime, std::vector<Case> &cases,
                   const Options &options) {
  std::ofstream csv(options.out / "lace_correctness.csv");
  csv << "bundle,pattern,params,dtype,head_dim,shape,seed,out_error,"
         "lse_error,dq_error,dk_error,dv_error,status\n";
  std::ofstream manifest;
  if (!options.dump.empty()) {
    fs::create_directories(options.dump);
    manifest.open(options.dump / "manifest.csv");
    manifest << "name,pattern,params,dtype,head_dim,batch,heads,kv_heads,"
                "seq_q,seq_k,seed\n";
  }
  std::printf("\n%-30s %-5s %4s %-14s %9s %9s %9s %9s %9s  %s\n", "correctness",
              "dtype", "d", "shape", "out err", "lse err", "dq err", "dk err",
              "dv err", "status");
  int failures = 0;
  for (Case &c : cases) {
    const KernelPlan &p = c.bundled.plan;
    const std::string dtype(jit::dtypeName(p.spec.dtype));
    const std::string label =
        p.pattern + "-" + dtype + "-d" + std::to_string(p.spec.headDim);
    std::string status = c.error;
    Agreement agreement;
    GradientAgreement gradients;
    const std::uint64_t seed = seedOf(label);
    if (status.empty()) {
      AttentionInputs in = randomInputs(p.shape, p.spec.dtype, p.spec.headDim,
                                        seed, p.usesSegments);
      const std::vector<std::uint16_t> dout = randomOutputGradient(in, seed);
      auto run = runtime.backwardOnHost(*c.kernel, in, dout);
      auto reference = referenceForBundle(c.bundled, in);
      auto referenceGradients = referenceBackwardForBundle(c.bundled, in, dout);
      if (!run)
        status = run.error().str();
      else if (!reference)
        status = reference.error().str();
      else if (!referenceGradients)
        status = referenceGradients.error().str();
      else {
        agreement = compareWithReference(*reference, in, run->outputs, 1e-2);
        gradients =
            compareGradients(*referenceGradients, in, run->gradients, 1e-2);
        status =
            agreement.failure.empty() && gradients.failure.empty()
                ? "ok"
                : agreement.failure +
                      (agreement.failure.empty() || gradients.failure.empty()
                           ? ""
                           : "; ") +
                      gradients.failure;
        if (manifest.is_open() && p.spec.dtype == DType::BF16 &&
            p.spec.headDim == 128) {
          writeRaw(options.dump / (label + ".q.bin"), in.q);
          writeRaw(options.dump / (label + ".k.bin"), in.k);
          writeRaw(options.dump / (label + ".v.bin"), in.v);
          writeRaw(options.dump / (label + ".o.bin"), run->outputs.o);
          writeRaw(options.dump / (label + ".do.bin"), dout);
          writeRaw(options.dump / (label + ".dq.bin"), run->gradients.dq);
          writeRaw(options.dump / (label + ".dk.bin"), run->gradients.dk);
          writeRaw(options.dump / (label + ".dv.bin"), run->gradients.dv);
          manifest << label << "," << p.pattern << "," << paramsText(c.bundled)
                   << "," << dtype << "," << p.spec.headDim << ","
                   << p.shape.batch << "," << p.shape.heads << ","
                   << p.shape.kvHeads << "," << p.shape.seqQ << ","
                   << p.shape.seqK << "," << seed << "\n";
        }
      }
    }
    const bool ok = status == "ok";
    failures += !ok;
    std::string oneLine = status.substr(0, status.find('\n'));
    std::printf("%-30s %-5s %4d %-14s %9.2e %9.2e %9.2e %9.2e %9.2e  %s\n",
                p.pattern.c_str(), dtype.c_str(), p.spec.headDim,
                shapeText(p).c_str(), agreement.outError, agreement.lseError,
                gradients.dqError, gradients.dkError, gradients.dvError,
                oneLine.c_str());
    std::replace(oneLine.begin(), oneLine.end(), ',', ';');
    csv << c.file << "," << p.pattern << "," << paramsText(c.bundled) << ","
        << dtype << "," << p.spec.headDim << "," << shapeText(p) << "," << seed
        << "," << agreement.outError << "," << agreement.lseError << ","
        << gradients.dqError << "," << gradients.dkError << ","
        << gradients.dvError << "," << oneLine << "\n";
  }
  std::printf("correctness: %zu cases, %d failed\n", cases.size(), failures);
  return failures;
}

void runTiming(Runtime &runtime, std::vector<Case> &cases,
               const Options &options) {
  std::ofstream csv(options.out / "lace_timing.csv");
  csv << "bundle,pattern,params,dtype,head_dim,batch,heads,kv_heads,seq_q,"
         "seq_k,density,lace_ms,tflops_computed,lace_bwd_ms,bwd_tflops_"
         "computed,"
         "layout_ms,rotations,status\n";
  std::printf("\n%-28s %-16s %8s %10s %9s %10s %9s %10s\n", "timing", "shape",
              "density", "lace ms", "TFLOP/s", "bwd ms", "TFLOP/s",
              "layout ms");
  const bool gpu = runtime.backend() == Backend::Cuda;
  for (Case &c : cases) {
    const KernelPlan &p = c.bundled.plan;
    std::string status = c.error;
    double ms = 0, tflops = 0, bwdMs = 0, bwdTflops = 0;
    int rotations = 1;
    if (status.empty()) {
      AttentionInputs in = randomInputs(p.shape, p.spec.dtype, p.spec.headDim,
                                        7, p.usesSegments);
      const double setBytes =
          2.0 * static_cast<double>(in.q.size() + in.k.size() + in.v.size() +
                                    in.q.size());
      // H200: 60 MiB of L2; twice that in rotation.
      rotations = static_cast<int>(std::clamp(120e6 / setBytes, 1.0, 8.0));
      auto seconds =
          runtime.time(*c.kernel, in, gpu ? 5 : 1, gpu ? 30 : 2, rotations);
      // The backward's rotated sets also hold dO, dQ, dK and dV.
      auto backward =
          runtime.time(*c.kernel, in, gpu ? 5 : 1, gpu ? 30 : 2,
                       std::max(1, rotations / 2), jit::Pass::Backward);
      if (!seconds) {
        status = seconds.error().str();
      } else if (!backward) {
        status = backward.error().str();
      } else {
        ms = median(*seconds) * 1e3;
        tflops = p.computedFlops() / (ms * 1e-3) * 1e-12;
        bwdMs = median(*backward) * 1e3;
        bwdTflops = p.backwardFlops() / (bwdMs * 1e-3) * 1e-12;
        status = "ok";
      }
    }
    const double density = p.computedFlops() / p.denseFlops();
    std::string oneLine = status.substr(0, status.find('\n'));
    std::printf("%-28s %-16s %7.1f%% %10.3f %9.2f %10.3f %9.2f %10.2f  %s\n",
                p.pattern.c_str(), shapeText(p).c_str(), 100 * density, ms,
                tflops, bwdMs, bwdTflops, p.layoutSeconds * 1e3,
                oneLine == "ok" ? "" : oneLine.c_str());
    std::replace(oneLine.begin(), oneLine.end(), ',', ';');
    csv << c.file << "," << p.pattern << "," << paramsText(c.bundled) << ","
        << jit::dtypeName(p.spec.dtype) << "," << p.spec.headDim << ","
        << p.shape.batch << "," << p.shape.heads << "," << p.shape.kvHeads
        << "," << p.shape.seqQ << "," << p.shape.seqK << "," << density << ","
        << ms << "," << tflops << "," << bwdMs << "," << bwdTflops << ","
        << p.layoutSeconds * 1e3 << "," << rotations << "," << oneLine << "\n";
  }
}

} // namespace

int main(int argc, char **argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "lace-gpu-check: %s expects a value\n",
                     arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--device") {
      const std::string device = value();
      if (device != "cuda" && device != "emulator") {
        std::fprintf(stderr, "lace-gpu-check: --device cuda|emulator\n");
        return 2;
      }
      options.backend = device == "cuda" ? Backend::Cuda : Backend::Emulator;
    } else if (arg == "--out") {
      options.out = value();
    } else if (arg == "--correctness") {
      options.correctness = value();
    } else if (arg == "--timing") {
      options.timing = value();
    } else if (arg == "--dump") {
      options.dump = value();
    } else {
      std::fprintf(stderr, "lace-gpu-check: unknown argument '%s'\n",
                   arg.c_str());
      return 2;
    }
  }
  fs::create_directories(options.out);
  RuntimeOptions runtimeOptions;
  runtimeOptions.backend = options.backend;
  auto runtime = Runtime::create(runtimeOptions);
  if (!runtime) {
    std::fprintf(stderr, "lace-gpu-check: %s\n", runtime.error().str().c_str());
    return 1;
  }
  std::printf("device: %s\n", (*runtime)->describe().c_str());
  std::vector<Case> correctness = loadCases(options.correctness);
  std::vector<Case> timing = loadCases(options.timing);
  loadKernels(**runtime, correctness);
  loadKernels(**runtime, timing);
  int failures = 0;
  if (!correctness.empty())
    failures = runCorrectness(**runtime, correctness, options);
  if (!timing.empty())
    runTiming(**runtime, timing, options);
  return failures == 0 ? 0 : 1;
}
