#!/usr/bin/env bash
# Create (or refresh) the project's virtual environment in .venv, then print its python.
# Used by scripts/lab.sh and scripts/test.sh; safe to run again (it skips what is done).
#
# Which build of torch goes in is the one switch WORKBENCH_TORCH (README, "Using a GPU"):
#   unset    pip's configured index (PyPI). On Linux x86_64 PyPI's torch wheel is a CUDA
#            build (several GB, works on CPU too); on macOS and Windows it is the CPU build.
#   cpu      the CPU build, from https://download.pytorch.org/whl/cpu (about 750 MB).
#   cuNNN    the CUDA N.NN build, e.g. cu128, from https://download.pytorch.org/whl/cuNNN.
#   https:// any other index holding torch wheels (a mirror).
# The version always comes from constraints.txt (torch==X); `==X` also matches the
# builds X+cpu and X+cuNNN, so the pin fixes the version and the index picks the build.
# Changing WORKBENCH_TORCH on an existing .venv replaces its torch.
# WORKBENCH_ENV_PLAN=1 prints the pip commands this would run, and changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${WORKBENCH_VENV:-.venv}"
EXTRAS="${1:-test}"
PLAN="${WORKBENCH_ENV_PLAN:-}"

if [ -n "${TORCH_INDEX_URL:-}" ] && [ -z "${WORKBENCH_TORCH:-}" ]; then
  echo "note: TORCH_INDEX_URL is now spelled WORKBENCH_TORCH (cpu, cuNNN or an index URL)." >&2
  WORKBENCH_TORCH="$TORCH_INDEX_URL"
fi
CHOICE="${WORKBENCH_TORCH:-}"
case "$CHOICE" in
  "") INDEX="" ;;
  cpu | cu[0-9][0-9]*) INDEX="https://download.pytorch.org/whl/$CHOICE" ;;
  http://* | https://* | file://*) INDEX="$CHOICE" ;;
  *) echo "error: WORKBENCH_TORCH=$CHOICE is not understood. Use cpu, a CUDA tag such as" \
          "cu128 (see https://pytorch.org/get-started/locally/), an index URL, or leave it" \
          "unset for pip's default index." >&2
     exit 2 ;;
esac
TORCH_PIN="$(grep -E '^torch==' constraints.txt | head -n1 | tr -d '[:space:]')"
if [ -z "$TORCH_PIN" ]; then
  echo "error: constraints.txt has no torch==VERSION line." >&2
  exit 1
fi
TORCH_INSTALL=(-m pip install --quiet -c constraints.txt ${INDEX:+--index-url "$INDEX"} "$TORCH_PIN")
PACKAGE_INSTALL=(-m pip install --quiet -c constraints.txt -e ".[$EXTRAS]")

if [ -n "$PLAN" ]; then
  printf 'torch:'; printf ' %q' "${TORCH_INSTALL[@]}"; echo
  printf 'package:'; printf ' %q' "${PACKAGE_INSTALL[@]}"; echo
  exit 0
fi

if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "error: $PYTHON not found. Install Python 3.10 or newer, or set PYTHON=/path/to/python3." >&2
  exit 1
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
  echo "error: Python 3.10 or newer is needed; $PYTHON is $("$PYTHON" --version 2>&1)." >&2
  exit 1
fi

stamp_of() { cat pyproject.toml constraints.txt | sha256sum | cut -c1-16; echo "$EXTRAS torch=$CHOICE"; }
STAMP="$VENV/.workbench-installed"
TORCH_STAMP="$VENV/.workbench-torch"

if [ ! -x "$VENV/bin/python" ]; then
  echo "Creating the virtual environment in $VENV ..." >&2
  "$PYTHON" -m venv "$VENV"
fi
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$(stamp_of)" ]; then
  echo "Installing the workbench and its dependencies (about a minute) ..." >&2
  "$VENV/bin/python" -m pip install --quiet --upgrade pip >&2
  if [ -f "$TORCH_STAMP" ] && [ "$(cat "$TORCH_STAMP")" != "torch=$CHOICE" ]; then
    echo "WORKBENCH_TORCH changed: replacing torch in $VENV ..." >&2
    "$VENV/bin/python" -m pip uninstall --quiet -y torch >&2
  fi
  "$VENV/bin/python" "${TORCH_INSTALL[@]}" >&2
  if [[ "$CHOICE" == cu* ]] && ! "$VENV/bin/python" -c \
      'import sys, torch; sys.exit(torch.version.cuda is None)'; then
    echo "error: WORKBENCH_TORCH=$CHOICE installed a torch without CUDA: $INDEX has no" \
         "$TORCH_PIN build for it. Pick another cuNNN from https://pytorch.org/get-started/locally/." >&2
    exit 1
  fi
  echo "torch=$CHOICE" > "$TORCH_STAMP"
  "$VENV/bin/python" "${PACKAGE_INSTALL[@]}" >&2
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
if command -v nvidia-smi >/dev/null 2>&1 && "$VENV/bin/python" -c \
    'import sys, torch; sys.exit(torch.version.cuda is not None)' 2>/dev/null; then
  echo "note: this machine has an NVIDIA GPU but $VENV holds a CPU-only torch; to use the GPU," \
       "run again with WORKBENCH_TORCH=cu128 (or the tag for your driver; README, 'Using a GPU')." >&2
fi
echo "$VENV/bin/python"
