"""Readiness: the database answers and its schema is at the newest migration."""

from __future__ import annotations

from typing import Any

from verify_service.data import health
from verify_service.db import database
from verify_service.migrate import head_revision


def readiness() -> tuple[bool, dict[str, Any]]:
    try:
        health.ping()
        current = health.schema_revision()
    except Exception as exc:  # any driver error means "not ready", never a 500
        return False, {"database": "unreachable", "detail": type(exc).__name__}
    head = head_revision(database().url)
    ok = current == head
    return ok, {"database": "ok", "schema_revision": current, "head_revision": head,
                "migrations": "at head" if ok else "pending"}
