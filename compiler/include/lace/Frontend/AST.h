//===- AST.h - The checked syntax tree of .lace patterns ------------------===//
//
// Expressions are one tagged node type, `Expr`, with a kind enum. The parser
// produces the syntactic kinds (Name, Call, Unary, Binary with SyntaxOp); Sema
// rewrites every node in place into its resolved kind, so that after a
// successful check:
//
//  * no node has kind Error, Name or Call;
//  * every node has `type` and `deps` set;
//  * Unary/Binary nodes carry a typed `op` (AddInt, AddFloat, LtInt, ...);
//  * mask operations are Union/Intersect/Difference/Complement over operands
//    of type Mask (bool operands are wrapped in a Predicate node);
//  * primitive calls are one kind per primitive with their arguments in the
//    fixed operand slots listed below, defaults filled in as literal nodes
//    with `implicit` set.
//
// Walking: switch on `kind`, recurse over `operands` (children in order).
// `PatternCall::operands[i]` is the argument for callee parameter i, or null
// when the callee's default applies.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_FRONTEND_AST_H
#define LACE_FRONTEND_AST_H

#include "lace/Frontend/SourceManager.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace lace::frontend {

enum class Type : std::uint8_t {
  Error, ///< after a diagnostic; suppresses follow-up errors
  Int,   ///< 64-bit signed
  Bool,
  Float,  ///< 32-bit IEEE
  Mask,   ///< a mask over (b, h, q, k)
  IntSet, ///< a set of integers (range, set literal)
};
std::string_view typeName(Type type);
/// Int, Float or Bool: a value one expression computes (not a mask or set).
inline bool isScalar(Type t) {
  return t == Type::Int || t == Type::Float || t == Type::Bool;
}

/// Bits of Expr::deps: what an expression's value depends on.
enum Dep : std::uint8_t {
  DepB = 1 << 0,     ///< batch index b
  DepH = 1 << 1,     ///< head index h
  DepQ = 1 << 2,     ///< query index q
  DepK = 1 << 3,     ///< key index k
  DepS = 1 << 4,     ///< raw score s
  DepParam = 1 << 5, ///< a pattern parameter
  DepShape = 1 << 6, ///< batch, heads, seq_q, seq_k
};
/// Values that vary per element; without them an expression is constant
/// once the pattern is instantiated.
inline constexpr std::uint8_t kElementDeps = DepB | DepH | DepQ | DepK | DepS;

/// The names the language predefines (BuiltinRef::builtin).
enum class Builtin : std::uint8_t { B, H, Q, K, S, Batch, Heads, SeqQ, SeqK };
std::string_view builtinName(Builtin builtin);

enum class ExprKind : std::uint8_t {
  Error,
  // Literals.
  IntLiteral,   ///< intValue
  FloatLiteral, ///< floatValue
  BoolLiteral,  ///< boolValue
  // Parser-only kinds, resolved by Sema.
  Name, ///< name
  Call, ///< name, args
  // Resolved names.
  ParamRef,   ///< index: parameter of the enclosing pattern
  LetRef,     ///< index: let of the enclosing pattern
  BuiltinRef, ///< builtin
  // Scalar operations.
  Unary,       ///< op, operands[0]
  Binary,      ///< op, operands[0..1]
  Conditional, ///< operands: cond, then, else (any one type, Mask included)
  Range,       ///< IntSet [operands[0], operands[1])
  Set,         ///< IntSet union of operands (Int or IntSet each)
  In,          ///< Bool: operands[0] (Int) in operands[1] (IntSet)
  MathCall,    ///< math, operands
  // Mask primitives; operand slots:
  Causal,      ///< -
  Local,       ///< before, after, dilation, granularity
  Dilated,     ///< before, after, dilation
  Strided,     ///< stride
  Fixed,       ///< stride, summary
  Global,      ///< tokens (IntSet or Int)
  Random,      ///< per_row, granularity, seed
  Prefix,      ///< length
  Segment,     ///< - (also spelled `document`)
  Full,        ///< -
  Empty,       ///< -
  Predicate,   ///< operands[0]: Bool expression over (b, h, q, k)
  PatternCall, ///< callee, operands[i] = argument for callee param i or null
  // Mask combinators.
  Union,      ///< operands[0] | operands[1]
  Intersect,  ///< operands[0] & operands[1]
  Difference, ///< operands[0] - operands[1] (= a & ~b)
  Complement, ///< ~operands[0]
};
std::string_view exprKindName(ExprKind kind);
/// True for the primitive kinds Causal..PatternCall (all of type Mask).
bool isMaskPrimitive(ExprKind kind);

/// Syntactic operators, as written (set by the parser).
enum class SyntaxOp : std::uint8_t {
  None,
  Plus,
  Minus,
  Star,
  Slash,
  Percent,
  EqEq,
  NotEq,
  Less,
  LessEq,
  Greater,
  GreaterEq,
  AndAnd,
  PipePipe,
  Amp,
  Pipe,
  Bang,
  Tilde,
};
std::string_view syntaxOpSpelling(SyntaxOp op);

/// Typed operators of Unary/Binary nodes (set by Sema). Integer ops follow
/// the language's integer semantics (floor division, see Semantics.h).
enum class Op : std::uint8_t {
  None,
  NegInt,
  NegFloat,
  NotBool,
  AddInt,
  SubInt,
  MulInt,
  DivInt,
  ModInt,
  AddFloat,
  SubFloat,
  MulFloat,
  DivFloat,
  EqInt,
  NeInt,
  LtInt,
  LeInt,
  GtInt,
  GeInt,
  EqFloat,
  NeFloat,
  LtFloat,
  LeFloat,
  GtFloat,
  GeFloat,
  EqBool,
  NeBool,
  AndBool,
  OrBool,
};
std::string_view opName(Op op);

enum class MathFunction : std::uint8_t {
  Min,
  Max,
  Abs, ///< Int or Float (the node's type says which)
  ToFloat,
  ToInt, ///< float(int), int(float) (truncates toward zero)
  Tanh,
  Exp,
  Log,
  Sqrt,
  AlibiSlope, ///< alibi_slope(h, n) = 2^(-8 (h+1) / n) as float
};
std::string_view mathFunctionName(MathFunction fn);

struct Pattern;
struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

/// A call argument as written (only in Call nodes, before Sema).
struct Argument {
  std::string name; ///< empty for a positional argument
  SourceRange nameRange;
  ExprPtr value;
};

struct Expr {
  ExprKind kind = ExprKind::Error;
  SourceRange range;
  Type type = Type::Error;
  std::uint8_t deps = 0; ///< Dep bits
  bool implicit = false; ///< a default argument filled in by Sema
  std::uint16_t depth = 1;
  std::int32_t id = -1; ///< dense per pattern, set by Sema (0..numExprIds)

  std::int64_t intValue = 0;
  float floatValue = 0;
  bool boolValue = false;
  std::int32_t index = -1; ///< ParamRef/LetRef
  Builtin builtin = Builtin::B;
  SyntaxOp syntaxOp = SyntaxOp::None;
  Op op = Op::None;
  MathFunction math = MathFunction::Min;
  std::string name;      ///< Name, Call, PatternCall (callee name)
  SourceRange nameRange; ///< Call: the callee name
  const Pattern *callee = nullptr;
  std::vector<Argument> args; ///< Call only
  std::vector<ExprPtr> operands;

  const Expr &operand(std::size_t i) const { return *operands[i]; }
};

enum class ParamType : std::uint8_t { Int, Bool, Float };
std::string_view paramTypeName(ParamType type);
Type toType(ParamType type);

struct Param {
  std::string name;
  SourceRange nameRange;
  ParamType type = ParamType::Int;
  ExprPtr defaultValue; ///< may be null; refers only to earlier params
};

struct Let {
  std::string name;
  SourceRange nameRange;
  ExprPtr value;
};

struct Pattern {
  std::string name;
  SourceRange nameRange;
  SourceRange range; ///< from 'pattern' to the closing '}'
  FileId file = kNoFile;
  std::vector<Param> params;
  std::vector<Let> lets; ///< in source order; a let sees earlier lets only
  ExprPtr mask;          ///< type Mask after Sema
  ExprPtr score;         ///< null, or type Float after Sema
  bool parseErrors = false;
  bool checked = false; ///< Sema ran and found no error in this pattern
  std::int32_t numExprIds = 0;

  /// Parameter index by name, or -1.
  int findParam(std::string_view paramName) const;
};

/// Human-readable S-expression of a (checked or unchecked) expression, for
/// tests and debugging, e.g. "(union (local ...) (global ...))".
std::string dumpExpr(const Expr &expr);

} // namespace lace::frontend

#endif // LACE_FRONTEND_AST_H
