#!/usr/bin/env bash
# Idempotent development setup: system packages (apt, when missing), the project
# venv in ./venv with pinned dependencies, and an editable build of tpcml.
# Fast the second time: nothing is reinstalled unless requirements changed, and
# the C++ build is incremental (build/<wheel tag>).
#
# The venv is called "venv", not ".venv": cling's library search skips path
# components starting with "." (root-project/root#9697), which breaks
# R__LOAD_LIBRARY(libtpcml) in macros.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT_DIR=$PWD
VENV=${TPCML_VENV:-$ROOT_DIR/venv}
PY=${PYTHON:-python3}
log() { printf '[setup] %s\n' "$*" >&2; }

# --- system packages: the compiler and GoogleTest (the C++ tests) from Debian; CMake/Ninja
# come from pip; toml++ is vendored (third_party/tomlplusplus; a system copy is used if found)
need_apt=()
for pkg in g++ libgtest-dev libgmock-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
done
if ((${#need_apt[@]})); then
  log "installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# --- venv with pinned requirements (reinstalled only when requirements change)
if [ ! -x "$VENV/bin/python" ]; then
  log "creating venv $VENV"
  "$PY" -m venv "$VENV"
fi
stamp="$VENV/.tpcml-requirements.sha"
want=$(sha256sum requirements/dev.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "installing Python requirements (requirements/dev.txt)"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r requirements/dev.txt
  echo "$want" > "$stamp"
fi

# --- editable build of tpcml (incremental C++ build in build/<wheel tag>, pyproject.toml's
# editable override), with the C++ tests (BUILD_TESTING is OFF for wheels) for scripts/test.sh
log "building tpcml (editable, incremental)"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-build-isolation --no-deps \
  -Ccmake.define.TPCML_WERROR=ON -Ccmake.define.BUILD_TESTING=ON -e .
log "ready: $VENV"
