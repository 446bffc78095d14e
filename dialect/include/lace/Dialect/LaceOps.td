//===- LaceOps.td - operations of the lace dialect -----------*- tablegen -*-===//
#ifndef LACE_DIALECT_LACEOPS_TD
#define LACE_DIALECT_LACEOPS_TD

include "lace/Dialect/LaceTypes.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/IR/RegionKindInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

// Every op producing a mask infers its result type (ODS derives it from the
// buildable `!lace.mask`), so builders never spell it out.

//===----------------------------------------------------------------------===//
// Pattern, coordinates and terminator
//===----------------------------------------------------------------------===//

def Lace_PatternOp : Lace_Op<"pattern", [
    Symbol, IsolatedFromAbove, SingleBlock,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>]> {
  let summary = "a named, parameterised attention pattern";
  let description = [{
    A pattern's body computes its mask from its parameters. Each parameter is a
    block argument of type `i64` (int), `i1` (bool) or `f32` (float) with an
    optional default value. The body ends in `lace.yield` of a `!lace.mask`
    and, optionally, a `!lace.score`.

    ```mlir
    lace.pattern @sliding_window(%window: i64 = 256) {
      %0 = lace.local before %window after %window
      lace.yield %0 : !lace.mask
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       StrArrayAttr:$param_names,
                       ArrayAttr:$param_defaults);
  let regions = (region SizedRegion<1>:$body);
  let hasCustomAssemblyFormat = 1;
  let hasRegionVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [
    OpBuilder<(ins "::llvm::StringRef":$name,
                   "::llvm::ArrayRef<::llvm::StringRef>":$paramNames,
                   "::llvm::ArrayRef<::mlir::Type>":$paramTypes,
                   "::llvm::ArrayRef<::mlir::Attribute>":$paramDefaults)>
  ];
  let extraClassDeclaration = [{
    /// The value the pattern yields as its mask.
    ::mlir::Value getMask();
    /// The score modifier the pattern yields, or null when it has none.
    ::mlir::Value getScore();
    unsigned getNumParams() { return getParamNames().size(); }
  }];
}

def Lace_VarOp : Lace_Op<"var", [Pure,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmResultNames"]>]> {
  let summary = "a coordinate or size of the attention problem";
  let description = [{
    Gives the batch index `b`, the head index `h`, or a size of the problem
    (`batch`, `heads`, `seq_q`, `seq_k`) as an `i64`. Primitives whose
    operands depend on `h` vary per head.

    ```mlir
    %h = lace.var h
    ```
  }];
  let arguments = (ins Lace_VarKindAttr:$kind);
  let results = (outs I64:$result);
  let hasCustomAssemblyFormat = 1;
}

def Lace_YieldOp : Lace_Op<"yield", [Pure, Terminator, ReturnLike,
    ParentOneOf<["PatternOp", "PredicateOp", "ScoreOp"]>]> {
  let summary = "ends a pattern, predicate or score region";
  let description = [{
    In a `lace.pattern` it yields the mask and optionally the score; in a
    `lace.predicate` the `i1` liveness of the element; in a `lace.score` the
    rewritten `f32` score.
  }];
  let arguments = (ins Variadic<AnyType>:$values);
  let builders = [OpBuilder<(ins), [{ /* empty */ }]>];
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
}

//===----------------------------------------------------------------------===//
// Primitives
//===----------------------------------------------------------------------===//

class Lace_PrimitiveOp<string mnemonic, list<Trait> traits = []>
    : Lace_Op<mnemonic, !listconcat([Pure,
        DeclareOpInterfaceMethods<InferTypeOpInterface>], traits)> {
  let results = (outs Lace_MaskType:$result);
}

def Lace_FullOp : Lace_PrimitiveOp<"full"> {
  let summary = "every element is live (dense attention)";
  let assemblyFormat = "attr-dict";
}

def Lace_EmptyOp : Lace_PrimitiveOp<"empty"> {
  let summary = "no element is live";
  let assemblyFormat = "attr-dict";
}

def Lace_CausalOp : Lace_PrimitiveOp<"causal"> {
  let summary = "causal mask: live iff k <= q";
  let assemblyFormat = "attr-dict";
}

def Lace_LocalOp : Lace_PrimitiveOp<"local"> {
  let summary = "sliding window: live iff -after <= q - k <= before";
  let description = [{
    With `granularity` g the window moves in blocks of g tokens: with
    `D = floor(q / g) - floor(k / g)` an element is live iff
    `-after <= D * g <= before`. Extents are non-negative; g is at least 1.

    ```mlir
    %w = lace.local before %c128 after %c0
    %b = lace.local before %c64 after %c64 granularity %c64
    ```
  }];
  let arguments = (ins I64:$before, I64:$after, Optional<I64>:$granularity);
  let assemblyFormat =
      "`before` $before `after` $after (`granularity` $granularity^)? attr-dict";
  let hasVerifier = 1;
}

def Lace_DilatedOp : Lace_PrimitiveOp<"dilated"> {
  let summary = "dilated sliding window (Longformer)";
  let description = [{
    With `d = q - k`, live iff `d mod dilation == 0` and
    `-after <= d / dilation <= before`: `before` and `after` count attended
    keys, so the window spans `(before + after) * dilation + 1` tokens.

    ```mlir
    %0 = lace.dilated before %c4 after %c4 dilation %c2
    ```
  }];
  let arguments = (ins I64:$before, I64:$after, I64:$dilation);
  let assemblyFormat =
      "`before` $before `after` $after `dilation` $dilation attr-dict";
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

def Lace_StridedOp : Lace_PrimitiveOp<"strided"> {
  let summary = "Sparse Transformer strided pattern (Child et al., 2019)";
  let description = [{
    With `d = q - k`: live iff `k <= q` and (`d < stride` or
    `d mod stride == 0`).
  }];
  let arguments = (ins I64:$stride);
  let assemblyFormat = "`stride` $stride attr-dict";
  let hasVerifier = 1;
}

def Lace_FixedOp : Lace_PrimitiveOp<"fixed"> {
  let summary = "Sparse Transformer fixed pattern (Child et al., 2019)";
  let description = [{
    Live iff `k <= q` and (`floor(k / stride) == floor(q / stride)` or
    `k mod stride >= stride - summary`): each query sees its own block and the
    last `summary` tokens of every earlier block.
  }];
  let arguments = (ins I64:$stride, I64:$summary);
  let assemblyFormat = "`stride` $stride `summary` $summary attr-dict";
  let hasVerifier = 1;
}

def Lace_GlobalOp : Lace_PrimitiveOp<"global", [AttrSizedOperandSegments]> {
  let summary = "global tokens: attend to everything and are attended by everything";
  let description = [{
    The global token set G is the listed tokens together with the half-open
    range `[lo, hi)`. Live iff `q in G` or `k in G`.

    ```mlir
    %0 = lace.global tokens(%c0, %c5) range %c16 to %c32
    ```
  }];
  let arguments = (ins Variadic<I64>:$tokens, Optional<I64>:$lo, Optional<I64>:$hi);
  let assemblyFormat =
      "(`tokens` `(` $tokens^ `)`)? (`range` $lo^ `to` $hi)? attr-dict";
  let hasVerifier = 1;
}

def Lace_RandomOp : Lace_PrimitiveOp<"random"> {
  let summary = "BigBird random blocks from a counter-based generator";
  let description = [{
    Each block row `R = floor(q / granularity)` of head `h` attends to
    `min(per_row, N)` distinct key blocks out of `N = ceil(seq_k / granularity)`,
    chosen by Floyd's algorithm from a SplitMix64 counter-based generator keyed
    by `(seed, h, R)` (see docs/language.md). Live iff `floor(k / granularity)`
    is chosen. The layout is the same on every machine.
  }];
  let arguments = (ins I64:$per_row, I64:$granularity, I64:$seed);
  let assemblyFormat =
      "`per_row` $per_row `granularity` $granularity `seed` $seed attr-dict";
  let hasVerifier = 1;
}

def Lace_PrefixOp : Lace_PrimitiveOp<"prefix"> {
  let summary = "prefix-LM: bidirectional prefix, causal after it";
  let description = [{ Live iff `k < length` or `k <= q`. }];
  let arguments = (ins I64:$length);
  let assemblyFormat = "`length` $length attr-dict";
  let hasVerifier = 1;
}

def Lace_SegmentOp : Lace_PrimitiveOp<"segment"> {
  let summary = "document masking from per-token segment ids given at run time";
  let description = [{
    Live iff `segment_q[q] == segment_k[k]`, where the segment id tables are
    supplied with each launch (packed variable-length sequences).
  }];
  let assemblyFormat = "attr-dict";
}

def Lace_PredicateOp : Lace_PrimitiveOp<"predicate", [SingleBlock,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>]> {
  let summary = "an arbitrary mask given as a predicate over (b, h, q, k)";
  let description = [{
    The region takes the `i64` coordinates `b, h, q, k` and yields the `i1`
    liveness of that element. It may use values defined above it, such as the
    pattern's parameters.

    ```mlir
    %m = lace.predicate(%b, %h, %q, %k) {
      %d = arith.subi %q, %k : i64
      %r = arith.remsi %d, %c2 : i64
      %live = arith.cmpi eq, %r, %c0 : i64
      lace.yield %live : i1
    }
    ```
  }];
  let regions = (region SizedRegion<1>:$body);
  let hasCustomAssemblyFormat = 1;
  let hasRegionVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [OpBuilder<(ins)>];
}

//===----------------------------------------------------------------------===//
// Mask algebra
//===----------------------------------------------------------------------===//

class Lace_BinaryMaskOp<string mnemonic, list<Trait> traits = []>
    : Lace_Op<mnemonic, !listconcat([Pure,
        DeclareOpInterfaceMethods<InferTypeOpInterface>], traits)> {
  let arguments = (ins Lace_MaskType:$lhs, Lace_MaskType:$rhs);
  let results = (outs Lace_MaskType:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict";
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Lace_UnionOp : Lace_BinaryMaskOp<"union", [Commutative]> {
  let summary = "live where either operand is live";
}

def Lace_IntersectOp : Lace_BinaryMaskOp<"intersect", [Commutative]> {
  let summary = "live where both operands are live";
}

def Lace_DifferenceOp : Lace_BinaryMaskOp<"difference"> {
  let summary = "live where the left operand is live and the right is not";
}

def Lace_ComplementOp : Lace_Op<"complement", [Pure,
    DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "live where the operand is not";
  let arguments = (ins Lace_MaskType:$input);
  let results = (outs Lace_MaskType:$result);
  let assemblyFormat = "$input attr-dict";
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

//===----------------------------------------------------------------------===//
// Score
//===----------------------------------------------------------------------===//

def Lace_ScoreOp : Lace_Op<"score", [Pure, SingleBlock,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>]> {
  let summary = "a score modifier over (s, b, h, q, k)";
  let description = [{
    The region takes the raw score `s: f32` and the `i64` coordinates
    `b, h, q, k` and yields the rewritten `f32` score.

    ```mlir
    %sc = lace.score(%s, %b, %h, %q, %k) {
      %t = math.tanh %s : f32
      lace.yield %t : f32
    }
    ```
  }];
  let results = (outs Lace_ScoreType:$result);
  let regions = (region SizedRegion<1>:$body);
  let hasCustomAssemblyFormat = 1;
  let hasRegionVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [OpBuilder<(ins)>];
}

//===----------------------------------------------------------------------===//
// Layout/schedule level
//===----------------------------------------------------------------------===//

def Lace_LayoutOp : Lace_Op<"layout", [Symbol]> {
  let summary = "the exact block-sparse structure of one distinct head layout";
  let description = [{
    Produced by `lace-classify-blocks` from a specialised pattern and refined
    by `lace-materialize-layout`. The q-tiles (rows) and k-tiles (columns) of
    a `num_rows` x `num_cols` grid are Empty, Partial or Full.

    * form `runs`: `row_offsets` (`num_rows + 1` entries) indexes `runs`,
      which holds `[begin, end, kind]` triples of k-tiles (kind 1 = Partial,
      2 = Full); gaps are Empty. Causal, window, prefix and global patterns
      cost O(rows).
    * form `bsr`: `row_offsets` indexes `columns` (one k-tile each) and
      `kinds` (1 = Partial, 2 = Full), like FlexAttention's
      `kv_num_blocks`/`kv_indices`/`full_kv_*`.

    `t_row_offsets`/`t_runs` hold the transposed structure (per k-tile its
    q-tiles, as runs) for the backward pass once materialised. Tables are
    `i32` tensors, stored as dense resources when large.

    ```mlir
    lace.layout @causal_g0 source @causal heads [0, 1] form "runs"
        grid 4 x 4 tables {row_offsets = dense<...>, runs = dense<...>}
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       FlatSymbolRefAttr:$source,
                       DenseI64ArrayAttr:$heads,
                       StrAttr:$form,
                       I64Attr:$num_rows,
                       I64Attr:$num_cols,
                       DictionaryAttr:$tables);
  let assemblyFormat = [{
    $sym_name `source` $source `heads` $heads `form` $form
    `grid` $num_rows `x` $num_cols `tables` $tables attr-dict
  }];
  let hasVerifier = 1;
}

def Lace_ScheduleOp : Lace_Op<"schedule", []> {
  let summary = "the order in which persistent CTAs take tiles";
  let description = [{
    Produced by `lace-schedule`; the forward kernel runs exactly this.
    `items` holds one `[batch, head, row, col_begin, col_end, split,
    num_splits, slot]` record per work item: a q-tile row over k-tiles
    `[col_begin, col_end)`, or piece `split` of a row cut into `num_splits`
    pieces, which writes its partial result (O, log-sum-exp) to workspace
    slot `slot` (-1 for whole rows). `combines` holds one `[batch, head,
    row, first_slot, num_splits]` record per split row: the combine step
    merges its slots. `cta_offsets` (`num_ctas + 1` entries) gives each
    persistent CTA its contiguous slice of `items`, longest work first.
  }];
  let arguments = (ins I64Attr:$num_ctas,
                       F64Attr:$imbalance,
                       F64Attr:$imbalance_before_split,
                       DictionaryAttr:$tables);
  let assemblyFormat = [{
    `ctas` $num_ctas `imbalance` $imbalance `(` `unsplit` $imbalance_before_split `)`
    `tables` $tables attr-dict
  }];
}

#endif // LACE_DIALECT_LACEOPS_TD
