"""``GET /api/v1/verify`` answered in front of Flask: the scan API is the service's hot path.

Flask's request handling (request context, URL matching, before/after hooks, the response
object) costs several times a bare route's work, and the verdict API runs it for every scan.
This WSGI middleware answers exactly that route and method itself and hands every other
request to Flask unchanged. It does what the Flask route and its hooks do for this route:

- the same view code (``api.public.verdict_for_query``), with the query parsed by werkzeug
  as Flask parses it, the client address as ProxyFix left it (ProxyFix wraps this);
- an application context, so the unit of work and its session are the same; the commit point
  of ``create_app`` (commit on success, roll back on an error) and the session's teardown;
- the error mapping of ``errors`` for ``/api`` (JSON, no trace) and the request metrics;
- the JSON encoding of the app's provider (compact, non-ASCII kept, a final newline).

The route is public and declares no rate limit, so the access and limiter hooks have
nothing to do for it. When limits apply to every route (``RATELIMIT_DEFAULT`` and the like)
``create_app`` does not install this path. A hook added to Flask later does not run here:
what it must do for the scan API belongs in ``verdict_for_query`` or in this module.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Iterable

from flask import Flask
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request

from verify_service import db, metrics
from verify_service.api.public import verdict_for_query
from verify_service.errors import INTERNAL_ERROR, ServiceError, error_body

log = logging.getLogger(__name__)

PATH = "/api/v1/verify"
#: The Flask endpoint of the same route: metrics count both under one name.
ENDPOINT = "public.verify_api"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class FastVerify:
    """WSGI middleware: answers ``GET /api/v1/verify``, passes everything else to ``wsgi_app``."""

    def __init__(self, app: Flask, wsgi_app: WSGIApp) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "GET":
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        status, body = self.answer(Request(environ))
        payload = self.encode(body)
        metrics.observe("GET", ENDPOINT, status, started)
        start_response(f"{status} {HTTP_STATUS_CODES[status]}",
                       [("Content-Type", self.app.json.mimetype), ("Content-Length", str(len(payload)))])  # type: ignore[attr-defined]
        return [payload]

    def encode(self, body: dict[str, Any]) -> bytes:
        """``body`` as the app's JSON provider writes a response (``DefaultJSONProvider.response``)."""
        provider: Any = self.app.json
        compact = not ((provider.compact is None and self.app.debug) or provider.compact is False)
        text = provider.dumps(body, separators=(",", ":")) if compact else provider.dumps(body, indent=2)
        return (text + "\n").encode()

    def answer(self, request: Request) -> tuple[int, dict[str, Any]]:
        with self.app.app_context():
            try:
                body = verdict_for_query(request.args, request.remote_addr, request.headers.get("User-Agent"),
                                         request.headers.get("Accept-Language"))
                db.commit()
                return 200, body
            except ServiceError as exc:
                db.rollback()
                return exc.status, error_body(exc.code, exc.message, exc.details)
            except Exception:  # noqa: BLE001 - logged with its trace for operators, never shown
                db.rollback()
                log.exception("unhandled error on GET %s", PATH)
                return 500, error_body(*INTERNAL_ERROR)
