#!/usr/bin/env bash
# Install everything the runtime and its tests need on a fresh Debian/Ubuntu machine:
# Mesa's EGL (headless OpenGL without a GPU or display), xvfb, CPU torch, then this package,
# all Python parts into a virtual environment (.venv in the repository), because Debian's and
# Ubuntu's own python3 is "externally managed" and refuses `pip install` into itself.
#
# Afterwards: .venv/bin/installation ..., .venv/bin/python -m pytest, or `source .venv/bin/activate`.
#
# Settings (environment variables):
#   PYTHON=/usr/bin/python3   interpreter the venv is made from (default: python3 on PATH)
#   VENV=.venv                where the venv goes
#   EXTRAS=test,dev           extras of this package to install (e.g. EXTRAS=test,midi,ndi)
#   SKIP_TORCH=1              leave torch alone (a GPU host installs its CUDA torch into the venv first)
#   TORCH_INDEX_URL=URL       where torch comes from, e.g. https://download.pytorch.org/whl/cpu on a
#                             machine without a local CPU wheel (plain PyPI torch is a multi-GB CUDA build)
#   SKIP_APT=1                never call apt-get (fails with one line if a system part is missing)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "setup: $*"; }
die() { echo "setup: error: $*" >&2; exit 1; }

PY=${PYTHON:-python3}
VENV=${VENV:-.venv}
EXTRAS=${EXTRAS:-test,dev}
command -v "$PY" >/dev/null 2>&1 || die "no Python interpreter '$PY' (set PYTHON=/path/to/python3)"
PYVER=$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')

# --- system packages (Debian/Ubuntu) --------------------------------------------------------
# libegl1 + Mesa drivers: EGL contexts on llvmpipe; libgl1: libGL for moderngl; xvfb: a virtual
# display for the window tests; chromium + chromium-driver: the web page test drives a real
# headless browser; python3.X-venv: Debian ships venv/ensurepip separately.
APT_PACKAGES=(libegl1 libegl-mesa0 libgl1-mesa-dri libgl1 libgles2 xvfb chromium chromium-driver)
if [ ! -x "$VENV/bin/python" ] && ! "$PY" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    APT_PACKAGES+=("python${PYVER}-venv")
fi

if command -v dpkg-query >/dev/null 2>&1; then
    missing=()
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        say "system packages present (${APT_PACKAGES[*]}): skipping apt-get"
    else
        if [ -n "${SKIP_APT:-}" ]; then
            die "missing system packages: ${missing[*]} (SKIP_APT is set; as root run: apt-get install ${missing[*]})"
        elif [ "$(id -u)" -eq 0 ]; then
            SUDO=()
        elif command -v sudo >/dev/null 2>&1; then
            SUDO=(sudo)
        else
            die "missing system packages: ${missing[*]}; not root and no sudo: as root run: apt-get install -y ${missing[*]}"
        fi
        say "installing system packages: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        "${SUDO[@]}" apt-get update -qq
        "${SUDO[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
else
    say "no dpkg (not Debian/Ubuntu): skipping system packages; install Mesa EGL (libEGL, llvmpipe) and xvfb yourself"
fi

# --- the virtual environment ----------------------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
    say "creating virtual environment $VENV from $PY (Python $PYVER)"
    "$PY" -m venv "$VENV" || die "could not create $VENV with '$PY -m venv' (on Debian/Ubuntu: apt-get install python${PYVER}-venv)"
else
    say "using existing virtual environment $VENV ($("$VENV/bin/python" -V 2>&1))"
fi
VPY="$VENV/bin/python"
PIP=("$VPY" -m pip install -q --disable-pip-version-check)

if [ -z "${SKIP_TORCH:-}" ]; then
    # The CPU build. Pinned exactly: with no torch present, a bare `torch` or an open range pulls a
    # multi-GB CUDA build from PyPI. pip's own configuration (find-links, constraints) applies in the
    # venv as everywhere, so a local CPU wheel is found the same way as for the system pip.
    if [ -n "${TORCH_INDEX_URL:-}" ]; then
        "${PIP[@]}" --index-url "$TORCH_INDEX_URL" torch==2.13.0
    else
        "${PIP[@]}" torch==2.13.0
    fi
fi
say "installing this package (editable) with extras [$EXTRAS]"
"${PIP[@]}" -e ".[${EXTRAS}]"

"$VPY" - <<'EOF'
import sys, torch
build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "CPU"
print(f"setup: done: {sys.prefix} (Python {sys.version.split()[0]}, torch {torch.__version__}, {build} build)")
EOF
say "run: $VENV/bin/installation --help   or   source $VENV/bin/activate"
