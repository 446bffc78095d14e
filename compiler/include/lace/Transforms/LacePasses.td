//===- LacePasses.td - the passes from pattern to schedule ---*- tablegen -*-===//
#ifndef LACE_TRANSFORMS_LACEPASSES_TD
#define LACE_TRANSFORMS_LACEPASSES_TD

include "mlir/Pass/PassBase.td"

def LaceSpecialize : Pass<"lace-specialize", "::mlir::ModuleOp"> {
  let summary = "Bind parameters, the problem shape and tile sizes; fold";
  let description = [{
    Replaces every pattern's parameters by their values (from `param` or the
    defaults) and `lace.var` sizes by the problem shape, clones the pattern for
    each head with `lace.var h` bound, folds and CSEs each clone, and keeps
    one clone per distinct head layout (patterns with `lace.random` keep one
    per head: its generator is keyed by the head). The module records the
    shape and tiles in `lace.problem`.

    Before:
    ```mlir
    lace.pattern @window(%w: i64 = 64) {
      %0 = lace.local before %w after %w
      lace.yield %0 : !lace.mask
    }
    ```
    After `--lace-specialize="heads=2 seq-q=256"`:
    ```mlir
    module attributes {lace.problem = {batch = 1, block_m = 128, ...}} {
      lace.pattern @window_g0() attributes {lace.heads = array<i64: 0, 1>,
                                            lace.source = @window} {
        %c64 = arith.constant 64 : i64
        %0 = lace.local before %c64 after %c64
        lace.yield %0 : !lace.mask
      }
    }
    ```
    Every primitive operand must fold to a constant; a pattern whose
    primitives depend on the batch index `b` is rejected.
  }];
  let options = [
    Option<"patternName", "pattern", "std::string", /*default=*/"\"\"",
           "Specialise only this pattern (default: all)">,
    ListOption<"params", "param", "std::string",
               "Parameter values as name=value">,
    Option<"batch", "batch", "int64_t", /*default=*/"1", "Batch size">,
    Option<"heads", "heads", "int64_t", /*default=*/"1", "Query heads">,
    Option<"kvHeads", "kv-heads", "int64_t", /*default=*/"0",
           "Key/value heads (GQA/MQA; 0 = heads)">,
    Option<"seqQ", "seq-q", "int64_t", /*default=*/"128", "Query tokens">,
    Option<"seqK", "seq-k", "int64_t", /*default=*/"0",
           "Key tokens (0 = seq-q)">,
    Option<"blockM", "block-m", "int64_t", /*default=*/"128",
           "Queries per tile">,
    Option<"blockN", "block-n", "int64_t", /*default=*/"128", "Keys per tile">,
    Option<"perHead", "per-head", "bool", /*default=*/"true",
           "Bind the head index and keep one pattern per distinct head "
           "layout (false: one pattern for all heads with `lace.var h` left "
           "symbolic, as kernel code generation wants it)">,
  ];
  let statistics = [
    Statistic<"numHeadLayouts", "head-layouts",
              "Distinct head layouts kept after specialisation">,
  ];
  let dependentDialects = ["::lace::LaceDialect", "::mlir::arith::ArithDialect"];
}

def LaceClassifyBlocks : Pass<"lace-classify-blocks", "::mlir::ModuleOp"> {
  let summary = "Classify every tile as empty, full or partial, exactly";
  let description = [{
    For every specialised pattern, computes per q-tile row the runs of
    k-tiles that are full or partial, from the structure of the primitives
    (bands for windows, the triangle for causal, rows and columns for global
    tokens, chosen blocks for random) and the mask algebra, in time
    proportional to the runs rather than to seq^2. Tiles the structure cannot
    decide (partial combined with partial, predicates that interval
    arithmetic cannot settle) are checked element by element and counted.
    Emits one `lace.layout` in run form next to each specialised pattern
    (which stays: code generation needs its predicates and score).

    Before (after `lace-specialize="seq-q=64 block-m=16 block-n=16"`):
    ```mlir
    lace.pattern @causal_g0() attributes {lace.heads = array<i64: 0>, ...} {
      %0 = lace.causal
      lace.yield %0 : !lace.mask
    }
    ```
    After, row r holds r full tiles and one partial diagonal tile:
    ```mlir
    lace.layout @causal_g0_layout source @causal_g0 heads [0] form "runs"
        grid 4 x 4 tables {row_offsets = dense<[0, 1, 3, 5, 7]> : tensor<5xi32>,
        runs = dense<[0, 1, 1,  0, 1, 2, 1, 2, 1,  0, 2, 2, 2, 3, 1,
                      0, 3, 2, 3, 4, 1]> : tensor<21xi32>}
        {lace.fallback_elements = 0 : i64, lace.fallback_tiles = 0 : i64}
    ```
    Patterns with `lace.segment` need run-time ids: their tables are the
    superset (each segment taken as `full`, every non-empty tile Partial;
    a segment under a complement or on the right of a difference is an
    error), and the exact mask tree is kept as `lace.run_time_mask`, which
    the runtime classifies against each batch's ids (`Kernel::documents`).
  }];
  let statistics = [
    Statistic<"numNonEmpty", "non-empty-tiles", "Tiles that are not empty">,
    Statistic<"numFull", "full-tiles", "Tiles whose every element is live">,
    Statistic<"numFallbackTiles", "fallback-tiles",
              "Tiles the analysis could not decide, checked element by element">,
    Statistic<"numFallbackElements", "fallback-elements",
              "Elements evaluated by that fallback">,
  ];
  let dependentDialects = ["::lace::LaceDialect"];
}

def LaceMaterializeLayout : Pass<"lace-materialize-layout", "::mlir::ModuleOp"> {
  let summary = "Choose the compact exact form of each layout; add its transpose";
  let description = [{
    Keeps the run form (per row a few intervals of k-tiles) when it is the
    smaller exact form, or converts to BSR (row offsets, column indices,
    full/partial kind) when runs are mostly single tiles; adds the transposed
    runs (per k-tile its q-tiles) for the backward pass. Tables larger than
    `resource-threshold` entries become dense resources instead of printed
    attributes.

    Before: the `lace.layout` of `lace-classify-blocks`, in run form.
    After (4 x 4 causal: BSR's 70 bytes beat the runs' 83):
    ```mlir
    lace.layout @causal_g0_layout source @causal_g0 heads [0] form "bsr"
        grid 4 x 4 tables {columns = dense<[0, 0, 1, 0, 1, 2, 0, 1, 2, 3]>,
        kinds = dense<[1, 2, 1, 2, 2, 1, 2, 2, 2, 1]>,
        row_offsets = dense<[0, 1, 3, 6, 10]>,
        t_row_offsets = dense<[0, 2, 4, 6, 7]>, t_runs = dense<[...]>}
    ```
  }];
  let options = [
    Option<"resourceThreshold", "resource-threshold", "int64_t",
           /*default=*/"256",
           "Tables with more entries are stored as dense resources">,
    Option<"transpose", "transpose", "bool", /*default=*/"true",
           "Also materialise the transposed structure">,
  ];
  let statistics = [
    Statistic<"numBSR", "bsr-layouts", "Layouts stored in BSR form">,
    Statistic<"numRuns", "run-layouts", "Layouts stored as runs">,
    Statistic<"tableBytes", "table-bytes", "Bytes of all layout tables">,
  ];
  let dependentDialects = ["::lace::LaceDialect"];
}

def LaceSchedule : Pass<"lace-schedule", "::mlir::ModuleOp"> {
  let summary = "Order and balance the tiles over a persistent grid of CTAs";
  let description = [{
    Builds the work list: one item per (batch, head, q-tile row), costed by
    its non-empty tiles, longest first, assigned greedily to the least
    loaded of `num-ctas` persistent CTAs; rows whose cost exceeds
    `split-factor` times the mean load per CTA are split into k-ranges whose
    partial results (written to workspace slots) the combine step merges.
    The persistent forward kernel runs exactly this work list. Emits one
    `lace.schedule`: before, the module's `lace.layout` ops; after (causal,
    8 x 8 tiles, `num-ctas=16`), the work list:
    ```mlir
    lace.schedule ctas 16 imbalance 1.368(unsplit 3.474) tables {
        combines = dense<[0, 0, 2, 0, 2, 0, 0, 3, 2, 2, ...]> : tensor<30xi32>,
        cta_offsets = dense<[0, 1, 2, 3, 4, 6, 8, ...]> : tensor<17xi32>,
        items = dense<[0, 0, 1, 0, 8, 0, 1, -1, ...]> : tensor<160xi32>}
    ```
  }];
  let options = [
    Option<"numCtas", "num-ctas", "int64_t", /*default=*/"132",
           "Persistent CTAs (the SM count of the target)">,
    Option<"splitFactor", "split-factor", "double", /*default=*/"1.0",
           "Split rows costing more than this times the mean load per CTA "
           "(0 disables splitting)">,
  ];
  let statistics = [
    Statistic<"imbalancePermille", "imbalance-permille",
              "Max over mean CTA load, times 1000">,
    Statistic<"unsplitImbalancePermille", "unsplit-imbalance-permille",
              "The same before splitting rows, times 1000">,
    Statistic<"numItems", "work-items", "Work items in the schedule">,
  ];
  let dependentDialects = ["::lace::LaceDialect"];
}

#endif // LACE_TRANSFORMS_LACEPASSES_TD
