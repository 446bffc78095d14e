#!/bin/bash
# The whole device check in one call (docs: bench/gpu/README.md).
#
#   bench/gpu/check.sh [--device=cuda|emulator] [--bundles=DIR]
#
# Builds the runtime-only configuration (no LLVM/MLIR needed), runs
# lace-gpu-check on the kernel bundles made by prepare.sh (correctness
# against the float64 reference, timings with CUDA events), then, on a GPU
# with PyTorch, torch_baselines.py (Lace vs SDPA/FlexAttention on the same
# inputs, dense SDPA and FlexAttention timings, create_block_mask). Prints
# the tables last; CSVs go to $OUT (default bench/gpu/out).
# --device=emulator runs the same on the CPU (tiny bundles: prepare.sh
# --tiny), skipping what needs CUDA or PyTorch; CI runs it so this script
# cannot rot.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
device=cuda
bundles="$here/bundles"
for arg in "$@"; do
  case "$arg" in
    --device=*) device=${arg#--device=} ;;
    --bundles=*) bundles=${arg#--bundles=} ;;
    *) echo "check.sh: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done
case "$device" in cuda|emulator) ;; *) echo "check.sh: --device=cuda|emulator" >&2; exit 2 ;; esac
out=${OUT:-$here/out}
build=${LACE_GPU_BUILD_DIR:-$root/build-gpu-check}
mkdir -p "$out"
[ -d "$bundles/correctness" ] || { echo "check.sh: no bundles in $bundles (run bench/gpu/prepare.sh on a build machine)" >&2; exit 1; }

start=$(date +%s)
echo "== lace device check: $device, commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
generator=()
command -v ninja > /dev/null && generator=(-G Ninja)
if ! cmake -S "$root" -B "$build" "${generator[@]}" -DLACE_RUNTIME_ONLY=ON \
       -DLACE_BUILD_TESTS=OFF > "$out/configure.log" 2>&1 ||
   ! cmake --build "$build" --target lace-gpu-check lace-runtime-bench \
       -j "$(nproc)" > "$out/build.log" 2>&1; then
  echo "check.sh: building the runtime failed; see $out/configure.log and $out/build.log" >&2
  tail -20 "$out/build.log" >&2
  exit 1
fi
echo "== built the runtime in $(( $(date +%s) - start )) s"

export LACE_CACHE_DIR="$build/kernel-cache"
"$build/bin/lace-gpu-check" --device "$device" --out "$out" \
  --correctness "$bundles/correctness" --timing "$bundles/timing" \
  --dump "$build/dump" > "$out/lace.txt" 2>&1
status=$?
cat "$out/lace.txt"

# Kernel load latency (cold compile, disk hit with the module load, memory
# hit) on the first timing bundle.
timing_bundles=("$bundles"/timing/*.lacebundle)
first=${timing_bundles[0]}
if [ -f "$first" ]; then
  "$build/bin/lace-runtime-bench" --bundle "$first" --device "$device" \
    > "$out/load.txt" 2>&1 || echo "check.sh: lace-runtime-bench failed (see $out/load.txt)"
fi

# On the emulator this only proves the script still runs: without CUDA it
# reports itself skipped.
if command -v python3 > /dev/null; then
  python3 "$here/torch_baselines.py" --out "$out" --dump "$build/dump" \
    > "$out/torch.txt" 2>&1 || echo "check.sh: torch_baselines.py failed (see $out/torch.txt)"
fi

echo
echo "== summary ($device, $(( $(date +%s) - start )) s)"
grep '^correctness:' "$out/lace.txt"
sed -n '/^timing /,$p' "$out/lace.txt"
[ -f "$out/load.txt" ] && cat "$out/load.txt"
[ -f "$out/torch.txt" ] && cat "$out/torch.txt"
exit $status
