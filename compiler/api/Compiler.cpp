//===- Compiler.cpp - From a .lace pattern to a KernelPlan ----------------===//
#include "lace/Compiler.h"

#include "lace/Codegen/PatternToCpp.h"
#include "lace/Dialect/LaceOps.h"
#include "lace/Frontend/Diagnostics.h"
#include "lace/Frontend/Interpreter.h"
#include "lace/Frontend/Program.h"
#include "lace/Layout/BlockLayout.h"
#include "lace/Lowering/LowerToLace.h"
#include "lace/Runtime/PlanTables.h"
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
  std::vector<std::int32_t> headToLayout(static_cast<std::size_t>(heads), -1);
  std::vector<layout::BlockLayout> layouts;
  for (LayoutOp op : module.getOps<LayoutOp>()) {
    for (std::int64_t h : op.getHeads())
      if (h >= 0 && h < heads)
        headToLayout[static_cast<std::size_t>(h)] =
            static_cast<std::int32_t>(layouts.size());
    if (!transposed) {
      layouts.push_back(decodeLayout(op));
    } else if (std::optional<layout::BlockLayout> t = decodeTransposed(op)) {
      layouts.push_back(std::move(*t));
    } else {
      return {}; // not materialised: a forward-only plan
    }
  }
  return layoutTables(layouts, std::move(headToLayout));
}

/// The tree of each layout whose exact classification needs each call's
/// segment ids (lace-classify-blocks keeps it on the op).
std::vector<std::string> runTimeMasksFrom(mlir::ModuleOp module) {
  std::vector<std::string> masks;
  for (LayoutOp op : module.getOps<LayoutOp>())
    if (auto mask = op->getAttrOfType<mlir::StringAttr>(kRunTimeMaskAttr))
      masks.push_back(mask.getValue().str());
  return masks;
}

/// lace-schedule's work list, as the kernel takes it.
ScheduleTables scheduleFrom(mlir::ModuleOp module) {
  ScheduleTables schedule;
  for (ScheduleOp op : module.getOps<ScheduleOp>()) {
    mlir::DictionaryAttr tables = op.getTables();
    schedule.numCtas = static_cast<std::int32_t>(op.getNumCtas());
    schedule.ctaOffsets = readTable(tables.get("cta_offsets"));
    schedule.items = readTable(tables.get("items"));
    schedule.combines = readTable(tables.get("combines"));
    for (std::size_t i = 4; i < schedule.combines.size();
         i += ScheduleTables::kCombineFields)
      schedule.numSlots += schedule.combines[i];
    schedule.imbalance = op.getImbalance().convertToDouble();
    schedule.imbalanceBeforeSplit =
        op.getImbalanceBeforeSplit().convertToDouble();
  }
  return schedule;
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

Expected<std::vector<std::uint8_t>>
Compiler::mask(const ProblemShape &requested,
               std::span<const std::int32_t> qIds,
               std::span<const std::int32_t> kIds) const {
  const fe::Pattern *pattern = state_->program.find(selected_);
  if (!pattern)
    return Error("instantiating: no pattern selected");
  // The instance needs only the shape and the ids of the inputs.
  AttentionInputs shapeOnly;
  shapeOnly.shape = requested.resolved();
  const ProblemShape &shape = shapeOnly.shape;
  if (std::string why = shape.validate(); !why.empty())
    return Error("masking " + selected_ + ": " + why);
  shapeOnly.segmentQ.assign(qIds.begin(), qIds.end());
  shapeOnly.segmentK.assign(kIds.begin(), kIds.end());
  auto instance =
      referenceInstance(*pattern, *state_->sources, params_, shapeOnly);
  if (!instance)
    return std::move(instance).error();
  // One byte an element: refuse what would not fit a laptop rather than
  // overflow or exhaust memory (the tile layout is the form for big shapes).
  constexpr double kMaxElements = double(1ll << 32);
  const double elements = double(shape.batch) * double(shape.heads) *
                          double(shape.seqQ) * double(shape.seqK);
  if (elements > kMaxElements)
    return Error("masking " + selected_ + ": " +
                 std::to_string(static_cast<long long>(elements)) +
                 " elements is more than the dense mask allows (2^32); plan "
                 "the shape for its tile layout instead");
  std::vector<std::uint8_t> live(static_cast<std::size_t>(elements));
  std::size_t at = 0;
  for (std::int64_t b = 0; b < shape.batch; ++b)
    for (std::int64_t h = 0; h < shape.heads; ++h)
      for (std::int64_t q = 0; q < shape.seqQ; ++q)
        for (std::int64_t k = 0; k < shape.seqK; ++k)
          live[at++] = (*instance)->mask(b, h, q, k) ? 1 : 0;
  return live;
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
  pipeline.numCtas = options.numCtas;
  pipeline.splitFactor = options.splitFactor;
  {
    const auto start = std::chrono::steady_clock::now();
    mlir::PassManager pm(&context);
    buildLayoutPipeline(pm, pipeline);
    if (mlir::failed(pm.run(*module)))
      return Error("planning " + selected_ + ": the layout pipeline failed",
                   collector.text());
    plan.layout = tablesFrom(*module, shape.heads);
    plan.transposed = tablesFrom(*module, shape.heads, /*transposed=*/true);
    plan.schedule = scheduleFrom(*module);
    plan.schedule.splitFactor = options.splitFactor;
    plan.runTimeMasks = runTimeMasksFrom(*module);
    plan.layoutSeconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
  }
  if (std::string why = plan.validate(); !why.empty())
    return Error("planning " + selected_ + ": inconsistent plan: " + why);
  return plan;
}

} // namespace lace
