#!/usr/bin/env bash
# Runs every test: lint, the C++ unit tests (GoogleTest through CTest, in the
# editable build tree), then pytest (Python API, CLI, batch executables, ROOT
# macros and PyROOT scripts, downstream find_package). Exit non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${TPCML_VENV:-$PWD/venv}
export PATH="$VENV/bin:$PATH"
BUILD=$(ls -d build/cp3*-*/ 2>/dev/null | head -1)

echo "== lint (ruff, clang-format)"
ruff check python tests macros bench tools
ruff format --check python tests macros bench tools
clang-format --dry-run -Werror $(git ls-files '*.h' '*.cxx' '*.cpp' '*.C' 2>/dev/null || find include src tests macros -name '*.[hC]*')

echo "== C++ unit tests (ctest in $BUILD)"
TPCML_DATA_DIR=$PWD/data ctest --test-dir "$BUILD" --output-on-failure -j2

echo "== Python tests (pytest)"
python -m pytest "$@"
