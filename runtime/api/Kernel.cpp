//===- Kernel.cpp - Argument checks and kernel parameters -----------------===//
#include "LaunchParams.h"

#include <atomic>

#include "lace/Runtime/Sha256.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <tuple>

namespace lace {

TensorRef TensorRef::contiguous(const void *data, std::int64_t batch,
                                std::int64_t seq, std::int64_t heads,
                                std::int64_t headDim) {
  TensorRef t;
  t.data = data;
  t.shape = {batch, seq, heads, headDim};
  t.strides = {seq * heads * headDim, heads * headDim, headDim, 1};
  return t;
}

AttentionTensors contiguousTensors(const AttentionInputs &in, const void *q,
                                   const void *k, const void *v,
                                   const void *o) {
  const ProblemShape &s = in.shape;
  const int d = in.headDim;
  return {TensorRef::contiguous(q, s.batch, s.seqQ, s.heads, d),
          TensorRef::contiguous(k, s.batch, s.seqK, s.kvHeads, d),
          TensorRef::contiguous(v, s.batch, s.seqK, s.kvHeads, d),
          TensorRef::contiguous(o, s.batch, s.seqQ, s.heads, d)};
}

BackwardTensors backwardTensors(const AttentionInputs &in, const void *q,
                                const void *k, const void *v, const void *o,
                                const void *dout, const float *lse, void *dq,
                                void *dk, void *dv, float *delta) {
  const AttentionTensors forward = contiguousTensors(in, q, k, v, o);
  const AttentionTensors grads = contiguousTensors(in, dq, dk, dv, dout);
  return {forward.q, forward.k, forward.v, forward.o, grads.o,
          lse,       grads.q,   grads.k,   grads.v,   delta};
}

namespace {
std::string shapeText(const std::array<std::int64_t, 4> &s) {
  return "[" + std::to_string(s[0]) + ", " + std::to_string(s[1]) + ", " +
         std::to_string(s[2]) + ", " + std::to_string(s[3]) + "]";
}

std::optional<Error> checkTensor(const char *name, const TensorRef &t,
                                 const std::array<std::int64_t, 4> &expected,
                                 const std::string &call = "forward") {
  if (!t.data)
    return Error(call + ": " + name + " is null");
  if (t.shape != expected)
    return Error(call + ": " + name + " has shape " + shapeText(t.shape) +
                 ", the kernel was planned for " + shapeText(expected) +
                 " ([batch, seq, heads, head_dim])");
  if (t.strides[3] != 1)
    return Error(call + ": " + name +
                 " must be contiguous in head_dim (stride " +
                 std::to_string(t.strides[3]) + ", expected 1)");
  for (int d = 0; d < 3; ++d)
    if (t.strides[d] % 8 != 0 || t.strides[d] < 0)
      return Error(call + ": " + name + " stride " +
                   std::to_string(t.strides[d]) + " of dimension " +
                   std::to_string(d) +
                   " is not a non-negative multiple of 8 elements (the "
                   "kernel copies 16 bytes at a time)");
  if (reinterpret_cast<std::uintptr_t>(t.data) % 16 != 0)
    return Error(call + ": " + name + " is not 16-byte aligned");
  return std::nullopt;
}

/// The softmax scale: positive and finite, or 0 for 1/sqrt(head_dim). The
/// forward takes the row max over raw scores and folds the scale into the
/// exponent, which is only right for a positive scale.
std::optional<Error> checkScale(float scale, const std::string &call) {
  if (scale == 0.f || (scale > 0.f && std::isfinite(scale)))
    return std::nullopt;
  return Error(call + ": the softmax scale " + std::to_string(scale) +
               " is not positive and finite (0 takes 1/sqrt(head_dim))");
}

std::optional<Error> checkSegments(const KernelPlan &plan,
                                   const SegmentIdsRef &segments,
                                   const std::string &call) {
  if (plan.usesSegments) {
    if (!segments.q)
      return Error(call + ": " + plan.pattern +
                   " uses segment ids: pass them (SegmentIdsRef)");
    if (!segments.k && plan.shape.seqK != plan.shape.seqQ)
      return Error(call + ": seq_k differs from seq_q: pass the key segment "
                          "ids too");
  }
  return std::nullopt;
}
} // namespace

std::optional<Error>
Kernel::checkArguments(const TensorRef &q, const TensorRef &k,
                       const TensorRef &v, const TensorRef &o,
                       const SegmentIdsRef &segments, float scale) const {
  if (auto error = checkScale(scale, "forward"))
    return error;
  if (auto error = checkSegments(plan_, segments, "forward"))
    return error;
  const ProblemShape &s = plan_.shape;
  const std::int64_t d = plan_.spec.headDim;
  if (auto error = checkTensor("q", q, {s.batch, s.seqQ, s.heads, d}))
    return error;
  if (auto error = checkTensor("k", k, {s.batch, s.seqK, s.kvHeads, d}))
    return error;
  if (auto error = checkTensor("v", v, {s.batch, s.seqK, s.kvHeads, d}))
    return error;
  if (auto error = checkTensor("o", o, {s.batch, s.seqQ, s.heads, d}))
    return error;
  return std::nullopt;
}

std::optional<Error>
Kernel::checkBackwardArguments(const BackwardTensors &t,
                               const SegmentIdsRef &segments,
                               float scale) const {
  const std::string call = "backward";
  if (auto error = checkScale(scale, call))
    return error;
  if (!hasBackward())
    return Error(call + ": " + plan_.pattern +
                 " was loaded without its backward kernels: load it with "
                 "LoadOptions::backward");
  if (auto error = checkSegments(plan_, segments, call))
    return error;
  const ProblemShape &s = plan_.shape;
  const std::int64_t d = plan_.spec.headDim;
  const std::array<std::int64_t, 4> queries = {s.batch, s.seqQ, s.heads, d};
  const std::array<std::int64_t, 4> keys = {s.batch, s.seqK, s.kvHeads, d};
  for (auto [name, tensor, shape] :
       {std::tuple{"q", &t.q, &queries}, std::tuple{"k", &t.k, &keys},
        std::tuple{"v", &t.v, &keys}, std::tuple{"o", &t.o, &queries},
        std::tuple{"dout", &t.dout, &queries},
        std::tuple{"dq", &t.dq, &queries}, std::tuple{"dk", &t.dk, &keys},
        std::tuple{"dv", &t.dv, &keys}})
    if (auto error = checkTensor(name, *tensor, *shape, call))
      return error;
  if (!t.lse)
    return Error(call + ": lse is null (pass the forward's log-sum-exp)");
  if (!t.delta)
    return Error(call + ": delta is null (a workspace of " +
                 std::to_string(backwardWorkspaceFloats()) + " floats)");
  for (auto [name, tensor] :
       {std::pair{"dq", &t.dq}, std::pair{"dk", &t.dk}, std::pair{"dv", &t.dv}})
    for (const TensorRef *input : {&t.q, &t.k, &t.v, &t.o, &t.dout})
      if (tensor->data == input->data)
        return Error(call + ": " + name +
                     " aliases an input (the kernels read the inputs while "
                     "they write the gradients)");
  return std::nullopt;
}

std::string_view backendName(Backend backend) {
  return backend == Backend::Cuda ? "cuda" : "emulator";
}

std::uint64_t Kernel::nextSerial() {
  static std::atomic<std::uint64_t> next{1};
  return next++;
}

namespace api {

namespace {
LaceTileTable tileTable(const LayoutTables &l, const TileTablePointers &at) {
  LaceTileTable t{};
  t.form = l.form == LayoutTables::Form::Runs ? kLayoutRuns : kLayoutBSR;
  t.num_rows = l.numRows;
  t.num_cols = l.numCols;
  t.row_offsets = at.rowOffsets;
  t.runs = at.runs;
  t.num_runs = static_cast<long long>(l.runs.size() / 3);
  t.bsr_row_ptr = at.bsrRowPtr;
  t.bsr_col_idx = at.bsrColIdx;
  t.bsr_is_full = at.bsrIsFull;
  t.bsr_nnz = static_cast<long long>(l.bsrColIdx.size());
  return t;
}

TileTablePointers hostTileTables(const LayoutTables &l) {
  return {l.rowOffsets.data(), l.runs.data(), l.bsrRowPtr.data(),
          l.bsrColIdx.data(), l.bsrIsFull.data()};
}
} // namespace

HostTables planTables(const KernelPlan &plan) {
  return {&plan.layout, &plan.transposed, &plan.schedule};
}

HostTables documentTables(const DocumentLayout &documents) {
  return {&documents.layout(), &documents.transposed(), &documents.schedule()};
}

TablePointers hostPointers(const HostTables &tables, float *workspace,
                           int *status) {
  TablePointers p;
  p.headToLayout = tables.layout->headToLayout.data();
  p.rows = hostTileTables(*tables.layout);
  p.cols = hostTileTables(*tables.transposed);
  p.ctaOffsets = tables.schedule->ctaOffsets.data();
  p.workItems = tables.schedule->items.data();
  p.combines = tables.schedule->combines.data();
  p.workspace = workspace;
  p.status = status;
  return p;
}

std::int64_t workspaceFloats(const KernelPlan &plan,
                             const ScheduleTables &schedule) {
  const jit::TileConfig t = plan.spec.resolvedTiles();
  return std::int64_t{schedule.numSlots} * t.blockM * (plan.spec.headDim + 1);
}

LaceBwdParams makeBackwardParams(const KernelPlan &plan, const HostTables &host,
                                 const TablePointers &tables,
                                 const BackwardTensors &t,
                                 const SegmentIdsRef &segments, float scale) {
  LaceBwdParams p{};
  p.fwd = makeParams(plan, host, tables, t.q, t.k, t.v, t.o,
                     const_cast<float *>(t.lse), segments, scale);
  p.dout = t.dout.data;
  p.dq = const_cast<void *>(t.dq.data);
  p.dk = const_cast<void *>(t.dk.data);
  p.dv = const_cast<void *>(t.dv.data);
  p.do_stride_b = t.dout.strides[0];
  p.do_stride_s = t.dout.strides[1];
  p.do_stride_h = t.dout.strides[2];
  p.dq_stride_b = t.dq.strides[0];
  p.dq_stride_s = t.dq.strides[1];
  p.dq_stride_h = t.dq.strides[2];
  p.dk_stride_b = t.dk.strides[0];
  p.dk_stride_s = t.dk.strides[1];
  p.dk_stride_h = t.dk.strides[2];
  p.dv_stride_b = t.dv.strides[0];
  p.dv_stride_s = t.dv.strides[1];
  p.dv_stride_h = t.dv.strides[2];
  p.delta = t.delta;
  p.cols = tileTable(*host.transposed, tables.cols);
  return p;
}

LaceFwdParams makeParams(const KernelPlan &plan, const HostTables &host,
                         const TablePointers &tables, const TensorRef &q,
                         const TensorRef &k, const TensorRef &v,
                         const TensorRef &o, float *lse,
                         const SegmentIdsRef &segments, float scale) {
  const ProblemShape &s = plan.shape;
  const LayoutTables &l = *host.layout;
  const ScheduleTables &schedule = *host.schedule;
  LaceFwdParams p{};
  p.q = q.data;
  p.k = k.data;
  p.v = v.data;
  p.o = const_cast<void *>(o.data);
  p.lse = lse;
  p.q_stride_b = q.strides[0];
  p.q_stride_s = q.strides[1];
  p.q_stride_h = q.strides[2];
  p.k_stride_b = k.strides[0];
  p.k_stride_s = k.strides[1];
  p.k_stride_h = k.strides[2];
  p.v_stride_b = v.strides[0];
  p.v_stride_s = v.strides[1];
  p.v_stride_h = v.strides[2];
  p.o_stride_b = o.strides[0];
  p.o_stride_s = o.strides[1];
  p.o_stride_h = o.strides[2];
  p.lse_stride_b = s.heads * s.seqQ;
  p.lse_stride_h = s.seqQ;
  p.batch = static_cast<int>(s.batch);
  p.heads = static_cast<int>(s.heads);
  p.kv_heads = static_cast<int>(s.kvHeads);
  p.seq_q = static_cast<int>(s.seqQ);
  p.seq_k = static_cast<int>(s.seqK);
  p.softmax_scale =
      scale != 0.f ? scale
                   : 1.f / std::sqrt(static_cast<float>(plan.spec.headDim));
  p.num_layouts = l.numLayouts;
  p.head_to_layout = tables.headToLayout;
  p.rows = tileTable(l, tables.rows);
  p.num_ctas = schedule.numCtas;
  p.cta_offsets = tables.ctaOffsets;
  p.work_items = tables.workItems;
  p.num_items = schedule.numItems();
  p.combines = tables.combines;
  p.num_combines = static_cast<int>(schedule.numCombines());
  p.num_slots = schedule.numSlots;
  const jit::TileConfig t = plan.spec.resolvedTiles();
  p.partial_o = tables.workspace;
  p.partial_lse = tables.workspace
                      ? tables.workspace + std::int64_t{schedule.numSlots} *
                                               t.blockM * plan.spec.headDim
                      : nullptr;
  p.q_segment_ids = segments.q;
  p.k_segment_ids = segments.k ? segments.k : segments.q;
  p.status = tables.status;
  return p;
}

LaunchShape launchShape(const KernelPlan &plan,
                        const ScheduleTables &schedule) {
  return {{static_cast<unsigned>(schedule.numCtas), 1, 1},
          static_cast<unsigned>(plan.spec.threads()),
          static_cast<unsigned>(plan.spec.sharedBytes())};
}

LaunchShape combineLaunchShape(const KernelPlan &plan,
                               const ScheduleTables &schedule) {
  return {{static_cast<unsigned>(schedule.numCombines()), 1, 1},
          static_cast<unsigned>(plan.spec.threads()),
          0};
}

LaunchShape dqLaunchShape(const KernelPlan &plan) {
  return {{static_cast<unsigned>(plan.layout.numRows),
           static_cast<unsigned>(plan.shape.heads),
           static_cast<unsigned>(plan.shape.batch)},
          static_cast<unsigned>(plan.spec.backwardDqThreads()),
          static_cast<unsigned>(plan.spec.backwardDqSharedBytes())};
}

LaunchShape dkdvLaunchShape(const KernelPlan &plan) {
  return {{static_cast<unsigned>(plan.layout.numCols),
           static_cast<unsigned>(plan.shape.kvHeads),
           static_cast<unsigned>(plan.shape.batch)},
          static_cast<unsigned>(plan.spec.backwardDkdvThreads()),
          static_cast<unsigned>(plan.spec.backwardDkdvSharedBytes())};
}

CacheKey kernelKey(const KernelPlan &plan, jit::Pass pass,
                   const std::string &source,
                   const std::string &compilerIdentity,
                   const std::string &target) {
  // The IR names the kernel; the source's digest covers the generator
  // (the same IR through a newer code generator is another kernel).
  const jit::TileConfig t = plan.spec.resolvedTiles();
  std::vector<std::string> options = {
      "dtype=" + std::string(jit::dtypeName(plan.spec.dtype)),
      "head_dim=" + std::to_string(plan.spec.headDim),
      "tiles=" + std::to_string(t.blockM) + "x" + std::to_string(t.blockN) +
          "x" + std::to_string(t.warps) + "x" + std::to_string(t.stages),
      "name=" + plan.spec.name,
      "pass=" + std::string(jit::passName(pass)),
      "source=" + toHex(Sha256::hash(source))};
  return CacheKey::forKernel(plan.kernelIr.empty() ? source : plan.kernelIr,
                             jit::kTemplateVersion, compilerIdentity, target,
                             std::move(options));
}

const KernelKeys::Entry &KernelKeys::get(const KernelPlan &plan, jit::Pass pass,
                                         const std::string &compilerIdentity,
                                         const std::string &target) {
  // Every field of the spec the source depends on, length-prefixed.
  const jit::KernelSpec &spec = plan.spec;
  const jit::TileConfig t = spec.resolvedTiles();
  std::string identity;
  for (const std::string *text :
       {&plan.kernelIr, &spec.liveExpr, &spec.liveBody, &spec.scoreExpr,
        &spec.scoreBody, &spec.scoreGradExpr, &spec.scoreGradBody,
        &spec.helpers, &spec.name})
    identity += std::to_string(text->size()) + ":" + *text;
  identity += std::string(jit::dtypeName(spec.dtype)) + "/" +
              std::to_string(spec.headDim) + "/" + std::to_string(t.blockM) +
              "/" + std::to_string(t.blockN) + "/" + std::to_string(t.warps) +
              "/" + std::to_string(t.stages) + "/" +
              std::string(jit::passName(pass));
  std::lock_guard<std::mutex> lock(mutex_);
  std::unique_ptr<Entry> &slot = entries_[identity];
  if (!slot) {
    std::string source = jit::KernelSource::generate(spec, pass);
    CacheKey key = kernelKey(plan, pass, source, compilerIdentity, target);
    slot = std::make_unique<Entry>(Entry{std::move(source), std::move(key)});
  }
  return *slot;
}

Expected<CachedKernel> findOrCompile(KernelCache &cache, const CacheKey &key,
                                     const KernelPlan &plan,
                                     FunctionRef<Expected<Payload>()> compile) {
  CachedKernel out;
  auto entry = cache.getOrCompile(key, [&]() -> Expected<Payload> {
    out.compiled = true;
    const auto start = std::chrono::steady_clock::now();
    Expected<Payload> payload = compile();
    out.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    return payload;
  });
  if (!entry)
    return std::move(entry).error().withContext("loading " + plan.pattern);
  out.entry = std::move(*entry);
  return out;
}

std::string describeStatus(int status) {
  std::string text;
  if (status & kStatusBadLayoutIndex)
    text += "a head names a layout that does not exist; ";
  if (status & kStatusBadRowOffset)
    text += "a row offset lies outside the layout table; ";
  if (status & kStatusBadTile)
    text += "a run or column lies outside the k-tiles; ";
  if (!text.empty())
    text.resize(text.size() - 2);
  return text;
}

} // namespace api
} // namespace lace
