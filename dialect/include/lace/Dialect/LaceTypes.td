//===- LaceTypes.td - types and attributes of the lace dialect -*- tablegen -*-===//
#ifndef LACE_DIALECT_LACETYPES_TD
#define LACE_DIALECT_LACETYPES_TD

include "lace/Dialect/LaceDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

class Lace_Type<string name, string typeMnemonic> : TypeDef<Lace_Dialect, name> {
  let mnemonic = typeMnemonic;
}

def Lace_MaskType : Lace_Type<"Mask", "mask"> {
  let summary = "an attention mask: which keys each query attends to";
  let description = [{
    A value of type `!lace.mask` denotes a function `mask(b, h, q, k) -> bool`
    over batch `b`, head `h`, query token `q` and key token `k`.
  }];
}

def Lace_ScoreType : Lace_Type<"Score", "score"> {
  let summary = "a score modifier: how a raw attention score is rewritten";
  let description = [{
    A value of type `!lace.score` denotes a function
    `score(s, b, h, q, k) -> f32` applied to the scaled dot product `s` before
    the softmax (ALiBi, tanh soft-capping, relative position bias).
  }];
}

def Lace_VarKind : I32EnumAttr<"VarKind", "a coordinate or size of the attention problem", [
    I32EnumAttrCase<"Batch", 0, "b">,
    I32EnumAttrCase<"Head", 1, "h">,
    I32EnumAttrCase<"BatchSize", 2, "batch">,
    I32EnumAttrCase<"Heads", 3, "heads">,
    I32EnumAttrCase<"SeqQ", 4, "seq_q">,
    I32EnumAttrCase<"SeqK", 5, "seq_k">]> {
  let cppNamespace = "::lace";
  let genSpecializedAttr = 0;
}

def Lace_VarKindAttr : EnumAttr<Lace_Dialect, Lace_VarKind, "var"> {
  let assemblyFormat = "$value";
}

#endif // LACE_DIALECT_LACETYPES_TD
