//===- MaskFromIR.cpp - specialised lace IR to a layout MaskNode ----------===//
#include "lace/Transforms/MaskFromIR.h"

#include "lace/Frontend/Semantics.h"
#include "lace/Layout/PredicateProgram.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <limits>

using namespace mlir;
using namespace lace;
using layout::Interval;
using layout::MaskNode;
using layout::Tri;

namespace {

int64_t constantOf(Value value) {
  APInt constant;
  bool matched = matchPattern(value, m_ConstantInt(&constant));
  assert(matched && "lace-specialize leaves only constant operands");
  (void)matched;
  return constant.getSExtValue();
}

using layout::Instruction;
using Program = layout::PredicateProgram;

class PredicateCompiler {
public:
  PredicateCompiler(PredicateOp op, int64_t head) : op(op), head(head) {}

  /// Fails after reporting on the first op it cannot interpret.
  LogicalResult compile(Program &program);

private:
  FailureOr<unsigned> reg(Value value, Program &program);

  PredicateOp op;
  int64_t head;
  llvm::DenseMap<Value, unsigned> registers;
};

FailureOr<unsigned> PredicateCompiler::reg(Value value, Program &program) {
  auto known = registers.find(value);
  if (known != registers.end())
    return known->second;
  APInt constant;
  if (!matchPattern(value, m_ConstantInt(&constant))) {
    if (Operation *def = value.getDefiningOp())
      def->emitError() << "expected a constant: only the predicate's own ops "
                          "may vary per element";
    else
      op.emitError() << "unexpected block argument in a predicate";
    return failure();
  }
  unsigned index = program.initial.size();
  program.initial.push_back(value.getType().isInteger(1)
                                ? int64_t(constant.getZExtValue())
                                : constant.getSExtValue());
  registers[value] = index;
  return index;
}

LogicalResult PredicateCompiler::compile(Program &program) {
  Block &block = op.getBody().front();
  if (!block.getArgument(0).use_empty())
    return op.emitError() << "predicates that read the batch index 'b' cannot "
                             "be classified per head; use one layout per "
                             "batch entry";
  program.initial = {0, 0, head};
  registers[block.getArgument(2)] = 0; // q
  registers[block.getArgument(3)] = 1; // k
  registers[block.getArgument(1)] = 2; // h
  using C = Instruction::Code;
  for (Operation &inner : block.without_terminator()) {
    if (matchPattern(&inner, m_Constant()))
      continue; // materialised on first use
    std::optional<C> code =
        llvm::TypeSwitch<Operation *, std::optional<C>>(&inner)
            .Case([](arith::AddIOp) { return C::Add; })
            .Case([](arith::SubIOp) { return C::Sub; })
            .Case([](arith::MulIOp) { return C::Mul; })
            .Case([](arith::FloorDivSIOp) { return C::FloorDiv; })
            .Case([](arith::DivSIOp) { return C::DivTrunc; })
            .Case([](arith::RemSIOp) { return C::RemTrunc; })
            .Case([](arith::MinSIOp) { return C::Min; })
            .Case([](arith::MaxSIOp) { return C::Max; })
            .Case([](math::AbsIOp) { return C::Abs; })
            .Case([](arith::AndIOp) { return C::And; })
            .Case([](arith::OrIOp) { return C::Or; })
            .Case([](arith::XOrIOp) { return C::Xor; })
            .Case([](arith::SelectOp) { return C::Select; })
            .Case([](arith::CmpIOp cmp) -> std::optional<C> {
              switch (cmp.getPredicate()) {
              case arith::CmpIPredicate::eq:
                return C::CmpEq;
              case arith::CmpIPredicate::ne:
                return C::CmpNe;
              case arith::CmpIPredicate::slt:
                return C::CmpLt;
              case arith::CmpIPredicate::sle:
                return C::CmpLe;
              case arith::CmpIPredicate::sgt:
                return C::CmpGt;
              case arith::CmpIPredicate::sge:
                return C::CmpGe;
              case arith::CmpIPredicate::ult:
                return C::CmpULt;
              case arith::CmpIPredicate::ule:
                return C::CmpULe;
              case arith::CmpIPredicate::ugt:
                return C::CmpUGt;
              case arith::CmpIPredicate::uge:
                return C::CmpUGe;
              }
              return std::nullopt;
            })
            .Default([](Operation *) { return std::nullopt; });
    if (!code || inner.getNumResults() != 1)
      return inner.emitError()
             << "'" << inner.getName()
             << "' is not supported in predicates by the layout passes";
    Instruction in{*code, inner.getResult(0).getType().isInteger(1), 0, 0, 0,
                   0};
    unsigned *slots[] = {&in.a, &in.b, &in.c};
    for (auto [i, operand] : llvm::enumerate(inner.getOperands())) {
      FailureOr<unsigned> r = reg(operand, program);
      if (failed(r))
        return failure();
      *slots[i] = *r;
    }
    if (inner.getNumOperands() == 1)
      in.b = in.a;
    in.dst = program.initial.size();
    program.initial.push_back(0);
    registers[inner.getResult(0)] = in.dst;
    program.code.push_back(in);
  }
  auto yield = cast<YieldOp>(block.getTerminator());
  FailureOr<unsigned> result = reg(yield.getValues()[0], program);
  if (failed(result))
    return failure();
  program.result = *result;
  return success();
}

//===----------------------------------------------------------------------===//
// Structured ops
//===----------------------------------------------------------------------===//

std::unique_ptr<MaskNode> build(Value mask, int64_t head, int64_t seqK) {
  Operation *op = mask.getDefiningOp();
  if (!op) {
    emitError(mask.getLoc()) << "expected a mask computed by lace ops";
    return nullptr;
  }
  auto binary = [&](auto combine, Value lhs,
                    Value rhs) -> std::unique_ptr<MaskNode> {
    std::unique_ptr<MaskNode> a = build(lhs, head, seqK);
    std::unique_ptr<MaskNode> b = a ? build(rhs, head, seqK) : nullptr;
    return b ? combine(std::move(a), std::move(b)) : nullptr;
  };
  return llvm::TypeSwitch<Operation *, std::unique_ptr<MaskNode>>(op)
      .Case([](FullOp) { return MaskNode::full(); })
      .Case([](EmptyOp) { return MaskNode::empty(); })
      .Case([](CausalOp) { return MaskNode::causal(); })
      .Case([](LocalOp local) {
        return MaskNode::local(
            constantOf(local.getBefore()), constantOf(local.getAfter()),
            local.getGranularity() ? constantOf(local.getGranularity()) : 1);
      })
      .Case([](DilatedOp dilated) {
        return MaskNode::dilated(constantOf(dilated.getBefore()),
                                 constantOf(dilated.getAfter()),
                                 constantOf(dilated.getDilation()));
      })
      .Case([](StridedOp strided) {
        return MaskNode::strided(constantOf(strided.getStride()));
      })
      .Case([](FixedOp fixed) {
        return MaskNode::fixed(constantOf(fixed.getStride()),
                               constantOf(fixed.getSummary()));
      })
      .Case([](GlobalOp global) {
        std::vector<int64_t> tokens;
        for (Value token : global.getTokens())
          tokens.push_back(constantOf(token));
        std::vector<std::pair<int64_t, int64_t>> ranges;
        if (global.getLo())
          ranges.push_back(
              {constantOf(global.getLo()), constantOf(global.getHi())});
        return MaskNode::global(std::move(tokens), std::move(ranges));
      })
      .Case([&](RandomOp random) {
        return MaskNode::random(
            constantOf(random.getPerRow()), constantOf(random.getGranularity()),
            uint64_t(constantOf(random.getSeed())), head, seqK);
      })
      .Case([](PrefixOp prefix) {
        return MaskNode::prefix(constantOf(prefix.getLength()));
      })
      .Case([](SegmentOp) { return MaskNode::segment(); })
      .Case([&](PredicateOp predicate) -> std::unique_ptr<MaskNode> {
        auto program = std::make_shared<Program>();
        if (failed(PredicateCompiler(predicate, head).compile(*program)))
          return nullptr;
        return layout::predicateNode(std::move(program));
      })
      .Case([&](UnionOp op) {
        return binary(MaskNode::unite, op.getLhs(), op.getRhs());
      })
      .Case([&](IntersectOp op) {
        return binary(MaskNode::intersect, op.getLhs(), op.getRhs());
      })
      .Case([&](DifferenceOp op) {
        return binary(MaskNode::difference, op.getLhs(), op.getRhs());
      })
      .Case([&](ComplementOp op) -> std::unique_ptr<MaskNode> {
        std::unique_ptr<MaskNode> inner = build(op.getInput(), head, seqK);
        return inner ? MaskNode::complement(std::move(inner)) : nullptr;
      })
      .Default([](Operation *other) -> std::unique_ptr<MaskNode> {
        other->emitError() << "expected a lace mask op, got '"
                           << other->getName() << "'";
        return nullptr;
      });
}

} // namespace

std::unique_ptr<MaskNode> lace::maskFromIR(PatternOp pattern, int64_t head,
                                           int64_t seqK) {
  return build(pattern.getMask(), head, seqK);
}

bool lace::usesSegments(PatternOp pattern) {
  bool found = false;
  pattern.walk([&](SegmentOp) { found = true; });
  return found;
}
