"""Rate limits (flask-limiter) with counters every process shares.

With ``REDIS_URL`` the counters live in Redis; otherwise in the service's own database
(table ``rate_limit_counters``), so limits hold across gunicorn workers and hosts either way.
Clients are keyed by a keyed hash of their address: no raw address is stored.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import random
import time
from typing import Any, Callable

from flask import Flask, current_app, request
from flask_limiter import Limiter
from limits.storage import Storage
from sqlalchemy import delete, select, text
from sqlalchemy.pool import NullPool

from verify_service.models import RateLimitCounter


def client_key() -> str:
    secret = str(current_app.config.get("SECRET_KEY") or "rate-limit").encode()
    digest = hmac.new(secret, (request.remote_addr or "unknown").encode(), hashlib.sha256).hexdigest()
    return digest[:24]


limiter = Limiter(key_func=client_key, default_limits=[], headers_enabled=True)


class DatabaseStorage(Storage):
    """A ``limits`` storage on the service's SQL database (fixed windows)."""

    STORAGE_SCHEME = ["labelsdb"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        from verify_service.db import make_engine

        # No pool: only the few rate-limited routes use it, and an app (or a test) that goes
        # away must not leave connections open.
        self.engine = make_engine(str(options["database_url"]), poolclass=NullPool)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return Exception

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with self.engine.begin() as conn:
            count = conn.execute(text(
                "INSERT INTO rate_limit_counters (key, count, expires_at) VALUES (:k, :n, :exp) "
                "ON CONFLICT (key) DO UPDATE SET "
                "count = CASE WHEN rate_limit_counters.expires_at <= :now THEN :n ELSE rate_limit_counters.count + :n END, "
                "expires_at = CASE WHEN rate_limit_counters.expires_at <= :now THEN :exp ELSE rate_limit_counters.expires_at END "
                "RETURNING count"), {"k": key[:200], "n": amount, "exp": now + expiry, "now": now}).scalar_one()
            if random.random() < 0.01:  # tidy expired windows now and then
                conn.execute(delete(RateLimitCounter).where(RateLimitCounter.expires_at < now))
        return int(count)

    def get(self, key: str) -> int:
        with self.engine.connect() as conn:
            row = conn.execute(select(RateLimitCounter.count, RateLimitCounter.expires_at)
                               .where(RateLimitCounter.key == key[:200])).first()
        return int(row[0]) if row and row[1] > time.time() else 0

    def get_expiry(self, key: str) -> float:
        with self.engine.connect() as conn:
            expires = conn.execute(select(RateLimitCounter.expires_at).where(RateLimitCounter.key == key[:200])).scalar()
        return float(expires) if expires and expires > time.time() else time.time()

    def check(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - a health check answers, it does not raise
            return False

    def reset(self) -> int | None:
        with self.engine.begin() as conn:
            return int(conn.execute(delete(RateLimitCounter)).rowcount or 0)

    def clear(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(RateLimitCounter).where(RateLimitCounter.key == key[:200]))


def init_app(app: Flask) -> None:
    if app.config["REDIS_URL"]:
        app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"])
    else:
        app.config.setdefault("RATELIMIT_STORAGE_URI", "labelsdb://")
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"database_url": app.config["DATABASE_URL"]})
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "labels")
    limiter.init_app(app)
    if limits_every_route(app):
        return  # the extension's hooks stay as they are
    # Every limit of this service is declared on its route, and the route's decorator checks
    # it.  The extension's hooks around every request would find nothing to do on all the
    # other routes, the scan routes among them; run them only where a limit is declared.
    app.before_request_funcs[None].remove(limiter._check_request_limit)
    for hooks in (app.after_request_funcs[None], app.teardown_request_funcs[None]):
        hooks[:] = [_only_on_limited_routes(h) if _is_limiter_hook(h) else h for h in hooks]


def limits_every_route(app: Flask) -> bool:
    """Whether limits are configured for every route (not only those that declare one)."""
    return any(app.config.get(k) for k in ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META"))


def _is_limiter_hook(hook: Callable[..., Any]) -> bool:
    target = getattr(hook, "__wrapped__", hook)
    if isinstance(target, functools.partial):  # the after-request hook: partial(method, limiter)
        return bool(target.args) and target.args[0] is limiter
    return getattr(target, "__self__", None) is limiter


def _only_on_limited_routes(hook: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(hook)
    def run_if_limited(arg: Any) -> Any:
        if request.endpoint is None or request.endpoint not in _limited_endpoints(current_app):
            return arg  # an after-request hook passes the response on; a teardown's return is ignored
        return hook(arg)

    return run_if_limited


def _limited_endpoints(app: Flask) -> frozenset[str]:
    """Endpoints whose view carries a limit decorator (computed once routes are registered)."""
    found = app.extensions.get("limited_endpoints")
    if found is None:
        found = app.extensions["limited_endpoints"] = frozenset(
            name for name, view in app.view_functions.items()
            # the decorator marks its wrapper with a weak proxy of the limiter
            if getattr(view, "__wrapper-limiter-instance", None) == limiter)
    return found
