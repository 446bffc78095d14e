//===- AST.cpp ------------------------------------------------------------===//
#include "lace/Frontend/AST.h"

#include <cstdio>

namespace lace::frontend {

std::string_view typeName(Type type) {
  switch (type) {
  case Type::Error:
    return "<error>";
  case Type::Int:
    return "int";
  case Type::Bool:
    return "bool";
  case Type::Float:
    return "float";
  case Type::Mask:
    return "mask";
  case Type::IntSet:
    return "intset";
  }
  return "?";
}

std::string_view builtinName(Builtin builtin) {
  switch (builtin) {
  case Builtin::B:
    return "b";
  case Builtin::H:
    return "h";
  case Builtin::Q:
    return "q";
  case Builtin::K:
    return "k";
  case Builtin::S:
    return "s";
  case Builtin::Batch:
    return "batch";
  case Builtin::Heads:
    return "heads";
  case Builtin::SeqQ:
    return "seq_q";
  case Builtin::SeqK:
    return "seq_k";
  }
  return "?";
}

std::string_view exprKindName(ExprKind kind) {
  switch (kind) {
  case ExprKind::Error:
    return "error";
  case ExprKind::IntLiteral:
    return "int";
  case ExprKind::FloatLiteral:
    return "float";
  case ExprKind::BoolLiteral:
    return "bool";
  case ExprKind::Name:
    return "name";
  case ExprKind::Call:
    return "call";
  case ExprKind::ParamRef:
    return "param";
  case ExprKind::LetRef:
    return "let";
  case ExprKind::BuiltinRef:
    return "builtin";
  case ExprKind::Unary:
    return "unary";
  case ExprKind::Binary:
    return "binary";
  case ExprKind::Conditional:
    return "cond";
  case ExprKind::Range:
    return "range";
  case ExprKind::Set:
    return "set";
  case ExprKind::In:
    return "in";
  case ExprKind::MathCall:
    return "math";
  case ExprKind::Causal:
    return "causal";
  case ExprKind::Local:
    return "local";
  case ExprKind::Dilated:
    return "dilated";
  case ExprKind::Strided:
    return "strided";
  case ExprKind::Fixed:
    return "fixed";
  case ExprKind::Global:
    return "global";
  case ExprKind::Random:
    return "random";
  case ExprKind::Prefix:
    return "prefix";
  case ExprKind::Segment:
    return "segment";
  case ExprKind::Full:
    return "full";
  case ExprKind::Empty:
    return "empty";
  case ExprKind::Predicate:
    return "predicate";
  case ExprKind::PatternCall:
    return "pattern_call";
  case ExprKind::Union:
    return "union";
  case ExprKind::Intersect:
    return "intersect";
  case ExprKind::Difference:
    return "difference";
  case ExprKind::Complement:
    return "complement";
  }
  return "?";
}

bool isMaskPrimitive(ExprKind kind) {
  return kind >= ExprKind::Causal && kind <= ExprKind::PatternCall;
}

std::string_view syntaxOpSpelling(SyntaxOp op) {
  switch (op) {
  case SyntaxOp::None:
    return "";
  case SyntaxOp::Plus:
    return "+";
  case SyntaxOp::Minus:
    return "-";
  case SyntaxOp::Star:
    return "*";
  case SyntaxOp::Slash:
    return "/";
  case SyntaxOp::Percent:
    return "%";
  case SyntaxOp::EqEq:
    return "==";
  case SyntaxOp::NotEq:
    return "!=";
  case SyntaxOp::Less:
    return "<";
  case SyntaxOp::LessEq:
    return "<=";
  case SyntaxOp::Greater:
    return ">";
  case SyntaxOp::GreaterEq:
    return ">=";
  case SyntaxOp::AndAnd:
    return "&&";
  case SyntaxOp::PipePipe:
    return "||";
  case SyntaxOp::Amp:
    return "&";
  case SyntaxOp::Pipe:
    return "|";
  case SyntaxOp::Bang:
    return "!";
  case SyntaxOp::Tilde:
    return "~";
  }
  return "?";
}

std::string_view opName(Op op) {
  switch (op) {
  case Op::None:
    return "none";
  case Op::NegInt:
    return "neg_int";
  case Op::NegFloat:
    return "neg_float";
  case Op::NotBool:
    return "not";
  case Op::AddInt:
    return "add_int";
  case Op::SubInt:
    return "sub_int";
  case Op::MulInt:
    return "mul_int";
  case Op::DivInt:
    return "floordiv_int";
  case Op::ModInt:
    return "floormod_int";
  case Op::AddFloat:
    return "add_float";
  case Op::SubFloat:
    return "sub_float";
  case Op::MulFloat:
    return "mul_float";
  case Op::DivFloat:
    return "div_float";
  case Op::EqInt:
    return "eq_int";
  case Op::NeInt:
    return "ne_int";
  case Op::LtInt:
    return "lt_int";
  case Op::LeInt:
    return "le_int";
  case Op::GtInt:
    return "gt_int";
  case Op::GeInt:
    return "ge_int";
  case Op::EqFloat:
    return "eq_float";
  case Op::NeFloat:
    return "ne_float";
  case Op::LtFloat:
    return "lt_float";
  case Op::LeFloat:
    return "le_float";
  case Op::GtFloat:
    return "gt_float";
  case Op::GeFloat:
    return "ge_float";
  case Op::EqBool:
    return "eq_bool";
  case Op::NeBool:
    return "ne_bool";
  case Op::AndBool:
    return "and";
  case Op::OrBool:
    return "or";
  }
  return "?";
}

std::string_view mathFunctionName(MathFunction fn) {
  switch (fn) {
  case MathFunction::Min:
    return "min";
  case MathFunction::Max:
    return "max";
  case MathFunction::Abs:
    return "abs";
  case MathFunction::ToFloat:
    return "float";
  case MathFunction::ToInt:
    return "int";
  case MathFunction::Tanh:
    return "tanh";
  case MathFunction::Exp:
    return "exp";
  case MathFunction::Log:
    return "log";
  case MathFunction::Sqrt:
    return "sqrt";
  case MathFunction::AlibiSlope:
    return "alibi_slope";
  }
  return "?";
}

std::string_view paramTypeName(ParamType type) {
  switch (type) {
  case ParamType::Int:
    return "int";
  case ParamType::Bool:
    return "bool";
  case ParamType::Float:
    return "float";
  }
  return "?";
}

Type toType(ParamType type) {
  switch (type) {
  case ParamType::Int:
    return Type::Int;
  case ParamType::Bool:
    return Type::Bool;
  case ParamType::Float:
    return Type::Float;
  }
  return Type::Error;
}

int Pattern::findParam(std::string_view paramName) const {
  for (std::size_t i = 0; i < params.size(); ++i)
    if (params[i].name == paramName)
      return static_cast<int>(i);
  return -1;
}

std::string dumpExpr(const Expr &expr) {
  std::string out = "(";
  switch (expr.kind) {
  case ExprKind::IntLiteral:
    return std::to_string(expr.intValue);
  case ExprKind::FloatLiteral: {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g",
                  static_cast<double>(expr.floatValue));
    return buffer;
  }
  case ExprKind::BoolLiteral:
    return expr.boolValue ? "true" : "false";
  case ExprKind::Name:
    return expr.name;
  case ExprKind::ParamRef:
    return "$param" + std::to_string(expr.index);
  case ExprKind::LetRef:
    return "$let" + std::to_string(expr.index);
  case ExprKind::BuiltinRef:
    return std::string(builtinName(expr.builtin));
  case ExprKind::Unary:
  case ExprKind::Binary:
    out +=
        expr.op != Op::None ? opName(expr.op) : syntaxOpSpelling(expr.syntaxOp);
    break;
  case ExprKind::MathCall:
    out += mathFunctionName(expr.math);
    break;
  case ExprKind::Call:
  case ExprKind::PatternCall:
    out += exprKindName(expr.kind);
    out += ' ';
    out += expr.name;
    break;
  default:
    out += exprKindName(expr.kind);
    break;
  }
  for (const Argument &arg : expr.args) {
    out += ' ';
    if (!arg.name.empty())
      out += arg.name + "=";
    out += arg.value ? dumpExpr(*arg.value) : "_";
  }
  for (const ExprPtr &operand : expr.operands) {
    out += ' ';
    out += operand ? dumpExpr(*operand) : "_";
  }
  out += ')';
  return out;
}

} // namespace lace::frontend
