#!/usr/bin/env bash
# Installs Lace's build and test dependencies from Debian's packages.
# Idempotent: packages already present are not touched, and `apt-get update`
# runs at most once, only when something is missing.
set -euo pipefail

packages=(
  cmake ninja-build ccache g++ python3
  llvm-19-dev llvm-19-tools libmlir-19-dev mlir-19-tools
  clang-19 libclang-rt-19-dev
  libgtest-dev
  # The Python package, built and tested against Debian's /usr/bin/python3.
  python3-dev pybind11-dev python3-numpy python3-pytest python3-torch
)

missing=()
for pkg in "${packages[@]}"; do
  if [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null) != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]})); then
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  echo "install-deps: installing ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "install-deps: all Debian packages present"
fi

cuda_root=${CUDAToolkit_ROOT:-/usr/local/cuda}
if [[ -f "$cuda_root/include/nvrtc.h" ]]; then
  echo "install-deps: CUDA toolkit found at $cuda_root (NVRTC features on)"
else
  echo "install-deps: no CUDA toolkit at $cuda_root; Lace builds without NVRTC features"
fi
