#!/bin/sh
# Install, migrate a SQLite database, seed the demo data and serve it on localhost.
set -eu
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
# Demo-only secrets, used unless you set your own (never use these in production).
export LABEL_KEY_PASSPHRASE="${LABEL_KEY_PASSPHRASE:-demo passphrase - change me}"
export PIN_SECRET="${PIN_SECRET:-demo pin secret - change me}"
PORT="${PORT:-8000}"
export LABEL_BASE_URL="${LABEL_BASE_URL:-HTTP://127.0.0.1:$PORT/L/}"
FLASK=".venv/bin/flask --app wsgi"
$FLASK db upgrade
mkdir -p instance
$FLASK demo | tee instance/demo-tokens.txt
echo
echo "Serving the demo on http://127.0.0.1:$PORT/  (Ctrl-C to stop); open the sample label URLs above"
echo "  readiness:        http://127.0.0.1:$PORT/readyz"
echo "  API description:  http://127.0.0.1:$PORT/api/v1/openapi.json"
echo "  public keys:      http://127.0.0.1:$PORT/.well-known/label-keys.json"
echo "  metrics:          http://127.0.0.1:$PORT/metrics"
echo "  demo tokens:      instance/demo-tokens.txt (shown above)"
exec .venv/bin/gunicorn -c gunicorn.conf.py --bind "127.0.0.1:$PORT" wsgi:app
