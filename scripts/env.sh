#!/usr/bin/env bash
# Create (or refresh) the project's virtual environment in .venv, then print its python.
# Used by scripts/lab.sh and scripts/test.sh; safe to run again (it skips what is done).
#
# torch is installed first, pinned through constraints.txt (torch==2.13.0); asking pip for
# an open torch range would pull the newest release instead. On Linux, PyPI's torch wheel
# is the CUDA build (several GB): set TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# to take the CPU build from PyTorch's own index. For a GPU, see "Using a GPU" in README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${WORKBENCH_VENV:-.venv}"
EXTRAS="${1:-test}"

if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "error: $PYTHON not found. Install Python 3.10 or newer, or set PYTHON=/path/to/python3." >&2
  exit 1
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
  echo "error: Python 3.10 or newer is needed; $PYTHON is $("$PYTHON" --version 2>&1)." >&2
  exit 1
fi

stamp_of() { cat pyproject.toml constraints.txt | sha256sum | cut -c1-16; echo "$EXTRAS"; }
STAMP="$VENV/.workbench-installed"

if [ ! -x "$VENV/bin/python" ]; then
  echo "Creating the virtual environment in $VENV ..." >&2
  "$PYTHON" -m venv "$VENV"
fi
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$(stamp_of)" ]; then
  echo "Installing the workbench and its dependencies (about a minute) ..." >&2
  "$VENV/bin/python" -m pip install --quiet --upgrade pip >&2
  "$VENV/bin/python" -m pip install --quiet -c constraints.txt \
    ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} "torch==2.13.0" >&2
  "$VENV/bin/python" -m pip install --quiet -c constraints.txt -e ".[$EXTRAS]" >&2
  # Keep JupyterLab's "news" pop-up from covering the first notebook a learner opens.
  settings="$VENV/share/jupyter/lab/settings"
  mkdir -p "$settings"
  echo '{"@jupyterlab/apputils-extension:notification": {"fetchNews": "false"}}' \
    > "$settings/overrides.json"
  # Compile DCI's fast-mode loops once now (numba caches them), not in a learner's notebook.
  "$VENV/bin/python" -c "from workbench.metrics.dci import compile_fast_mode; compile_fast_mode()" >&2 \
    || echo "warning: compiling DCI's fast mode failed; it will compile on first use." >&2
  stamp_of > "$STAMP"
fi
echo "$VENV/bin/python"
