#!/usr/bin/env bash
# Set up the environment if needed, then run the whole test suite: unit tests, doctests,
# every notebook executed top to bottom, and the real-browser tests.
# Extra arguments go to pytest (e.g. -k metrics, or -m "not browser").
# Browser tests need Debian's chromium (`apt-get install chromium`); without it they are
# skipped with a message, unless WORKBENCH_REQUIRE_BROWSER=1 (as in CI) makes that a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="$(bash scripts/env.sh test)"
exec "$PY" -m pytest -n "${WORKBENCH_TEST_WORKERS:-2}" --dist loadgroup "$@"
