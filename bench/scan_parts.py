"""Parts of a scan as bare WSGI routes, to price each part under gunicorn.

    SCAN_PART=signature gunicorn -c gunicorn.conf.py bench.scan_parts:app
    SCAN_PART=read      gunicorn -c gunicorn.conf.py bench.scan_parts:app

``signature``: the code's signature checked with the service's key ring (no database).
``read``: everything a scan does before it is recorded (signature, batch, one read of the
label's live state, the verdict and its wording), without the misuse signals and without
recording the scan. Both answer ``GET /parts?code=...`` with JSON from the service's own
application, in an application context like the scan API; ``bench_scan.py --parts`` serves
them beside the verify API and the bare route, so that the ratios show what each part costs.
"""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

import wsgi
from verify_service import clock
from verify_service.services import keys, verification

PART = os.environ.get("SCAN_PART", "signature")
if PART not in ("signature", "read"):
    raise SystemExit(f"SCAN_PART must be signature or read, not {PART!r}")
service = wsgi.app


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
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
