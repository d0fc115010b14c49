#!/usr/bin/env bash
# Install everything the runtime and its tests need on a fresh Debian/Ubuntu machine:
# Mesa's EGL (headless OpenGL without a GPU or display), CPU torch, then this package.
# On a GPU host, install the CUDA build of torch instead of the CPU one before running this
# with SKIP_TORCH=1.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    # libegl1 + Mesa drivers: EGL contexts on llvmpipe; libgl1: libGL for moderngl; xvfb: optional virtual display
    $SUDO apt-get install -y -qq libegl1 libegl-mesa0 libgl1-mesa-dri libgl1 libgles2 xvfb >/dev/null
fi

PY=${PYTHON:-python3}
if [ -z "${SKIP_TORCH:-}" ]; then
    # the CPU build; a bare `pip install torch` would pull a multi-GB CUDA build
    $PY -m pip install -q torch==2.13.0
fi
$PY -m pip install -q -e ".[test]"
