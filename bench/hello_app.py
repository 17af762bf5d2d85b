"""The baseline for the scan benchmark: a bare Flask JSON route.

    gunicorn -c gunicorn.conf.py bench.hello_app:app

Served under the same gunicorn configuration as the service, so the ratio of the two
throughputs measures the cost of verification itself, not of Flask or gunicorn.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request

app = Flask(__name__)


@app.get("/hello")
def hello() -> Any:
    # Echo the query like the verify route reads it, so both parse the same request.
    return {"hello": "world", "code": request.args.get("code")}
