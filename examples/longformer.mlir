// Longformer at the pattern level, as the frontend lowers it: a window of
// `window` keys on each side, dilated by 1 + h % max_dilation, plus global
// tokens [0, globals). `lace-opt --canonicalize` runs the dialect's folders.
lace.pattern @longformer(%window: i64 = 256, %globals: i64 = 1, %max_dilation: i64 = 1) {
  %c1 = arith.constant 1 : i64
  %c0 = arith.constant 0 : i64
  %h = lace.var h
  %rem = arith.remsi %h, %max_dilation : i64
  %dilation = arith.addi %rem, %c1 : i64
  %window_mask = lace.dilated before %window after %window dilation %dilation
  %globals_mask = lace.global range %c0 to %globals
  %both = lace.union %window_mask, %globals_mask
  %same = lace.union %both, %both
  lace.yield %same : !lace.mask
}
