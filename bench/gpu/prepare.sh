#!/bin/bash
# Writes the kernel bundles the device check runs, with a full build's
# `lace` (the GPU machine has no compiler). Run on a build machine before
# handing the tree to a GPU machine; the bundles travel with it
# (device tool: carry bench/gpu/bundles).
#
#   bench/gpu/prepare.sh [--tiny] [--lace PATH] [--out DIR]
#
# --tiny: small shapes for the emulator (CI); default: the GPU sizes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
lace="$root/build/bin/lace"
out="$here/bundles"
tiny=0
while [ $# -gt 0 ]; do
  case "$1" in
    --tiny) tiny=1 ;;
    --lace) lace=$2; shift ;;
    --out) out=$2; shift ;;
    *) echo "prepare.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
[ -x "$lace" ] || { echo "prepare.sh: no lace at $lace (build first)" >&2; exit 1; }
rm -rf "$out" && mkdir -p "$out/correctness" "$out/timing"
p="$root/patterns"

# Correctness: every library pattern, with every parameter given so that
# torch_baselines.py can rebuild the mask (the document mask takes random
# run-time segment ids; torch has no port of it here).
# name|file|params
cases=(
  "dense|dense.lace|"
  "causal_attention|causal.lace|"
  "causal_window|common.lace|--param window=100"
  "leading_globals|common.lace|--param count=40"
  "sliding_window|sliding_window.lace|--param window=100"
  "sliding_window_bidirectional|sliding_window.lace|--param window=128"
  "global_sliding_window|global_sliding_window.lace|--param window=96 --param globals=24"
  "dilated_sliding_window|dilated_sliding_window.lace|--param window=64 --param dilation=3 --param per_head=false"
  "longformer|longformer.lace|--param window=128 --param globals=16 --param max_dilation=1"
  "bigbird|bigbird.lace|--param block=32 --param window=1 --param globals=2 --param random_blocks=2 --param seed=5"
  "prefix_lm|prefix_lm.lace|--param prefix_length=100"
  "sparse_transformer_strided|sparse_transformer.lace|--param stride=32"
  "sparse_transformer_fixed|sparse_transformer.lace|--param stride=64 --param summary=8"
  "alibi_causal|alibi_causal.lace|"
  "softcap_causal|softcap_causal.lace|--param cap=20.0 --param window=0"
  "document_causal|document.lace|"
)
if [ $tiny = 1 ]; then
  shape="--batch 1 --heads 2 --kv-heads 1 --seq 160"
  kinds=("f16 64" "bf16 128")
else
  shape="--batch 1 --heads 4 --kv-heads 2 --seq 512"
  kinds=("f16 64" "f16 128" "bf16 64" "bf16 128")
fi
for entry in "${cases[@]}"; do
  IFS='|' read -r name file params <<< "$entry"
  for kind in "${kinds[@]}"; do
    read -r dtype dim <<< "$kind"
    # shellcheck disable=SC2086
    "$lace" compile "$p/$file" --pattern "$name" $params $shape \
      --dtype "$dtype" --head-dim "$dim" --emit=bundle \
      -o "$out/correctness/$name-$dtype-d$dim.lacebundle"
  done
done

# Timing: the patterns of the comparison at lengths 4K-64K, bf16, head dim
# 128, 16 heads and 64K tokens per batch (enough CTAs to fill an H200).
timing=(
  "causal_attention|causal.lace|"
  "sliding_window|sliding_window.lace|--param window=1024"
  "longformer|longformer.lace|--param window=512 --param globals=1 --param max_dilation=1"
  "bigbird|bigbird.lace|--param block=64 --param window=1 --param globals=2 --param random_blocks=3 --param seed=0"
  "sparse_transformer_strided|sparse_transformer.lace|--param stride=128"
  "document_causal|document.lace|"
)
if [ $tiny = 1 ]; then
  lengths=(256)
  heads=2
  tokens=256
else
  lengths=(4096 16384 65536)
  heads=16
  tokens=65536
fi
for entry in "${timing[@]}"; do
  IFS='|' read -r name file params <<< "$entry"
  for seq in "${lengths[@]}"; do
    batch=$((tokens / seq))
    # shellcheck disable=SC2086
    "$lace" compile "$p/$file" --pattern "$name" $params --batch $batch \
      --heads $heads --seq "$seq" --dtype bf16 --head-dim 128 --emit=bundle \
      -o "$out/timing/$name-$seq.lacebundle"
  done
done
du -sh "$out" | awk '{print "prepare.sh: bundles in '"$out"': " $1}'
