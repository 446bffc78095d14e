//===- Sema.cpp - Name resolution, type checking, constant checks ---------===//
#include "ConstEval.h"
#include "PatternChecker.h"
#include "SemaTables.h"
#include "lace/Frontend/Primitives.h"
#include "lace/Frontend/Program.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>

namespace lace::frontend {

namespace {

class PatternChecker {
public:
  PatternChecker(Pattern &pattern, const PatternMap &patterns,
                 DiagnosticEngine &diags)
      : p_(pattern), patterns_(patterns), diags_(diags) {}

  bool run() {
    checkParams();
    checkLets();
    checkMask();
    checkScore();
    if (!failed_)
      foldCheckAll();
    assignIds();
    return !failed_;
  }

private:
  enum class Scope { ParamDefault, Let, Mask, Score };

  DiagnosticBuilder error(DiagnosticKind kind, SourceRange range,
                          std::string message) {
    failed_ = true;
    return diags_.emit(kind, range, std::move(message));
  }

  // --- Declarations --------------------------------------------------------
  void checkParams() {
    for (std::size_t i = 0; i < p_.params.size(); ++i) {
      Param &param = p_.params[i];
      for (std::size_t j = 0; j < i; ++j)
        if (p_.params[j].name == param.name) {
          error(DiagnosticKind::DuplicateParameter, param.nameRange,
                "duplicate parameter '" + param.name +
                    "', expected each parameter name once")
              .note(p_.params[j].nameRange, "parameter declared here");
          break;
        }
      if (isReservedName(param.name))
        error(DiagnosticKind::ShadowsBuiltin, param.nameRange,
              "parameter '" + param.name +
                  "' shadows a builtin name, expected a different name");
      if (param.defaultValue) {
        scope_ = Scope::ParamDefault;
        visibleParams_ = i;
        check(param.defaultValue);
        Type t = param.defaultValue->type;
        if (t != Type::Error && t != toType(param.type))
          error(DiagnosticKind::TypeMismatch, param.defaultValue->range,
                "default value of parameter '" + param.name + "' has type " +
                    std::string(typeName(t)) + ", expected " +
                    std::string(paramTypeName(param.type)));
      }
    }
    visibleParams_ = p_.params.size();
  }

  void checkLets() {
    scope_ = Scope::Let;
    for (std::size_t i = 0; i < p_.lets.size(); ++i) {
      Let &let = p_.lets[i];
      bool reported = false;
      for (std::size_t j = 0; j < i && !reported; ++j)
        if (p_.lets[j].name == let.name) {
          error(DiagnosticKind::DuplicateLet, let.nameRange,
                "'" + let.name +
                    "' is already bound by a let, expected a new name "
                    "(lets cannot be shadowed)")
              .note(p_.lets[j].nameRange, "let declared here");
          reported = true;
        }
      int param = p_.findParam(let.name);
      if (!reported && param >= 0) {
        error(DiagnosticKind::DuplicateLet, let.nameRange,
              "'" + let.name +
                  "' is already a parameter, expected a new name (lets "
                  "cannot shadow parameters)")
            .note(p_.params[static_cast<std::size_t>(param)].nameRange,
                  "parameter declared here");
        reported = true;
      }
      if (!reported && isReservedName(let.name))
        error(DiagnosticKind::ShadowsBuiltin, let.nameRange,
              "let '" + let.name +
                  "' shadows a builtin name, expected a different name");
      visibleLets_ = i;
      check(let.value);
      letTypes_.push_back(let.value->type);
      letDeps_.push_back(let.value->deps);
    }
    visibleLets_ = p_.lets.size();
  }

  void checkMask() {
    if (!p_.mask) {
      error(DiagnosticKind::MaskMissing, p_.nameRange,
            "pattern '" + p_.name +
                "' has no mask, expected a 'mask = ...;' statement");
      return;
    }
    scope_ = Scope::Mask;
    check(p_.mask);
    Type t = p_.mask->type;
    if (t == Type::Error)
      return;
    if (!toMask(p_.mask))
      error(DiagnosticKind::TypeMismatch, p_.mask->range,
            "mask has type " + std::string(typeName(t)) +
                ", expected mask or bool");
  }

  void checkScore() {
    if (!p_.score)
      return;
    scope_ = Scope::Score;
    check(p_.score);
    Type t = p_.score->type;
    if (t != Type::Error && t != Type::Float)
      error(DiagnosticKind::TypeMismatch, p_.score->range,
            "score has type " + std::string(typeName(t)) + ", expected float");
  }

  // --- Expressions ---------------------------------------------------------
  static ExprPtr wrap(ExprKind kind, ExprPtr operand, Type type) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->range = operand->range;
    e->type = type;
    e->deps = operand->deps;
    e->depth = static_cast<std::uint16_t>(operand->depth + 1);
    e->operands.push_back(std::move(operand));
    return e;
  }

  /// Bool -> Predicate mask; true if `e` is (now) a mask.
  static bool toMask(ExprPtr &e) {
    if (e->type == Type::Mask)
      return true;
    if (e->type != Type::Bool)
      return false;
    e = wrap(ExprKind::Predicate, std::move(e), Type::Mask);
    return true;
  }

  static bool maskLike(Type t) { return t == Type::Mask || t == Type::Bool; }

  void setError(Expr &e) {
    e.type = Type::Error;
    failed_ = true;
  }

  void check(ExprPtr &e) {
    Expr &x = *e;
    switch (x.kind) {
    case ExprKind::IntLiteral:
      x.type = Type::Int;
      return;
    case ExprKind::FloatLiteral:
      x.type = Type::Float;
      return;
    case ExprKind::BoolLiteral:
      x.type = Type::Bool;
      return;
    case ExprKind::Name:
      resolveName(e);
      return;
    case ExprKind::Call:
      resolveCall(e);
      return;
    case ExprKind::Unary:
      checkUnary(x);
      return;
    case ExprKind::Binary:
      checkBinary(x);
      return;
    case ExprKind::Conditional:
      checkConditional(x);
      return;
    case ExprKind::Range: {
      check(x.operands[0]);
      check(x.operands[1]);
      x.deps = x.operand(0).deps | x.operand(1).deps;
      Type a = x.operand(0).type, b = x.operand(1).type;
      if (a == Type::Error || b == Type::Error)
        return setError(x);
      if (a != Type::Int || b != Type::Int) {
        error(DiagnosticKind::TypeMismatch, x.range,
              "range bounds have types " + std::string(typeName(a)) + " and " +
                  std::string(typeName(b)) + ", expected int");
        return setError(x);
      }
      x.type = Type::IntSet;
      return;
    }
    case ExprKind::Set: {
      x.type = Type::IntSet;
      for (ExprPtr &element : x.operands) {
        check(element);
        x.deps |= element->deps;
        Type t = element->type;
        if (t == Type::Error) {
          x.type = Type::Error;
        } else if (t != Type::Int && t != Type::IntSet) {
          error(DiagnosticKind::TypeMismatch, element->range,
                "set element has type " + std::string(typeName(t)) +
                    ", expected int or a range");
          x.type = Type::Error;
        }
      }
      return;
    }
    case ExprKind::In: {
      check(x.operands[0]);
      check(x.operands[1]);
      x.deps = x.operand(0).deps | x.operand(1).deps;
      Type a = x.operand(0).type, b = x.operand(1).type;
      if (a == Type::Error || b == Type::Error)
        return setError(x);
      if (a != Type::Int || b != Type::IntSet) {
        error(DiagnosticKind::TypeMismatch, x.range,
              "'in' has operands of types " + std::string(typeName(a)) +
                  " and " + std::string(typeName(b)) +
                  ", expected an int and a range or set");
        return setError(x);
      }
      x.type = Type::Bool;
      return;
    }
    default:
      // Error nodes from the parser and already resolved nodes.
      if (x.kind == ExprKind::Error)
        setError(x);
      return;
    }
  }

  void resolveName(ExprPtr &e) {
    Expr &x = *e;
    for (std::size_t i = 0; i < visibleLets_; ++i)
      if (p_.lets[i].name == x.name) {
        x.kind = ExprKind::LetRef;
        x.index = static_cast<std::int32_t>(i);
        x.type = letTypes_[i];
        x.deps = letDeps_[i];
        if (x.type == Type::Error)
          failed_ = true;
        return;
      }
    for (std::size_t i = 0; i < visibleParams_; ++i)
      if (p_.params[i].name == x.name) {
        x.kind = ExprKind::ParamRef;
        x.index = static_cast<std::int32_t>(i);
        x.type = toType(p_.params[i].type);
        x.deps = DepParam;
        return;
      }
    if (const BuiltinInfo *builtin = findBuiltin(x.name)) {
      if (scope_ == Scope::ParamDefault) {
        error(DiagnosticKind::UnknownName, x.range,
              "'" + x.name +
                  "' cannot be used in a parameter default, expected a "
                  "constant or an earlier parameter");
        return setError(x);
      }
      if (builtin->builtin == Builtin::S && scope_ != Scope::Score) {
        error(DiagnosticKind::ScoreVariableOutsideScore, x.range,
              "'s' (the raw score) used outside 'score = ...', expected it "
              "only in the score expression");
        return setError(x);
      }
      x.kind = ExprKind::BuiltinRef;
      x.builtin = builtin->builtin;
      x.type = builtin->builtin == Builtin::S ? Type::Float : Type::Int;
      x.deps = builtin->deps;
      return;
    }
    if (findPrimitive(x.name) || patterns_.count(x.name)) {
      // A bare primitive or pattern name is a call without arguments.
      x.kind = ExprKind::Call;
      x.nameRange = x.range;
      resolveCall(e);
      return;
    }
    std::vector<std::string> candidates;
    for (std::size_t i = 0; i < visibleLets_; ++i)
      candidates.push_back(p_.lets[i].name);
    for (std::size_t i = 0; i < visibleParams_; ++i)
      candidates.push_back(p_.params[i].name);
    if (scope_ != Scope::ParamDefault)
      for (const BuiltinInfo &builtin : builtinTable())
        if (builtin.builtin != Builtin::S || scope_ == Scope::Score)
          candidates.emplace_back(builtin.name);
    for (const PrimitiveInfo &prim : primitives())
      candidates.emplace_back(prim.name);
    std::string message = findMath(x.name)
                              ? "'" + x.name +
                                    "' is a function, expected a call such "
                                    "as '" +
                                    x.name + "(...)'"
                              : "unknown name '" + x.name + "'";
    auto builder = error(DiagnosticKind::UnknownName, x.range, message);
    std::string_view suggestion = closestName(x.name, candidates);
    if (!suggestion.empty()) {
      builder.note(x.range, "did you mean '" + std::string(suggestion) + "'?");
      int param = p_.findParam(suggestion);
      if (param >= 0 && static_cast<std::size_t>(param) < visibleParams_)
        builder.note(p_.params[static_cast<std::size_t>(param)].nameRange,
                     "parameter declared here");
    }
    setError(x);
  }

  void resolveCall(ExprPtr &e) {
    Expr &x = *e;
    if (const MathInfo *math = findMath(x.name))
      return checkMath(x, *math);
    if (const PrimitiveInfo *prim = findPrimitive(x.name))
      return checkPrimitive(x, *prim);
    if (auto it = patterns_.find(x.name); it != patterns_.end())
      return checkPatternCall(x, *it->second);
    std::vector<std::string> candidates;
    for (const MathInfo &math : mathTable())
      candidates.emplace_back(math.name);
    for (const PrimitiveInfo &prim : primitives())
      candidates.emplace_back(prim.name);
    for (const auto &[name, pattern] : patterns_)
      candidates.push_back(name);
    auto builder =
        error(DiagnosticKind::UnknownFunction, x.nameRange,
              "unknown function, primitive or pattern '" + x.name + "'");
    std::string_view suggestion = closestName(x.name, candidates);
    if (!suggestion.empty())
      builder.note(x.nameRange,
                   "did you mean '" + std::string(suggestion) + "'?");
    x.args.clear();
    setError(x);
  }

  /// Checks every argument value; false if one had an error type.
  bool checkArgValues(Expr &x) {
    bool ok = true;
    for (Argument &arg : x.args) {
      check(arg.value);
      if (arg.value->type == Type::Error)
        ok = false;
    }
    return ok;
  }

  void checkMath(Expr &x, const MathInfo &info) {
    bool ok = checkArgValues(x);
    for (const Argument &arg : x.args)
      if (!arg.name.empty()) {
        error(DiagnosticKind::UnexpectedNamedArgument, arg.nameRange,
              "'" + x.name +
                  "' takes positional arguments, expected no argument names");
        ok = false;
        break;
      }
    if (ok && x.args.size() != info.arity) {
      error(DiagnosticKind::WrongArgumentCount, x.range,
            "'" + x.name + "' takes " + std::to_string(info.arity) +
                (info.arity == 1 ? " argument" : " arguments") + ", found " +
                std::to_string(x.args.size()));
      ok = false;
    }
    x.kind = ExprKind::MathCall;
    x.math = info.fn;
    for (Argument &arg : x.args) {
      x.deps |= arg.value->deps;
      x.operands.push_back(std::move(arg.value));
    }
    x.args.clear();
    if (!ok)
      return setError(x);
    auto typeOf = [&](std::size_t i) { return x.operand(i).type; };
    auto mismatch = [&](std::string expected) {
      std::string found;
      for (std::size_t i = 0; i < x.operands.size(); ++i)
        found += (i ? ", " : "") + std::string(typeName(typeOf(i)));
      error(DiagnosticKind::TypeMismatch, x.range,
            "'" + x.name + "' called with (" + found + "), expected " +
                expected);
      setError(x);
    };
    switch (info.fn) {
    case MathFunction::Min:
    case MathFunction::Max:
      if (typeOf(0) == typeOf(1) &&
          (typeOf(0) == Type::Int || typeOf(0) == Type::Float))
        x.type = typeOf(0);
      else
        mismatch("two ints or two floats");
      return;
    case MathFunction::Abs:
      if (typeOf(0) == Type::Int || typeOf(0) == Type::Float)
        x.type = typeOf(0);
      else
        mismatch("an int or a float");
      return;
    case MathFunction::ToFloat:
      if (typeOf(0) == Type::Int)
        x.type = Type::Float;
      else
        mismatch("an int");
      return;
    case MathFunction::ToInt:
      if (typeOf(0) == Type::Float)
        x.type = Type::Int;
      else
        mismatch("a float");
      return;
    case MathFunction::AlibiSlope:
      if (typeOf(0) == Type::Int && typeOf(1) == Type::Int)
        x.type = Type::Float;
      else
        mismatch("(int head, int heads)");
      return;
    default:
      if (typeOf(0) == Type::Float)
        x.type = Type::Float;
      else
        mismatch("a float");
      return;
    }
  }

  /// Matches named arguments to `names`; reports positional, unknown and
  /// duplicate arguments. Returns the argument index per name (-1: absent).
  std::vector<int> matchNamedArgs(Expr &x,
                                  const std::vector<std::string> &names,
                                  const Pattern *callee, bool &ok) {
    std::vector<int> slots(names.size(), -1);
    for (std::size_t a = 0; a < x.args.size(); ++a) {
      Argument &arg = x.args[a];
      if (arg.name.empty()) {
        std::string example =
            names.empty() ? std::string("no arguments")
                          : "named arguments such as '" + names[0] + " = ...'";
        error(DiagnosticKind::ExpectedNamedArgument, arg.value->range,
              "positional argument to '" + x.name + "', expected " + example);
        ok = false;
        continue;
      }
      auto it = std::find(names.begin(), names.end(), arg.name);
      if (it == names.end()) {
        auto builder =
            error(DiagnosticKind::UnknownArgument, arg.nameRange,
                  "unknown argument '" + arg.name + "' for '" + x.name + "'");
        std::string_view suggestion = closestName(arg.name, names);
        if (!suggestion.empty()) {
          builder.note(arg.nameRange,
                       "did you mean '" + std::string(suggestion) + "'?");
          if (callee) {
            int param = callee->findParam(suggestion);
            if (param >= 0)
              builder.note(
                  callee->params[static_cast<std::size_t>(param)].nameRange,
                  "parameter declared here");
          }
        }
        ok = false;
        continue;
      }
      std::size_t slot = static_cast<std::size_t>(it - names.begin());
      if (slots[slot] >= 0) {
        error(DiagnosticKind::DuplicateArgument, arg.nameRange,
              "argument '" + arg.name + "' is given twice, expected it once")
            .note(x.args[static_cast<std::size_t>(slots[slot])].nameRange,
                  "first given here");
        ok = false;
        continue;
      }
      slots[slot] = static_cast<int>(a);
    }
    return slots;
  }

  void checkPrimitive(Expr &x, const PrimitiveInfo &info) {
    bool ok = checkArgValues(x);
    std::vector<std::string> names;
    for (const PrimitiveOperand &operand : info.operands)
      names.emplace_back(operand.name);
    std::vector<int> slots = matchNamedArgs(x, names, nullptr, ok);
    std::vector<ExprPtr> operands;
    std::uint8_t deps = DepQ | DepK;
    if (info.kind == ExprKind::Random)
      deps |= DepH | DepShape;
    if (info.kind == ExprKind::Full || info.kind == ExprKind::Empty)
      deps = 0;
    for (std::size_t i = 0; i < info.operands.size(); ++i) {
      const PrimitiveOperand &spec = info.operands[i];
      if (slots[i] < 0) {
        if (spec.required) {
          error(DiagnosticKind::MissingArgument, x.range,
                "missing argument '" + std::string(spec.name) + "' for '" +
                    x.name + "'");
          ok = false;
        }
        auto literal = std::make_unique<Expr>();
        literal->kind = ExprKind::IntLiteral;
        literal->intValue = spec.defaultValue;
        literal->type = Type::Int;
        literal->range = x.nameRange;
        literal->implicit = true;
        operands.push_back(std::move(literal));
        continue;
      }
      ExprPtr value =
          std::move(x.args[static_cast<std::size_t>(slots[i])].value);
      Type t = value->type;
      bool tokens = info.kind == ExprKind::Global;
      if (t != Type::Error && t != Type::Int &&
          !(tokens && t == Type::IntSet)) {
        error(DiagnosticKind::TypeMismatch, value->range,
              "argument '" + std::string(spec.name) + "' of '" + x.name +
                  "' has type " + std::string(typeName(t)) + ", expected " +
                  (tokens ? "an int, a range or a set" : "int"));
        ok = false;
      } else if (t != Type::Error && (value->deps & (DepQ | DepK))) {
        error(DiagnosticKind::PrimitiveArgumentDependsOnQK, value->range,
              "argument '" + std::string(spec.name) + "' of '" + x.name +
                  "' depends on " + ((value->deps & DepQ) ? "q" : "k") +
                  ", expected a value that does not vary per query or key "
                  "(b and h are allowed)");
        ok = false;
      }
      deps |= value->deps;
      operands.push_back(std::move(value));
    }
    x.args.clear();
    x.kind = info.kind;
    x.operands = std::move(operands);
    x.deps = deps;
    x.type = Type::Mask;
    if (!ok)
      setError(x);
  }

  void checkPatternCall(Expr &x, const Pattern &callee) {
    bool ok = checkArgValues(x);
    std::vector<std::string> names;
    for (const Param &param : callee.params)
      names.push_back(param.name);
    std::vector<int> slots = matchNamedArgs(x, names, &callee, ok);
    std::vector<ExprPtr> operands;
    for (std::size_t i = 0; i < callee.params.size(); ++i) {
      const Param &param = callee.params[i];
      if (slots[i] < 0) {
        if (!param.defaultValue) {
          error(DiagnosticKind::MissingArgument, x.range,
                "missing argument '" + param.name + "' for pattern '" + x.name +
                    "'")
              .note(param.nameRange, "parameter declared here");
          ok = false;
        }
        operands.push_back(nullptr);
        continue;
      }
      ExprPtr value =
          std::move(x.args[static_cast<std::size_t>(slots[i])].value);
      Type t = value->type;
      if (t != Type::Error && t != toType(param.type)) {
        error(DiagnosticKind::TypeMismatch, value->range,
              "argument '" + param.name + "' of pattern '" + x.name +
                  "' has type " + std::string(typeName(t)) + ", expected " +
                  std::string(paramTypeName(param.type)))
            .note(param.nameRange, "parameter declared here");
        ok = false;
      } else if (t != Type::Error && (value->deps & kElementDeps)) {
        error(DiagnosticKind::PatternArgumentNotConstant, value->range,
              "argument '" + param.name + "' of pattern '" + x.name +
                  "' varies per element, expected a value that depends "
                  "only on parameters and the shape");
        ok = false;
      }
      x.deps |= value->deps;
      operands.push_back(std::move(value));
    }
    x.args.clear();
    x.kind = ExprKind::PatternCall;
    x.callee = &callee;
    x.operands = std::move(operands);
    x.deps |= DepB | DepH | DepQ | DepK | DepShape;
    x.type = Type::Mask;
    if (!ok)
      setError(x);
  }

  void checkUnary(Expr &x) {
    check(x.operands[0]);
    Type t = x.operand(0).type;
    x.deps = x.operand(0).deps;
    if (t == Type::Error)
      return setError(x);
    switch (x.syntaxOp) {
    case SyntaxOp::Minus:
      if (t == Type::Int || t == Type::Float) {
        x.op = t == Type::Int ? Op::NegInt : Op::NegFloat;
        x.type = t;
        return;
      }
      error(DiagnosticKind::TypeMismatch, x.range,
            "operand of unary '-' has type " + std::string(typeName(t)) +
                ", expected int or float");
      return setError(x);
    case SyntaxOp::Bang:
      if (t == Type::Bool) {
        x.op = Op::NotBool;
        x.type = Type::Bool;
        return;
      }
      error(DiagnosticKind::TypeMismatch, x.range,
            "operand of '!' has type " + std::string(typeName(t)) +
                ", expected bool" +
                (t == Type::Mask ? " (use '~' to complement a mask)" : ""));
      return setError(x);
    default: // '~'
      if (toMask(x.operands[0])) {
        x.kind = ExprKind::Complement;
        x.type = Type::Mask;
        return;
      }
      error(DiagnosticKind::TypeMismatch, x.range,
            "operand of '~' has type " + std::string(typeName(t)) +
                ", expected mask or bool");
      return setError(x);
    }
  }

  void checkBinary(Expr &x) {
    check(x.operands[0]);
    check(x.operands[1]);
    Type a = x.operand(0).type, b = x.operand(1).type;
    x.deps = x.operand(0).deps | x.operand(1).deps;
    if (a == Type::Error || b == Type::Error)
      return setError(x);
    std::string spelling(syntaxOpSpelling(x.syntaxOp));
    auto mismatch = [&](std::string expected) {
      error(DiagnosticKind::TypeMismatch, x.range,
            "operands of '" + spelling + "' have types " +
                std::string(typeName(a)) + " and " + std::string(typeName(b)) +
                ", expected " + expected);
      setError(x);
    };
    auto numeric = [&](Op intOp, Op floatOp) {
      if (a == Type::Int && b == Type::Int) {
        x.op = intOp;
        x.type = Type::Int;
      } else if (a == Type::Float && b == Type::Float && floatOp != Op::None) {
        x.op = floatOp;
        x.type = Type::Float;
      } else {
        mismatch(floatOp == Op::None
                     ? "two ints"
                     : "two ints or two floats (convert with float(...) or "
                       "int(...))");
      }
    };
    auto maskOp = [&](ExprKind kind) {
      if (maskLike(a) && maskLike(b)) {
        toMask(x.operands[0]);
        toMask(x.operands[1]);
        x.kind = kind;
        x.type = Type::Mask;
        return true;
      }
      return false;
    };
    auto compare = [&](Op intOp, Op floatOp, Op boolOp) {
      x.type = Type::Bool;
      if (a == Type::Int && b == Type::Int)
        x.op = intOp;
      else if (a == Type::Float && b == Type::Float)
        x.op = floatOp;
      else if (a == Type::Bool && b == Type::Bool && boolOp != Op::None)
        x.op = boolOp;
      else
        mismatch(boolOp == Op::None ? "two ints or two floats"
                                    : "two values of the same scalar type");
    };
    switch (x.syntaxOp) {
    case SyntaxOp::Plus:
      return numeric(Op::AddInt, Op::AddFloat);
    case SyntaxOp::Star:
      return numeric(Op::MulInt, Op::MulFloat);
    case SyntaxOp::Slash:
      return numeric(Op::DivInt, Op::DivFloat);
    case SyntaxOp::Percent:
      return numeric(Op::ModInt, Op::None);
    case SyntaxOp::Minus:
      if ((a == Type::Mask && maskLike(b)) ||
          (b == Type::Mask && maskLike(a))) {
        maskOp(ExprKind::Difference);
        return;
      }
      return numeric(Op::SubInt, Op::SubFloat);
    case SyntaxOp::Pipe:
      if (!maskOp(ExprKind::Union))
        mismatch("masks or bools");
      return;
    case SyntaxOp::Amp:
      if (!maskOp(ExprKind::Intersect))
        mismatch("masks or bools");
      return;
    case SyntaxOp::AndAnd:
    case SyntaxOp::PipePipe:
      if (a == Type::Bool && b == Type::Bool) {
        x.op = x.syntaxOp == SyntaxOp::AndAnd ? Op::AndBool : Op::OrBool;
        x.type = Type::Bool;
      } else {
        mismatch(std::string("two bools") +
                 (a == Type::Mask || b == Type::Mask
                      ? (x.syntaxOp == SyntaxOp::AndAnd
                             ? " (use '&' to intersect masks)"
                             : " (use '|' to unite masks)")
                      : ""));
      }
      return;
    case SyntaxOp::EqEq:
      return compare(Op::EqInt, Op::EqFloat, Op::EqBool);
    case SyntaxOp::NotEq:
      return compare(Op::NeInt, Op::NeFloat, Op::NeBool);
    case SyntaxOp::Less:
      return compare(Op::LtInt, Op::LtFloat, Op::None);
    case SyntaxOp::LessEq:
      return compare(Op::LeInt, Op::LeFloat, Op::None);
    case SyntaxOp::Greater:
      return compare(Op::GtInt, Op::GtFloat, Op::None);
    case SyntaxOp::GreaterEq:
      return compare(Op::GeInt, Op::GeFloat, Op::None);
    default:
      return setError(x);
    }
  }

  void checkConditional(Expr &x) {
    for (ExprPtr &operand : x.operands)
      check(operand);
    Type c = x.operand(0).type, a = x.operand(1).type, b = x.operand(2).type;
    x.deps = x.operand(0).deps | x.operand(1).deps | x.operand(2).deps;
    if (c == Type::Error || a == Type::Error || b == Type::Error)
      return setError(x);
    if (c != Type::Bool) {
      error(DiagnosticKind::TypeMismatch, x.operand(0).range,
            "condition has type " + std::string(typeName(c)) +
                ", expected bool");
      return setError(x);
    }
    if (a == b) {
      x.type = a;
      return;
    }
    if (maskLike(a) && maskLike(b)) {
      toMask(x.operands[1]);
      toMask(x.operands[2]);
      x.type = Type::Mask;
      return;
    }
    error(DiagnosticKind::TypeMismatch, x.range,
          "branches of '?:' have types " + std::string(typeName(a)) + " and " +
              std::string(typeName(b)) + ", expected the same type");
    setError(x);
  }

  // --- Literal-only constant checks ----------------------------------------
  /// Literal-only expressions see literal-only lets, so that `let z = 0;`
  /// is checked like the literal it names.
  ConstEnv literalEnv() const {
    return ConstEnv{&p_, nullptr, nullptr, &literalLets_};
  }

  /// The value of a literal-only int expression; nullopt for anything else
  /// or on an error (reported where the expression itself is checked).
  std::optional<std::int64_t> literalInt(const Expr &e) const {
    if (e.deps != 0 || e.type != Type::Int)
      return std::nullopt;
    ConstEvaluator silent(literalEnv(), nullptr);
    auto v = silent.eval(e);
    if (!v)
      return std::nullopt;
    return v->i;
  }

  void foldCheck(const Expr &e) {
    if (isScalar(e.type) && e.deps == 0 && e.kind != ExprKind::IntLiteral &&
        e.kind != ExprKind::FloatLiteral && e.kind != ExprKind::BoolLiteral) {
      ConstEvaluator evaluator(literalEnv(), &diags_);
      evaluator.eval(e);
      if (evaluator.failed())
        failed_ = true;
      return;
    }
    for (const ExprPtr &operand : e.operands)
      if (operand)
        foldCheck(*operand);
    auto constant = [&](const Expr &arg) { return literalInt(arg); };
    if (isMaskPrimitive(e.kind) && !checkPrimitiveValues(e, constant, diags_))
      failed_ = true;
    checkElementDivisor(e, constant, diags_);
  }

  void foldCheckAll() {
    for (const Let &let : p_.lets) {
      std::optional<Value> value;
      if (isScalar(let.value->type) && let.value->deps == 0)
        value = ConstEvaluator(literalEnv(), nullptr).eval(*let.value);
      literalLets_.push_back(value);
    }
    for (const Param &param : p_.params)
      if (param.defaultValue)
        foldCheck(*param.defaultValue);
    for (const Let &let : p_.lets)
      foldCheck(*let.value);
    if (p_.mask)
      foldCheck(*p_.mask);
    if (p_.score)
      foldCheck(*p_.score);
  }

  void assignIds(Expr &e) {
    e.id = nextId_++;
    for (ExprPtr &operand : e.operands)
      if (operand)
        assignIds(*operand);
  }

  void assignIds() {
    for (Param &param : p_.params)
      if (param.defaultValue)
        assignIds(*param.defaultValue);
    for (Let &let : p_.lets)
      assignIds(*let.value);
    if (p_.mask)
      assignIds(*p_.mask);
    if (p_.score)
      assignIds(*p_.score);
    p_.numExprIds = nextId_;
  }

  Pattern &p_;
  const PatternMap &patterns_;
  DiagnosticEngine &diags_;
  Scope scope_ = Scope::ParamDefault;
  std::size_t visibleParams_ = 0;
  std::size_t visibleLets_ = 0;
  std::vector<Type> letTypes_;
  std::vector<std::uint8_t> letDeps_;
  /// By let: the value of a literal-only scalar let, nullopt otherwise.
  std::vector<std::optional<Value>> literalLets_;
  std::int32_t nextId_ = 0;
  bool failed_ = false;
};

} // namespace

bool checkPattern(Pattern &pattern, const PatternMap &patterns,
                  DiagnosticEngine &diags) {
  return PatternChecker(pattern, patterns, diags).run();
}

} // namespace lace::frontend
