//===- Compiler.cpp - From a .lace pattern to a KernelPlan ----------------===//
#include "lace/Compiler.h"

#include "lace/Codegen/PatternToCpp.h"
#include "lace/Dialect/LaceOps.h"
#include "lace/Frontend/Diagnostics.h"
#include "lace/Frontend/Interpreter.h"
#include "lace/Frontend/Program.h"
#include "lace/Layout/BlockLayout.h"
#include "lace/Lowering/LowerToLace.h"
#include "lace/Transforms/LacePasses.h"
#include "lace/Transforms/LayoutTables.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>

namespace lace {

namespace fe = frontend;

struct Compiler::State {
  fe::DiskFileProvider disk;
  fe::MemoryFileProvider memory;
  std::unique_ptr<fe::SourceManager> sources;
  fe::Program program;
};

Compiler::Compiler(std::unique_ptr<State> state) : state_(std::move(state)) {
  std::vector<std::string> names = patterns();
  if (!names.empty())
    selected_ = names.front();
}

Compiler::~Compiler() = default;

namespace {

Expected<std::unique_ptr<Compiler>> loaded(std::unique_ptr<Compiler> compiler,
                                           const fe::DiagnosticEngine &diags,
                                           const fe::Program &program,
                                           const std::string &path) {
  if (!program.ok || diags.hasErrors())
    return Error("cannot load " + path, diags.renderAll());
  if (compiler->patterns().empty())
    return Error(path + " defines no pattern");
  return compiler;
}

} // namespace

Expected<std::unique_ptr<Compiler>>
Compiler::fromFile(const std::string &path) {
  auto state = std::make_unique<State>();
  state->sources = std::make_unique<fe::SourceManager>(state->disk);
  fe::DiagnosticEngine diags(*state->sources);
  state->program = fe::loadProgram(*state->sources, path, diags);
  const fe::Program &program = state->program;
  return loaded(std::unique_ptr<Compiler>(new Compiler(std::move(state))),
                diags, program, path);
}

Expected<std::unique_ptr<Compiler>>
Compiler::fromSource(const std::string &name, std::string text) {
  auto state = std::make_unique<State>();
  state->memory.add(name, std::move(text));
  state->sources = std::make_unique<fe::SourceManager>(state->memory);
  fe::DiagnosticEngine diags(*state->sources);
  state->program = fe::loadProgram(*state->sources, name, diags);
  const fe::Program &program = state->program;
  return loaded(std::unique_ptr<Compiler>(new Compiler(std::move(state))),
                diags, program, name);
}

std::vector<std::string> Compiler::patterns() const {
  std::vector<std::string> names;
  for (const fe::Pattern *pattern :
       state_->program.patternsIn(state_->program.mainFile))
    names.push_back(pattern->name);
  return names;
}

std::optional<Error> Compiler::select(const std::string &pattern) {
  for (const std::string &name : patterns())
    if (name == pattern) {
      selected_ = pattern;
      params_.clear();
      return std::nullopt;
    }
  std::string known;
  for (const std::string &name : patterns())
    known += (known.empty() ? "" : ", ") + name;
  return Error("no pattern named '" + pattern + "' (the file defines " + known +
               ")");
}

void Compiler::setParam(const std::string &name, const std::string &value) {
  for (auto &param : params_)
    if (param.first == name) {
      param.second = value;
      return;
    }
  params_.emplace_back(name, value);
}

namespace {

/// Collects MLIR diagnostics as "file:line:col: error: message" lines.
class DiagnosticCollector {
public:
  explicit DiagnosticCollector(mlir::MLIRContext &context)
      : handler_(&context, [this](mlir::Diagnostic &diag) {
          text_ += diagnosticLine(diag) + "\n";
          return mlir::success();
        }) {
    context.printOpOnDiagnostic(false);
  }
  const std::string &text() const { return text_; }

private:
  std::string text_;
  mlir::ScopedDiagnosticHandler handler_;
};

/// The distinct head layouts the pipeline left in the module (or, with
/// `transposed`, their transposes, which lace-materialize-layout adds), in
/// the table form that is smaller over all of them.
LayoutTables tablesFrom(mlir::ModuleOp module, std::int64_t heads,
                        bool transposed = false) {
  LayoutTables tables;
  tables.headToLayout.assign(static_cast<std::size_t>(heads), -1);
  std::vector<layout::BlockLayout> layouts;
  for (LayoutOp op : module.getOps<LayoutOp>()) {
    for (std::int64_t h : op.getHeads())
      if (h >= 0 && h < heads)
        tables.headToLayout[static_cast<std::size_t>(h)] =
            static_cast<std::int32_t>(layouts.size());
    if (!transposed) {
      layouts.push_back(decodeLayout(op));
    } else if (std::optional<layout::BlockLayout> t = decodeTransposed(op)) {
      layouts.push_back(std::move(*t));
    } else {
      return {}; // not materialised: a forward-only plan
    }
  }
  if (layouts.empty())
    return tables;
  tables.numLayouts = static_cast<std::int32_t>(layouts.size());
  tables.numRows = static_cast<std::int32_t>(layouts.front().numRows);
  tables.numCols = static_cast<std::int32_t>(layouts.front().numCols);
  std::size_t runBytes = 0, bsrBytes = 0;
  std::vector<layout::BSR> bsrs;
  for (const layout::BlockLayout &l : layouts) {
    runBytes += l.rowOffsets.size() * 4 + l.runs.size() * 12;
    bsrs.push_back(l.toBSR());
    bsrBytes += bsrs.back().rowPtr.size() * 4 + bsrs.back().colIdx.size() * 5;
  }
  if (runBytes <= bsrBytes) {
    tables.form = LayoutTables::Form::Runs;
    for (const layout::BlockLayout &l : layouts) {
      const std::int32_t base =
          static_cast<std::int32_t>(tables.runs.size() / 3);
      for (std::int32_t offset : l.rowOffsets)
        tables.rowOffsets.push_back(base + offset);
      for (const layout::Run &run : l.runs)
        tables.runs.insert(
            tables.runs.end(),
            {run.begin, run.end, static_cast<std::int32_t>(run.kind)});
    }
  } else {
    tables.form = LayoutTables::Form::BSR;
    for (const layout::BSR &b : bsrs) {
      const std::int32_t base =
          static_cast<std::int32_t>(tables.bsrColIdx.size());
      for (std::int32_t offset : b.rowPtr)
        tables.bsrRowPtr.push_back(base + offset);
      tables.bsrColIdx.insert(tables.bsrColIdx.end(), b.colIdx.begin(),
                              b.colIdx.end());
      tables.bsrIsFull.insert(tables.bsrIsFull.end(), b.isFull.begin(),
                              b.isFull.end());
    }
  }
  return tables;
}

/// Does the mask `value` only ever contribute positively to the pattern's
/// mask (never under a complement or on the right of a difference)?
bool onlyPositive(mlir::Value value) {
  for (mlir::OpOperand &use : value.getUses()) {
    mlir::Operation *user = use.getOwner();
    if (mlir::isa<YieldOp>(user))
      continue;
    if (auto difference = mlir::dyn_cast<DifferenceOp>(user)) {
      if (difference.getRhs() == value)
        return false;
      if (!onlyPositive(difference.getResult()))
        return false;
      continue;
    }
    if (mlir::isa<UnionOp, IntersectOp>(user)) {
      if (!onlyPositive(user->getResult(0)))
        return false;
      continue;
    }
    return false; // complement, or anything this check does not know
  }
  return true;
}

/// Segment ids arrive at run time, so the layout of a pattern with
/// `segment` is built with every segment replaced by `full` (a superset of
/// its live tiles, as long as segments only add to the mask) and then every
/// tile marked Partial: the kernel evaluates the segment test per element.
/// Exact, but it skips no tile across documents (docs/runtime.md).
std::optional<Error> segmentsAsPartial(mlir::ModuleOp module) {
  llvm::SmallVector<SegmentOp> segments;
  module.walk([&](SegmentOp op) { segments.push_back(op); });
  for (SegmentOp op : segments) {
    if (!onlyPositive(op.getResult()))
      return Error("a segment mask under a complement or on the right of a "
                   "difference is not supported yet");
    mlir::OpBuilder builder(op);
    auto full = builder.create<FullOp>(op.getLoc());
    op.getResult().replaceAllUsesWith(full.getResult());
    op.erase();
  }
  return std::nullopt;
}

void markEveryTilePartial(LayoutTables &tables) {
  for (std::size_t i = 2; i < tables.runs.size(); i += 3)
    tables.runs[i] = 1; // kTilePartial
  for (std::uint8_t &full : tables.bsrIsFull)
    full = 0;
}

} // namespace

BundledPlan Compiler::bundle(KernelPlan plan) const {
  BundledPlan bundled;
  bundled.plan = std::move(plan);
  const fe::SourceManager &sources = *state_->sources;
  const fe::FileId main = state_->program.mainFile;
  bundled.sources.push_back(
      {std::string(sources.path(main)), std::string(sources.contents(main))});
  for (const fe::ParsedFile &file : state_->program.files)
    if (file.file != main)
      bundled.sources.push_back({std::string(sources.path(file.file)),
                                 std::string(sources.contents(file.file))});
  bundled.params = params_;
  return bundled;
}

Expected<ReferenceOutputs> Compiler::reference(const AttentionInputs &inputs,
                                               float scale) const {
  const fe::Pattern *pattern = state_->program.find(selected_);
  if (!pattern)
    return Error("instantiating: no pattern selected");
  return referenceFor(*pattern, *state_->sources, params_, inputs, scale);
}

Expected<ReferenceGradients>
Compiler::referenceBackward(const AttentionInputs &inputs,
                            const std::vector<std::uint16_t> &dout,
                            float scale) const {
  const fe::Pattern *pattern = state_->program.find(selected_);
  if (!pattern)
    return Error("instantiating: no pattern selected");
  return referenceBackwardFor(*pattern, *state_->sources, params_, inputs, dout,
                              scale);
}

Expected<KernelPlan> Compiler::plan(const ProblemShape &requested,
                                    const PlanOptions &options) const {
  const ProblemShape shape = requested.resolved();
  if (std::string why = shape.validate(); !why.empty())
    return Error("planning " + selected_ + ": " + why);
  const fe::Pattern *pattern = state_->program.find(selected_);
  if (!pattern)
    return Error("planning: no pattern selected");

  std::vector<fe::ParamOverride> overrides;
  for (const auto &[name, value] : params_)
    overrides.push_back({name, value});
  {
    fe::DiagnosticEngine diags(*state_->sources);
    if (!fe::bindParams(*pattern, overrides, diags) || diags.hasErrors())
      return Error("planning " + selected_ + ": bad parameters",
                   diags.renderAll());
  }
  KernelPlan plan;
  plan.pattern = selected_;
  plan.usesSegments = fe::usesSegments(*pattern);
  plan.shape = shape;
  plan.spec.dtype = options.dtype;
  plan.spec.headDim = options.headDim;
  plan.spec.tiles = options.tiles;
  const jit::TileConfig tiles = plan.spec.resolvedTiles();
  if (std::string why = plan.spec.validate(); !why.empty())
    return Error("planning " + selected_ + ": " + why);

  mlir::MLIRContext context;
  DiagnosticCollector collector(context);
  const fe::Pattern *selected[] = {pattern};
  mlir::OwningOpRef<mlir::ModuleOp> module =
      lowerToLace(context, *state_->sources, selected, overrides);
  if (!module)
    return Error("planning " + selected_ + ": lowering failed",
                 collector.text());

  // The kernel's functions: one pattern for every head (`h` symbolic).
  mlir::OwningOpRef<mlir::ModuleOp> kernelModule = module->clone();
  {
    mlir::PassManager pm(&context);
    LaceSpecializeOptions specialize;
    specialize.patternName = selected_;
    specialize.batch = shape.batch;
    specialize.heads = shape.heads;
    specialize.kvHeads = shape.kvHeads;
    specialize.seqQ = shape.seqQ;
    specialize.seqK = shape.seqK;
    specialize.blockM = tiles.blockM;
    specialize.blockN = tiles.blockN;
    specialize.perHead = false;
    pm.addPass(createLaceSpecialize(specialize));
    if (mlir::failed(pm.run(*kernelModule)))
      return Error("planning " + selected_ + ": specialisation failed",
                   collector.text());
    mlir::FailureOr<PatternFunctions> functions =
        emitPatternFunctions(*kernelModule);
    if (mlir::failed(functions))
      return Error("planning " + selected_ + ": kernel generation failed",
                   collector.text());
    plan.spec.helpers = functions->helpers;
    plan.spec.liveBody = functions->liveBody;
    plan.spec.scoreBody = functions->scoreBody;
    plan.spec.scoreGradBody = functions->scoreGradBody;
    // The key is the IR without the pattern's name: two patterns that
    // lower to the same IR share one kernel.
    int index = 0;
    for (PatternOp op :
         llvm::make_early_inc_range(kernelModule->getOps<PatternOp>())) {
      const std::string name = "lace_kernel_g" + std::to_string(index++);
      if (mlir::failed(mlir::SymbolTable::replaceAllSymbolUses(
              op, mlir::StringAttr::get(&context, name), *kernelModule)))
        return Error("planning " + selected_ + ": cannot rename the pattern");
      op.setSymName(name);
      if (op->hasAttr("lace.source"))
        op->setAttr("lace.source",
                    mlir::StringAttr::get(&context, "lace_kernel"));
    }
    llvm::raw_string_ostream os(plan.kernelIr);
    kernelModule->print(os);
  }

  // The block layouts of every head.
  PipelineOptions pipeline;
  pipeline.pattern = selected_;
  pipeline.batch = shape.batch;
  pipeline.heads = shape.heads;
  pipeline.kvHeads = shape.kvHeads;
  pipeline.seqQ = shape.seqQ;
  pipeline.seqK = shape.seqK;
  pipeline.blockM = tiles.blockM;
  pipeline.blockN = tiles.blockN;
  {
    const auto start = std::chrono::steady_clock::now();
    if (plan.usesSegments)
      if (std::optional<Error> error = segmentsAsPartial(*module))
        return error->withContext("planning " + selected_);
    mlir::PassManager pm(&context);
    buildLayoutPipeline(pm, pipeline);
    if (mlir::failed(pm.run(*module)))
      return Error("planning " + selected_ + ": the layout pipeline failed",
                   collector.text());
    plan.layout = tablesFrom(*module, shape.heads);
    plan.transposed = tablesFrom(*module, shape.heads, /*transposed=*/true);
    if (plan.usesSegments) {
      markEveryTilePartial(plan.layout);
      markEveryTilePartial(plan.transposed);
    }
    plan.layoutSeconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
  }
  if (std::string why = plan.validate(); !why.empty())
    return Error("planning " + selected_ + ": inconsistent plan: " + why);
  return plan;
}

} // namespace lace
