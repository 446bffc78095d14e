//===- LaceDialect.td - the lace dialect ---------------------*- tablegen -*-===//
#ifndef LACE_DIALECT_LACEDIALECT_TD
#define LACE_DIALECT_LACEDIALECT_TD

include "mlir/IR/OpBase.td"

def Lace_Dialect : Dialect {
  let name = "lace";
  let cppNamespace = "::lace";
  let summary = "Attention sparsity patterns and their block-sparse schedules";
  let description = [{
    The `lace` dialect describes attention masks. At the pattern level a
    `lace.pattern` symbol computes a `!lace.mask` value out of structured
    primitives (`lace.causal`, `lace.local`, `lace.global`, ...), the mask
    algebra (`lace.union`, `lace.intersect`, `lace.difference`,
    `lace.complement`) and, for anything else, `lace.predicate` regions over
    the token coordinates `(b, h, q, k)`. The pattern may also yield a
    `!lace.score` that rewrites the raw attention score.

    Primitives stay structured as long as possible: the structure is what lets
    the compiler classify tiles as empty, full or partial without evaluating the
    mask element by element.

    Integers are `i64` throughout: token offsets such as `q - k` are signed,
    and `index` would turn into an unsigned `size_t` in generated C++.
    Division and remainder in `.lace` files floor towards negative infinity;
    the frontend lowers them to `arith.floordivsi` and its companions.
  }];
  let useDefaultTypePrinterParser = 1;
  let useDefaultAttributePrinterParser = 1;
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::math::MathDialect"];
}

class Lace_Op<string mnemonic, list<Trait> traits = []>
    : Op<Lace_Dialect, mnemonic, traits>;

#endif // LACE_DIALECT_LACEDIALECT_TD
