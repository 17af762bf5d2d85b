"""Configuration: defaults, then the environment, then a test's overrides.

This is the only module that reads ``os.environ``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Mapping

def flag(raw: str) -> bool:
    """A yes/no setting: 1/true/yes/on or 0/false/no/off."""
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


#: Environment variables read as configuration (the first six names are fixed by the
#: public contract).  Each maps to the Flask config key of the same name.
ENV_KEYS: dict[str, Callable[[str], Any]] = {
    "DATABASE_URL": str,
    "LABEL_BASE_URL": str,
    "LABEL_KEY_PASSPHRASE": str,
    "REDIS_URL": str,
    "PLATFORM_URL": str,
    "PLATFORM_SECRET": str,
    "SECRET_KEY": str,
    "PIN_SECRET": str,
    "TRUSTED_PROXIES": int,
    "VERIFY_FAST_PATH": flag,
    "LABELS_PER_BATCH_MAX": int,
    "LABELS_PER_OUTPUT_UNIT": int,
    "DEFAULT_YEARLY_LABEL_CAP": int,
    "LOG_LEVEL": str,
    "CLONE_WINDOW_HOURS": float,
    "CLONE_PARTIES": int,
    "CLONE_SAME_PARTY_MINUTES": float,
    "CLONE_MAX_SPEED_KMH": float,
    "CLONE_MIN_TRAVEL_KM": float,
    "CLONE_THRESHOLD": float,
    "SHELF_LIFE_GRACE_DAYS": int,
    "PIN_MAX_FAILURES": int,
    "PIN_LOCK_MINUTES": int,
    "RATE_LIMIT_PIN": str,
    "RATE_LIMIT_REPORTS": str,
    "REPORT_PHOTO_MAX_BYTES": int,
    # Set by the gunicorn configuration so that every worker's metrics are aggregated.
    "PROMETHEUS_MULTIPROC_DIR": str,
    # Traceability push (see docs/traceability-push.md).
    "PUSH_BATCH_SIZE": int,
    "PUSH_MAX_ATTEMPTS": int,
    "PUSH_TIMEOUT_SECONDS": float,
    "PUSH_LEASE_SECONDS": float,
    "PUSH_POLL_SECONDS": float,
    "PUSH_BACKOFF_BASE_SECONDS": float,
    "PUSH_BACKOFF_MAX_SECONDS": float,
    "PUSH_EXPIRY_SWEEP_SECONDS": float,
    "PUSH_STALE_AFTER_SECONDS": float,
    # Offline verification (see docs/offline-bundle.md).
    "OFFLINE_BUNDLE_HOURS": float,
}


def defaults(instance_path: str) -> dict[str, Any]:
    """Safe defaults: an embedded SQLite database in the instance folder."""
    return {
        "DATABASE_URL": "sqlite:///" + str(Path(instance_path) / "labels.sqlite3"),
        "LABEL_BASE_URL": "HTTPS://GF.CN/L/",
        "LABEL_KEY_PASSPHRASE": "",
        "REDIS_URL": "",
        "PLATFORM_URL": "http://127.0.0.1:8930",
        "PLATFORM_SECRET": "",
        "SECRET_KEY": "",
        "PIN_SECRET": "",
        # Number of reverse proxies in front of the service whose X-Forwarded-For is trusted.
        "TRUSTED_PROXIES": 0,
        # Answer GET /api/v1/verify in front of Flask (verify_service/fast_verify.py).
        "VERIFY_FAST_PATH": True,
        "LABELS_PER_BATCH_MAX": 1_000_000,
        # Labels allowed per unit of approved yearly output (e.g. per tonne).
        "LABELS_PER_OUTPUT_UNIT": 2_000,
        # Yearly cap for a product without an approved output.
        "DEFAULT_YEARLY_LABEL_CAP": 100_000,
        "LOG_LEVEL": "INFO",
        # Clone and misuse signals (README, "Clone and misuse signals").
        "CLONE_WINDOW_HOURS": 48.0,
        "CLONE_PARTIES": 5,
        "CLONE_SAME_PARTY_MINUTES": 30.0,
        "CLONE_MAX_SPEED_KMH": 300.0,
        "CLONE_MIN_TRAVEL_KM": 50.0,
        "CLONE_THRESHOLD": 1.0,
        "SHELF_LIFE_GRACE_DAYS": 30,
        # Scratch-off PINs: wrong PINs per serial before it locks, and for how long.
        "PIN_MAX_FAILURES": 5,
        "PIN_LOCK_MINUTES": 60,
        # Per client network (flask-limiter syntax).
        "RATE_LIMIT_PIN": "10 per minute; 60 per day",
        "RATE_LIMIT_REPORTS": "5 per hour; 20 per day",
        "REPORT_PHOTO_MAX_BYTES": 2 * 1024 * 1024,
        "PROMETHEUS_MULTIPROC_DIR": "",
        # Records per HTTP request to the platform, and tries before a record is parked.
        "PUSH_BATCH_SIZE": 200,
        "PUSH_MAX_ATTEMPTS": 12,
        "PUSH_TIMEOUT_SECONDS": 10.0,
        # A claimed batch is another worker's to retry after this long (keep it well above
        # the timeout: a lease that runs out mid-send only causes a duplicate delivery).
        "PUSH_LEASE_SECONDS": 60.0,
        "PUSH_POLL_SECONDS": 1.0,
        # Retry delays: base * 2^(tries-1), capped, with jitter.
        "PUSH_BACKOFF_BASE_SECONDS": 2.0,
        "PUSH_BACKOFF_MAX_SECONDS": 900.0,
        "PUSH_EXPIRY_SWEEP_SECONDS": 300.0,
        # `push reconcile` reports records still unsent after this long.
        "PUSH_STALE_AFTER_SECONDS": 3600.0,
        # How long a signed offline status bundle may be used before a fresh one is needed.
        "OFFLINE_BUNDLE_HOURS": 24.0,
        "JSON_AS_ASCII": False,
    }


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Read the known variables from the environment, converting their types."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name, kind in ENV_KEYS.items():
        raw = environ.get(name)
        if raw is None or raw == "":
            continue
        try:
            values[name] = kind(raw)
        except ValueError as exc:
            raise RuntimeError(f"configuration {name}={raw!r} is not a valid {kind.__name__}") from exc
    return values
