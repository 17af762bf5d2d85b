#!/bin/sh
# Install what the tests need and run the whole suite (SQLite by default; set
# TEST_DATABASE_URL=postgresql+psycopg://… to run it on PostgreSQL).  Extra arguments go to pytest.
set -eu
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
# Browser tests drive Debian's chromium; install it (and CJK fonts) where we can.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk >/dev/null) || echo "could not install chromium: browser tests will be skipped"
fi
.venv/bin/lint-imports
exec .venv/bin/python -m pytest "$@"
