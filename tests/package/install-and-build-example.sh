#!/bin/bash
# Installs the build into a scratch prefix, builds examples/host_app against
# the installed package with find_package(Lace) and runs both programs on
# the emulator.  usage: install-and-build-example.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -euo pipefail
build=$1 source=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
trap 'echo "install-and-build-example.sh: failed at line $LINENO"; tail -n 15 "$work"/*.log 2>/dev/null' ERR
cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
cmake -S "$source/examples/host_app" -B "$work/app" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" > "$work/configure.log"
cmake --build "$work/app" > "$work/build.log"
export LACE_DEVICE=emulator LACE_CACHE_DIR="$work/cache"
"$work/app/host_app"
"$work/app/host_app_c"
# The app must use the installed library, not the build tree's.  ldd's
# output is read whole first: `ldd | grep -q` under pipefail fails at random
# when grep exits early and the loader, still writing, gets SIGPIPE.
libraries=$(ldd "$work/app/host_app")
grep -qF "$work/prefix/lib/liblace.so" <<<"$libraries" ||
  { echo "host_app is not linked against the installed liblace:";
    echo "$libraries"; exit 1; }
# The runtime-only library stands alone: nothing of Lace left undefined
# (the layout library once was, which only a runtime-only app would see).
undefined=$(nm -DC --undefined-only "$work/prefix/lib/liblace_runtime.so")
if grep -q "lace::" <<<"$undefined"; then
  echo "liblace_runtime.so leaves Lace symbols undefined:"
  grep "lace::" <<<"$undefined"; exit 1
fi
# The Python package, from the prefix alone (the build tree out of sight):
# it finds the installed liblace and the installed pattern library.
if [[ -n ${LACE_PYTHON:-} ]]; then
  site=$(find "$work/prefix" -type d -name site-packages | head -n 1)
  (cd "$work" && PYTHONPATH="$site" "$LACE_PYTHON" - "$work/prefix" <<'PY'
import sys
import lace
prefix = sys.argv[1]
assert lace.__file__.startswith(prefix), lace.__file__
assert lace.PATTERNS_DIR.startswith(prefix), lace.PATTERNS_DIR
plan = lace.Pattern.library("causal").plan(64, head_dim=64)
print("python: installed lace plans", plan)
PY
  )
  # Its RUNPATH is relative ($ORIGIN/../../..): compare resolved paths.
  libraries=$(ldd "$site/lace/"_lace*.so)
  liblace=$(awk '$1 ~ /^liblace\.so/ { print $3 }' <<<"$libraries")
  [[ -n $liblace && $(realpath "$liblace") == "$(realpath "$work/prefix/lib")"/liblace.so* ]] ||
    { echo "lace._lace is not linked against the installed liblace:";
      echo "$libraries"; exit 1; }
fi
