#!/usr/bin/env bash
# Lint, format check and type check, exactly as CI runs them (.ci/run). Runs all three and fails
# if any failed.
#   bash scripts/lint.sh          check
#   bash scripts/lint.sh --fix    apply ruff's safe fixes and format first (LINT_PATHS only), then check
#
# What is checked: LINT_PATHS below: all of the runtime package and the plugins. ruff and mypy
# both get it on the command line, so pyproject.toml keeps only how to check ([tool.ruff],
# [tool.mypy]), not what. mypy runs with --follow-imports=silent (third-party packages without
# types are analysed, their own errors not reported). A new package under installation/ or
# plugins/ is checked from its first commit; never narrow the list to get a red run green.
#
# The tools: .venv/bin/ruff and .venv/bin/mypy when present (CI: scripts/setup.sh installs the
# `dev` extra into .venv), else ruff and mypy on PATH.
set -uo pipefail
cd "$(dirname "$0")/.."

LINT_PATHS=(
    installation
    plugins
)

VENV=${VENV:-.venv}
tool() {  # the path of tool $1: the venv's, else the one on PATH
    if [ -x "$VENV/bin/$1" ]; then
        echo "$VENV/bin/$1"
    elif command -v "$1" >/dev/null 2>&1; then
        command -v "$1"
    else
        echo "lint: $1 not found in $VENV/bin or on PATH: run scripts/setup.sh (it installs the [dev] extra" \
             "into $VENV) or pip install the [dev] extra" >&2
        return 1
    fi
}
RUFF=$(tool ruff) || exit 2
MYPY=$(tool mypy) || exit 2
for p in "${LINT_PATHS[@]}"; do
    if [ ! -e "$p" ]; then
        echo "lint: $p (in LINT_PATHS) does not exist: update the list in scripts/lint.sh" >&2
        exit 2
    fi
done

if [ "${1:-}" = "--fix" ]; then
    "$RUFF" check --fix "${LINT_PATHS[@]}"
    "$RUFF" format "${LINT_PATHS[@]}"
fi

failed=()
echo "lint: $("$RUFF" --version), $("$MYPY" --version); ${#LINT_PATHS[@]} paths (LINT_PATHS in scripts/lint.sh)"
echo "lint: ruff check"
"$RUFF" check "${LINT_PATHS[@]}" || failed+=("ruff check")
echo "lint: ruff format --check"
"$RUFF" format --check "${LINT_PATHS[@]}" || failed+=("ruff format")
echo "lint: mypy"
"$MYPY" --follow-imports=silent "${LINT_PATHS[@]}" || failed+=("mypy")

if [ ${#failed[@]} -gt 0 ]; then
    echo "lint: failed: ${failed[*]}" >&2
    exit 1
fi
echo "lint: ok"
