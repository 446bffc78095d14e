//===- SpecializePass.cpp - lace-specialize -------------------------------===//
//
// Binds parameters, the problem shape and the head index, folds, and keeps
// one pattern per distinct head layout.
//
//===----------------------------------------------------------------------===//
#include "lace/Transforms/LacePasses.h"

#include "mlir/IR/Dominance.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Transforms/CSE.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/StringMap.h"

namespace lace {
#define GEN_PASS_DEF_LACESPECIALIZE
#include "lace/Transforms/LacePasses.h.inc"
} // namespace lace

using namespace mlir;
using namespace lace;

namespace {

/// Parses `text` as a value of `type` (i64, i1 or f32), as the CLI spells it.
std::optional<TypedAttr> parseParamValue(OpBuilder &builder, Type type,
                                         StringRef text) {
  if (type.isInteger(1)) {
    if (text == "true" || text == "1")
      return builder.getBoolAttr(true);
    if (text == "false" || text == "0")
      return builder.getBoolAttr(false);
    return std::nullopt;
  }
  if (type.isInteger(64)) {
    int64_t value;
    if (text.getAsInteger(10, value))
      return std::nullopt;
    return builder.getI64IntegerAttr(value);
  }
  double value;
  if (text.getAsDouble(value))
    return std::nullopt;
  return builder.getF32FloatAttr(static_cast<float>(value));
}

struct LaceSpecializePass
    : public lace::impl::LaceSpecializeBase<LaceSpecializePass> {
  using LaceSpecializeBase::LaceSpecializeBase;

  void runOnOperation() override;

private:
  LogicalResult checkOptions();
  /// The value of each parameter of `pattern`, or failure after an error.
  FailureOr<SmallVector<TypedAttr>> paramValues(PatternOp pattern);
  /// A folded clone of `pattern` with everything bound for `head`.
  FailureOr<PatternOp> specializeForHead(PatternOp pattern,
                                         ArrayRef<TypedAttr> values,
                                         int64_t head,
                                         const FrozenRewritePatternSet &folds);

  llvm::StringMap<std::string> paramText;
};

LogicalResult LaceSpecializePass::checkOptions() {
  ModuleOp module = getOperation();
  auto positive = [&](int64_t value, StringRef name) -> LogicalResult {
    if (value >= 1 && value < (int64_t(1) << 31))
      return success();
    return module.emitError() << "lace-specialize: expected " << name
                              << " in [1, 2^31), got " << value;
  };
  int64_t keys = seqK ? int64_t(seqK) : int64_t(seqQ);
  int64_t kv = kvHeads ? int64_t(kvHeads) : int64_t(heads);
  if (failed(positive(batch, "batch")) || failed(positive(heads, "heads")) ||
      failed(positive(kv, "kv-heads")) || failed(positive(seqQ, "seq-q")) ||
      failed(positive(keys, "seq-k")))
    return failure();
  if (heads % kv != 0)
    return module.emitError() << "lace-specialize: expected kv-heads (" << kv
                              << ") to divide heads (" << int64_t(heads) << ")";
  for (auto [name, block] : {std::pair{"block-m", int64_t(blockM)},
                             std::pair{"block-n", int64_t(blockN)}})
    if (block < 16 || block > 128 || block % 16 != 0)
      return module.emitError()
             << "lace-specialize: expected " << name
             << " to be a multiple of 16 in [16, 128], got " << block;
  for (const std::string &param : params) {
    auto [name, value] = StringRef(param).split('=');
    if (name.empty() || !StringRef(param).contains('='))
      return module.emitError() << "lace-specialize: expected param as "
                                   "name=value, got '"
                                << param << "'";
    paramText[name] = value.str();
  }
  return success();
}

FailureOr<SmallVector<TypedAttr>>
LaceSpecializePass::paramValues(PatternOp pattern) {
  OpBuilder builder(pattern);
  SmallVector<TypedAttr> values;
  Block &body = pattern.getBody().front();
  for (auto [i, nameAttr] :
       llvm::enumerate(pattern.getParamNames().getAsRange<StringAttr>())) {
    Type type = body.getArgument(i).getType();
    auto given = paramText.find(nameAttr.getValue());
    if (given != paramText.end()) {
      std::optional<TypedAttr> value =
          parseParamValue(builder, type, given->second);
      if (!value)
        return pattern.emitError()
               << "expected a " << type << " value for parameter '"
               << nameAttr.getValue() << "', got '" << given->second << "'";
      values.push_back(*value);
      continue;
    }
    auto fallback = dyn_cast<TypedAttr>(pattern.getParamDefaults()[i]);
    if (!fallback)
      return pattern.emitError()
             << "parameter '" << nameAttr.getValue()
             << "' has no default: give it with param=" << nameAttr.getValue()
             << "=VALUE";
    values.push_back(fallback);
  }
  return values;
}

FailureOr<PatternOp> LaceSpecializePass::specializeForHead(
    PatternOp pattern, ArrayRef<TypedAttr> values, int64_t head,
    const FrozenRewritePatternSet &folds) {
  OpBuilder builder(pattern);
  auto clone = cast<PatternOp>(builder.clone(*pattern));
  Block &body = clone.getBody().front();
  builder.setInsertionPointToStart(&body);
  for (auto [arg, value] : llvm::zip(body.getArguments(), values))
    arg.replaceAllUsesWith(
        builder.create<arith::ConstantOp>(clone.getLoc(), value));
  body.eraseArguments(0, body.getNumArguments());
  clone.setParamNamesAttr(builder.getStrArrayAttr({}));
  clone.setParamDefaultsAttr(builder.getArrayAttr({}));

  int64_t keys = seqK ? int64_t(seqK) : int64_t(seqQ);
  WalkResult walk = clone.walk([&](VarOp var) -> WalkResult {
    int64_t value = 0;
    switch (var.getKind()) {
    case VarKind::Head:
      if (!perHead)
        return WalkResult::advance(); // stays symbolic
      value = head;
      break;
    case VarKind::Heads:
      value = heads;
      break;
    case VarKind::BatchSize:
      value = batch;
      break;
    case VarKind::SeqQ:
      value = seqQ;
      break;
    case VarKind::SeqK:
      value = keys;
      break;
    case VarKind::Batch:
      var.emitError() << "layouts that vary with the batch index 'b' are not "
                         "supported; use 'b' only inside predicates";
      return WalkResult::interrupt();
    }
    OpBuilder at(var);
    var.replaceAllUsesWith(
        at.create<arith::ConstantIntOp>(var.getLoc(), value, 64).getResult());
    var.erase();
    return WalkResult::advance();
  });
  if (walk.wasInterrupted()) {
    clone.erase();
    return failure();
  }

  if (failed(applyPatternsAndFoldGreedily(clone, folds))) {
    clone.emitError() << "folding the specialised pattern did not converge";
    clone.erase();
    return failure();
  }
  IRRewriter rewriter(clone.getContext());
  DominanceInfo dominance(clone);
  eliminateCommonSubExpressions(rewriter, dominance, clone);

  // Every primitive operand must now be a constant (unless the head index
  // was left symbolic).
  WalkResult constant = clone.walk([&](Operation *op) -> WalkResult {
    if (!perHead || !isa<LocalOp, DilatedOp, StridedOp, FixedOp, GlobalOp, RandomOp,
             PrefixOp>(op))
      return WalkResult::advance();
    for (Value operand : op->getOperands())
      if (!matchPattern(operand, m_Constant())) {
        op->emitError() << "expected every operand of '" << op->getName()
                        << "' to fold to a constant once parameters and "
                           "shape are bound";
        return WalkResult::interrupt();
      }
    return WalkResult::advance();
  });
  if (constant.wasInterrupted() || failed(verify(clone))) {
    clone.erase();
    return failure();
  }
  return clone;
}

/// The printed body, without locations: equal strings, equal masks.
std::string fingerprint(PatternOp pattern) {
  std::string text;
  llvm::raw_string_ostream os(text);
  OpPrintingFlags flags;
  flags.printGenericOpForm();
  pattern.getBody().front().walk([&](Operation *op) {
    if (op->getParentOp() == pattern)
      op->print(os, flags);
  });
  return text;
}

void LaceSpecializePass::runOnOperation() {
  ModuleOp module = getOperation();
  MLIRContext *context = &getContext();
  if (failed(checkOptions()))
    return signalPassFailure();

  RewritePatternSet patterns(context);
  for (Dialect *dialect : context->getLoadedDialects())
    dialect->getCanonicalizationPatterns(patterns);
  for (RegisteredOperationName op : context->getRegisteredOperations())
    op.getCanonicalizationPatterns(patterns, context);
  FrozenRewritePatternSet folds(std::move(patterns));

  SmallVector<PatternOp> selected;
  for (PatternOp pattern : module.getOps<PatternOp>()) {
    if (pattern->hasAttr("lace.heads"))
      continue; // already specialised
    if (patternName.empty() || pattern.getSymName() == patternName)
      selected.push_back(pattern);
  }
  if (!patternName.empty() && selected.empty()) {
    module.emitError() << "lace-specialize: no pattern named '"
                       << std::string(patternName) << "'";
    return signalPassFailure();
  }

  OpBuilder builder(context);
  for (PatternOp pattern : selected) {
    FailureOr<SmallVector<TypedAttr>> values = paramValues(pattern);
    if (failed(values))
      return signalPassFailure();
    bool randomPerHead = false;
    pattern.walk([&](RandomOp) { randomPerHead = true; });

    // Distinct head layouts, in order of their first head.
    SmallVector<std::pair<PatternOp, SmallVector<int64_t>>> groups;
    llvm::StringMap<size_t> groupOf;
    for (int64_t head = 0; head < (perHead ? int64_t(heads) : 1); ++head) {
      FailureOr<PatternOp> clone =
          specializeForHead(pattern, *values, head, folds);
      if (failed(clone))
        return signalPassFailure();
      std::string key =
          randomPerHead ? std::to_string(head) : fingerprint(*clone);
      auto [it, inserted] = groupOf.try_emplace(key, groups.size());
      if (inserted) {
        SmallVector<int64_t> members{head};
        if (!perHead)
          members = llvm::to_vector(llvm::seq<int64_t>(0, heads));
        groups.push_back({*clone, members});
      } else {
        groups[it->second].second.push_back(head);
        clone->erase();
      }
    }
    for (auto [index, group] : llvm::enumerate(groups)) {
      PatternOp clone = group.first;
      clone.setSymName((pattern.getSymName() + "_g" + Twine(index)).str());
      clone->setAttr("lace.heads", builder.getDenseI64ArrayAttr(group.second));
      clone->setAttr("lace.source", pattern.getSymNameAttr());
    }
    numHeadLayouts += groups.size();
    pattern.erase();
  }

  NamedAttrList problem;
  problem.append("batch", builder.getI64IntegerAttr(batch));
  problem.append("heads", builder.getI64IntegerAttr(heads));
  problem.append("kv_heads",
                 builder.getI64IntegerAttr(kvHeads ? int64_t(kvHeads)
                                                   : int64_t(heads)));
  problem.append("seq_q", builder.getI64IntegerAttr(seqQ));
  problem.append("seq_k",
                 builder.getI64IntegerAttr(seqK ? int64_t(seqK) : int64_t(seqQ)));
  problem.append("block_m", builder.getI64IntegerAttr(blockM));
  problem.append("block_n", builder.getI64IntegerAttr(blockN));
  module->setAttr("lace.problem", problem.getDictionary(context));
}

} // namespace
