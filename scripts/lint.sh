#!/usr/bin/env bash
# Lint, format check and type check, exactly as CI runs them (.ci/run). The tools come from the
# project's virtual environment (scripts/setup.sh installs the `dev` extra there); configuration
# lives in pyproject.toml ([tool.ruff], [tool.mypy]). Runs all three and fails if any failed.
#   bash scripts/lint.sh          check
#   bash scripts/lint.sh --fix    apply ruff's safe fixes and format first, then check
set -uo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
BIN="$VENV/bin"
for tool in ruff mypy; do
    if [ ! -x "$BIN/$tool" ]; then
        echo "lint: $BIN/$tool not found: run scripts/setup.sh (it installs the [dev] extra into $VENV)" >&2
        exit 2
    fi
done
PATHS=(installation plugins)

if [ "${1:-}" = "--fix" ]; then
    "$BIN/ruff" check --fix "${PATHS[@]}"
    "$BIN/ruff" format "${PATHS[@]}"
fi

failed=()
echo "lint: ruff check ${PATHS[*]}"
"$BIN/ruff" check "${PATHS[@]}" || failed+=("ruff check")
echo "lint: ruff format --check ${PATHS[*]}"
"$BIN/ruff" format --check "${PATHS[@]}" || failed+=("ruff format")
echo "lint: mypy (files from [tool.mypy] in pyproject.toml)"
"$BIN/mypy" || failed+=("mypy")

if [ ${#failed[@]} -gt 0 ]; then
    echo "lint: failed: ${failed[*]}" >&2
    exit 1
fi
echo "lint: ok"
