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
