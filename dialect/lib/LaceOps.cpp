//===- LaceOps.cpp - assembly formats and verifiers of lace ops -----------===//
#include "lace/Dialect/LaceOps.h"

#include "lace/Frontend/PrimitiveMinimum.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace lace;

//===----------------------------------------------------------------------===//
// Helpers for structural checks on constant operands
//===----------------------------------------------------------------------===//

/// Operands are usually computed from parameters, so they can only be checked
/// here when they are constants; the frontend and `lace-specialize` check the
/// rest once the parameters are bound.
static std::optional<int64_t> constantValue(Value value) {
  if (!value)
    return std::nullopt;
  APInt constant;
  if (!matchPattern(value, m_ConstantInt(&constant)))
    return std::nullopt;
  return constant.getSExtValue();
}

/// Fails with "expected <what> to be at least <minimum>, got <value>" when
/// `value` is a constant below `minimum`.
static LogicalResult checkAtLeast(Operation *op, Value value, int64_t minimum,
                                  StringRef what) {
  std::optional<int64_t> constant = constantValue(value);
  if (!constant || *constant >= minimum)
    return success();
  return op->emitOpError() << "expected " << what << " to be at least "
                           << minimum << ", got " << *constant;
}

//===----------------------------------------------------------------------===//
// PatternOp
//===----------------------------------------------------------------------===//

void PatternOp::build(OpBuilder &builder, OperationState &state, StringRef name,
                      ArrayRef<StringRef> paramNames, ArrayRef<Type> paramTypes,
                      ArrayRef<Attribute> paramDefaults) {
  assert(paramNames.size() == paramTypes.size() &&
         paramNames.size() == paramDefaults.size() &&
         "one name, type and default (or UnitAttr) per parameter");
  state.addAttribute(getSymNameAttrName(state.name),
                     builder.getStringAttr(name));
  state.addAttribute(getParamNamesAttrName(state.name),
                     builder.getStrArrayAttr(paramNames));
  state.addAttribute(getParamDefaultsAttrName(state.name),
                     builder.getArrayAttr(paramDefaults));
  Region *body = state.addRegion();
  Block *block = new Block();
  for (Type type : paramTypes)
    block->addArgument(type, state.location);
  body->push_back(block);
}

Value PatternOp::getMask() {
  auto yield = dyn_cast<YieldOp>(getBody().front().getTerminator());
  return yield && !yield.getValues().empty() ? yield.getValues()[0] : Value();
}

Value PatternOp::getScore() {
  auto yield = dyn_cast<YieldOp>(getBody().front().getTerminator());
  return yield && yield.getValues().size() == 2 ? yield.getValues()[1]
                                                : Value();
}

static bool isParamType(Type type) {
  return type.isInteger(64) || type.isInteger(1) || type.isF32();
}

ParseResult PatternOp::parse(OpAsmParser &parser, OperationState &result) {
  StringAttr name;
  if (parser.parseSymbolName(name, getSymNameAttrName(result.name),
                             result.attributes))
    return failure();

  SmallVector<OpAsmParser::Argument> params;
  SmallVector<Attribute> names, defaults;
  auto parseParam = [&]() -> ParseResult {
    OpAsmParser::Argument &param = params.emplace_back();
    if (parser.parseArgument(param, /*allowType=*/true))
      return failure();
    names.push_back(
        parser.getBuilder().getStringAttr(param.ssaName.name.drop_front()));
    Attribute value = UnitAttr::get(parser.getContext());
    if (succeeded(parser.parseOptionalEqual()) &&
        parser.parseAttribute(value, param.type))
      return failure();
    defaults.push_back(value);
    return success();
  };
  if (parser.parseCommaSeparatedList(OpAsmParser::Delimiter::Paren, parseParam))
    return failure();
  result.addAttribute(getParamNamesAttrName(result.name),
                      parser.getBuilder().getArrayAttr(names));
  result.addAttribute(getParamDefaultsAttrName(result.name),
                      parser.getBuilder().getArrayAttr(defaults));
  if (parser.parseOptionalAttrDictWithKeyword(result.attributes))
    return failure();
  return parser.parseRegion(*result.addRegion(), params);
}

void PatternOp::print(OpAsmPrinter &printer) {
  printer << ' ';
  printer.printSymbolName(getSymName());
  printer << '(';
  Block &body = getBody().front();
  llvm::interleaveComma(llvm::seq<unsigned>(0, body.getNumArguments()), printer,
                        [&](unsigned i) {
                          printer.printRegionArgument(body.getArgument(i));
                          Attribute value = getParamDefaults()[i];
                          if (!isa<UnitAttr>(value)) {
                            printer << " = ";
                            printer.printAttributeWithoutType(value);
                          }
                        });
  printer << ')';
  printer.printOptionalAttrDictWithKeyword(
      (*this)->getAttrs(), {getSymNameAttrName(), getParamNamesAttrName(),
                            getParamDefaultsAttrName()});
  printer << ' ';
  printer.printRegion(getBody(), /*printEntryBlockArgs=*/false);
}

void PatternOp::getAsmBlockArgumentNames(Region &region,
                                         OpAsmSetValueNameFn setNameFn) {
  for (auto [arg, name] : llvm::zip(region.getArguments(),
                                    getParamNames().getAsRange<StringAttr>()))
    setNameFn(arg, name.getValue());
}

LogicalResult PatternOp::verifyRegions() {
  Block &body = getBody().front();
  size_t numParams = getParamNames().size();
  if (getParamDefaults().size() != numParams)
    return emitOpError() << "expected one default (or unit) per parameter: "
                         << numParams << " names but "
                         << getParamDefaults().size() << " defaults";
  if (body.getNumArguments() != numParams)
    return emitOpError() << "expected " << numParams
                         << " body arguments, one per parameter, got "
                         << body.getNumArguments();

  llvm::StringSet<> seen;
  for (auto [i, nameAttr] :
       llvm::enumerate(getParamNames().getAsRange<StringAttr>())) {
    StringRef name = nameAttr.getValue();
    if (name.empty())
      return emitOpError() << "expected a name for parameter #" << i;
    if (!seen.insert(name).second)
      return emitOpError() << "expected unique parameter names, '" << name
                           << "' appears twice";
    Type type = body.getArgument(i).getType();
    if (!isParamType(type))
      return emitOpError() << "expected parameter '" << name
                           << "' to have type i64, i1 or f32, got " << type;
    Attribute value = getParamDefaults()[i];
    if (isa<UnitAttr>(value))
      continue;
    auto typed = dyn_cast<TypedAttr>(value);
    if (!typed || typed.getType() != type)
      return emitOpError() << "expected the default of parameter '" << name
                           << "' to be a " << type << " constant, got "
                           << value;
  }

  auto yield = dyn_cast<YieldOp>(body.getTerminator());
  if (!yield)
    return emitOpError() << "expected the body to end in 'lace.yield'";
  TypeRange yielded = yield.getValues().getTypes();
  bool shapeOk = (yielded.size() == 1 || yielded.size() == 2) &&
                 isa<MaskType>(yielded[0]) &&
                 (yielded.size() == 1 || isa<ScoreType>(yielded[1]));
  if (!shapeOk)
    return yield.emitOpError()
           << "expected a pattern to yield '!lace.mask' and optionally "
              "'!lace.score', got ("
           << yielded << ")";
  return success();
}

//===----------------------------------------------------------------------===//
// VarOp
//===----------------------------------------------------------------------===//

ParseResult VarOp::parse(OpAsmParser &parser, OperationState &result) {
  SMLoc loc = parser.getCurrentLocation();
  StringRef keyword;
  if (parser.parseKeyword(&keyword))
    return failure();
  std::optional<VarKind> kind = symbolizeVarKind(keyword);
  if (!kind)
    return parser.emitError(loc)
           << "expected one of b, h, batch, heads, seq_q, seq_k, got '"
           << keyword << "'";
  result.addAttribute(getKindAttrName(result.name),
                      VarKindAttr::get(parser.getContext(), *kind));
  result.addTypes(parser.getBuilder().getI64Type());
  return parser.parseOptionalAttrDict(result.attributes);
}

void VarOp::print(OpAsmPrinter &printer) {
  printer << ' ' << stringifyVarKind(getKind());
  printer.printOptionalAttrDict((*this)->getAttrs(), {getKindAttrName()});
}

void VarOp::getAsmResultNames(OpAsmSetValueNameFn setNameFn) {
  setNameFn(getResult(), stringifyVarKind(getKind()));
}

//===----------------------------------------------------------------------===//
// Regions over coordinates: PredicateOp and ScoreOp
//===----------------------------------------------------------------------===//

/// Both ops print as `lace.op(%a, %b, ...) { ... }`: the argument types are
/// fixed by the op, so only their names are written.
static ParseResult parseCoordinateRegion(OpAsmParser &parser,
                                         OperationState &result,
                                         ArrayRef<Type> argTypes) {
  SmallVector<OpAsmParser::Argument> args;
  if (parser.parseArgumentList(args, OpAsmParser::Delimiter::Paren))
    return failure();
  if (args.size() != argTypes.size())
    return parser.emitError(parser.getCurrentLocation())
           << "expected " << argTypes.size() << " region arguments, got "
           << args.size();
  for (auto [arg, type] : llvm::zip(args, argTypes))
    arg.type = type;
  if (parser.parseOptionalAttrDictWithKeyword(result.attributes))
    return failure();
  return parser.parseRegion(*result.addRegion(), args);
}

static void printCoordinateRegion(OpAsmPrinter &printer, Operation *op,
                                  Region &region) {
  printer << '(';
  llvm::interleaveComma(region.getArguments(), printer,
                        [&](BlockArgument arg) { printer.printOperand(arg); });
  printer << ')';
  printer.printOptionalAttrDictWithKeyword(op->getAttrs());
  printer << ' ';
  printer.printRegion(region, /*printEntryBlockArgs=*/false);
}

static void nameCoordinates(Region &region, ArrayRef<StringRef> names,
                            OpAsmSetValueNameFn setNameFn) {
  for (auto [arg, name] : llvm::zip(region.getArguments(), names))
    setNameFn(arg, name);
}

/// Checks that `region` takes `argTypes` and yields one value of `resultType`.
static LogicalResult verifyCoordinateRegion(Operation *op, Region &region,
                                            ArrayRef<Type> argTypes,
                                            Type resultType,
                                            StringRef signature) {
  Block &block = region.front();
  if (TypeRange(block.getArgumentTypes()) != TypeRange(argTypes))
    return op->emitOpError() << "expected region arguments " << signature;
  auto yield = dyn_cast<YieldOp>(block.getTerminator());
  if (!yield || yield.getValues().size() != 1 ||
      yield.getValues()[0].getType() != resultType)
    return op->emitOpError()
           << "expected the region to yield exactly one " << resultType;
  return success();
}

static SmallVector<Type> predicateArgTypes(MLIRContext *context) {
  Type i64 = IntegerType::get(context, 64);
  return {i64, i64, i64, i64};
}

static SmallVector<Type> scoreArgTypes(MLIRContext *context) {
  Type i64 = IntegerType::get(context, 64);
  return {Float32Type::get(context), i64, i64, i64, i64};
}

static Block *addCoordinateBlock(OperationState &state,
                                 ArrayRef<Type> argTypes) {
  Block *block = new Block();
  for (Type type : argTypes)
    block->addArgument(type, state.location);
  state.addRegion()->push_back(block);
  return block;
}

void PredicateOp::build(OpBuilder &builder, OperationState &state) {
  state.addTypes(MaskType::get(builder.getContext()));
  addCoordinateBlock(state, predicateArgTypes(builder.getContext()));
}

ParseResult PredicateOp::parse(OpAsmParser &parser, OperationState &result) {
  result.addTypes(MaskType::get(parser.getContext()));
  return parseCoordinateRegion(parser, result,
                               predicateArgTypes(parser.getContext()));
}

void PredicateOp::print(OpAsmPrinter &printer) {
  printCoordinateRegion(printer, *this, getBody());
}

void PredicateOp::getAsmBlockArgumentNames(Region &region,
                                           OpAsmSetValueNameFn setNameFn) {
  nameCoordinates(region, {"b", "h", "q", "k"}, setNameFn);
}

LogicalResult PredicateOp::verifyRegions() {
  return verifyCoordinateRegion(
      *this, getBody(), predicateArgTypes(getContext()),
      IntegerType::get(getContext(), 1), "(b: i64, h: i64, q: i64, k: i64)");
}

void ScoreOp::build(OpBuilder &builder, OperationState &state) {
  state.addTypes(ScoreType::get(builder.getContext()));
  addCoordinateBlock(state, scoreArgTypes(builder.getContext()));
}

ParseResult ScoreOp::parse(OpAsmParser &parser, OperationState &result) {
  result.addTypes(ScoreType::get(parser.getContext()));
  return parseCoordinateRegion(parser, result,
                               scoreArgTypes(parser.getContext()));
}

void ScoreOp::print(OpAsmPrinter &printer) {
  printCoordinateRegion(printer, *this, getBody());
}

void ScoreOp::getAsmBlockArgumentNames(Region &region,
                                       OpAsmSetValueNameFn setNameFn) {
  nameCoordinates(region, {"s", "b", "h", "q", "k"}, setNameFn);
}

LogicalResult ScoreOp::verifyRegions() {
  return verifyCoordinateRegion(*this, getBody(), scoreArgTypes(getContext()),
                                Float32Type::get(getContext()),
                                "(s: f32, b: i64, h: i64, q: i64, k: i64)");
}

//===----------------------------------------------------------------------===//
// Primitive verifiers
//===----------------------------------------------------------------------===//

// The minimums are the language's (Primitives.def): lowering clamps dynamic
// operands to them, so these hold for every lowered pattern.
using frontend::primitiveMinimum;

LogicalResult LocalOp::verify() {
  if (failed(checkAtLeast(*this, getBefore(),
                          primitiveMinimum("Local", "before"),
                          "the 'before' extent")) ||
      failed(checkAtLeast(*this, getAfter(), primitiveMinimum("Local", "after"),
                          "the 'after' extent")))
    return failure();
  return checkAtLeast(*this, getGranularity(),
                      primitiveMinimum("Local", "granularity"),
                      "the granularity");
}

LogicalResult DilatedOp::verify() {
  if (failed(checkAtLeast(*this, getBefore(),
                          primitiveMinimum("Dilated", "before"),
                          "the 'before' extent")) ||
      failed(checkAtLeast(*this, getAfter(),
                          primitiveMinimum("Dilated", "after"),
                          "the 'after' extent")))
    return failure();
  return checkAtLeast(*this, getDilation(),
                      primitiveMinimum("Dilated", "dilation"), "the dilation");
}

LogicalResult StridedOp::verify() {
  return checkAtLeast(*this, getStride(), primitiveMinimum("Strided", "stride"),
                      "the stride");
}

LogicalResult FixedOp::verify() {
  if (failed(checkAtLeast(*this, getStride(),
                          primitiveMinimum("Fixed", "stride"), "the stride")) ||
      failed(checkAtLeast(*this, getSummary(),
                          primitiveMinimum("Fixed", "summary"), "the summary")))
    return failure();
  std::optional<int64_t> stride = constantValue(getStride());
  std::optional<int64_t> summary = constantValue(getSummary());
  if (stride && summary && *summary > *stride)
    return emitOpError() << "expected the summary to be at most the stride ("
                         << *stride << "), got " << *summary;
  return success();
}

LogicalResult GlobalOp::verify() {
  if (getTokens().empty() && !getLo())
    return emitOpError() << "expected global tokens, a range, or both";
  if (!getLo() != !getHi())
    return emitOpError() << "expected a range to have both 'lo' and 'hi'";
  constexpr std::int64_t kFirstToken = primitiveMinimum("Global", "tokens");
  for (Value token : getTokens())
    if (failed(checkAtLeast(*this, token, kFirstToken, "every global token")))
      return failure();
  if (failed(
          checkAtLeast(*this, getLo(), kFirstToken, "the start of the range")))
    return failure();
  std::optional<int64_t> lo = constantValue(getLo());
  std::optional<int64_t> hi = constantValue(getHi());
  if (lo && hi && *hi < *lo)
    return emitOpError() << "expected the range end (" << *hi
                         << ") not to precede its start (" << *lo << ")";
  return success();
}

LogicalResult RandomOp::verify() {
  if (failed(checkAtLeast(*this, getPerRow(),
                          primitiveMinimum("Random", "per_row"),
                          "the per-row count")) ||
      failed(checkAtLeast(*this, getGranularity(),
                          primitiveMinimum("Random", "granularity"),
                          "the granularity")))
    return failure();
  std::optional<int64_t> seed = constantValue(getSeed());
  if (seed && *seed < primitiveMinimum("Random", "seed"))
    return emitOpError() << "expected the seed to be in [0, 2^63), got "
                         << *seed;
  return success();
}

LogicalResult PrefixOp::verify() {
  return checkAtLeast(*this, getLength(), primitiveMinimum("Prefix", "length"),
                      "the prefix length");
}

//===----------------------------------------------------------------------===//
// LayoutOp
//===----------------------------------------------------------------------===//

/// Checks that `tables[name]` is a 1-d i32 tensor; with `size` >= 0, of that
/// many elements; with `multiple` > 0, of a multiple of that many elements.
static LogicalResult checkTable(Operation *op, DictionaryAttr tables,
                                StringRef name, int64_t size,
                                int64_t multiple = 0) {
  auto table = dyn_cast_or_null<ElementsAttr>(tables.get(name));
  if (!table)
    return op->emitOpError() << "expected an i32 table '" << name << "'";
  auto type = dyn_cast<RankedTensorType>(table.getShapedType());
  if (!type || type.getRank() != 1 || !type.getElementType().isInteger(32))
    return op->emitOpError()
           << "expected table '" << name << "' to be a 1-d tensor of i32, got "
           << table.getShapedType();
  int64_t count = type.getDimSize(0);
  if (size >= 0 && count != size)
    return op->emitOpError() << "expected table '" << name << "' to have "
                             << size << " entries, got " << count;
  if (multiple > 0 && count % multiple != 0)
    return op->emitOpError()
           << "expected table '" << name << "' to have a multiple of "
           << multiple << " entries, got " << count;
  return success();
}

LogicalResult LayoutOp::verify() {
  auto numRows = static_cast<int64_t>(getNumRows());
  auto numCols = static_cast<int64_t>(getNumCols());
  DictionaryAttr tables = getTables();
  if (failed(checkTable(*this, tables, "row_offsets", numRows + 1)))
    return failure();
  if (getForm() == "runs") {
    if (failed(checkTable(*this, tables, "runs", -1, 3)))
      return failure();
  } else if (getForm() == "bsr") {
    if (failed(checkTable(*this, tables, "columns", -1)) ||
        failed(checkTable(*this, tables, "kinds", -1)))
      return failure();
  } else {
    return emitOpError() << "expected form \"runs\" or \"bsr\", got \""
                         << getForm() << "\"";
  }
  if (tables.get("t_row_offsets") &&
      (failed(checkTable(*this, tables, "t_row_offsets", numCols + 1)) ||
       failed(checkTable(*this, tables, "t_runs", -1, 3))))
    return failure();
  return success();
}

#define GET_OP_CLASSES
#include "lace/Dialect/LaceOps.cpp.inc"
