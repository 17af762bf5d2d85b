"""Parts of a scan as bare WSGI routes, to price each part under gunicorn.

    SCAN_PART=signature gunicorn -c gunicorn.conf.py bench.scan_parts:app
    SCAN_PART=read      gunicorn -c gunicorn.conf.py bench.scan_parts:app
    SCAN_PART=unrecorded gunicorn -c gunicorn.conf.py bench.scan_parts:app

``signature``: the code's signature checked with the service's key ring (no database).
``read``: everything a scan does before it is recorded (signature, batch, one read of the
label's live state, the verdict and its wording), without the misuse signals and without
recording the scan. ``unrecorded``: the whole scan API as ``verify_service.fast_verify``
answers it (request parsing, client, signals, verdict, metrics, the app's JSON), except that
the scan is not recorded: what the scan costs apart from its write. Each answers
``GET /parts?code=...`` with JSON from the service's own application, in an application
context like the scan API; ``bench_scan.py --parts`` serves
them beside the verify API and the bare route, so that the ratios show what each part costs.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

import wsgi
from werkzeug.wrappers import Request

from verify_service import clock, db, metrics
from verify_service.api.public import verdict_for_query
from verify_service.fast_verify import ENDPOINT, FastVerify
from verify_service.services import keys, verification

PART = os.environ.get("SCAN_PART", "signature")
if PART not in ("signature", "read", "unrecorded"):
    raise SystemExit(f"SCAN_PART must be signature, read or unrecorded, not {PART!r}")
service = wsgi.app
encoder = FastVerify(service, service.wsgi_app)


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if PART == "unrecorded":
        return unrecorded(environ, start_response)
    code = parse_qs(environ.get("QUERY_STRING", "")).get("code", [""])[0]
    with service.app_context():
        if PART == "signature":
            body: dict[str, Any] = {"serial": keys.verifying_ring().verify(code, clock.now()).serial}
        else:
            # the verdict before signals and recording (a private step of verify_code)
            body = verification._evaluate(code, clock.now(), "zh").to_json()
    payload = json.dumps(body, ensure_ascii=False).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]


def unrecorded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """``FastVerify.__call__`` for a scan that goes well, the scan's recording left out."""
    started = time.perf_counter()
    request = Request(environ)
    with service.app_context():
        body = verdict_for_query(request.args, request.remote_addr, request.headers.get("User-Agent"),
                                 request.headers.get("Accept-Language"), record=False)
        db.commit()
    payload = encoder.encode(body)
    metrics.observe("GET", ENDPOINT, 200, started)
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]
