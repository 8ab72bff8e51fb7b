#!/usr/bin/env bash
# Set up the environment if needed, then open the curriculum in JupyterLab.
# Extra arguments go to `jupyter lab` (e.g. --port 9999 --no-browser).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="$(bash scripts/env.sh test)"
extra=()
[ "$(id -u)" = "0" ] && extra+=(--allow-root)   # Jupyter refuses to run as root without it
# Serve the whole repository (as Binder does), not only notebooks/: apps/ and its Voila pages
# (/voila/render/apps/<app>.ipynb) must be reachable from the same server.
exec "$PY" -m jupyterlab --ip=127.0.0.1 --ServerApp.root_dir=. "${extra[@]}" "$@" notebooks/00_start_here.ipynb
