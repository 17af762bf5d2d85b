"""Writing to the outbox: the one call business code makes to reach the platform."""

from __future__ import annotations

import uuid
from typing import Any

from verify_service import clock
from verify_service.push import store
from verify_service.push.models import OutboxRecord
from verify_service.push.platform import KINDS, SCHEMA


def emit(kind: str, key: str, payload: dict[str, Any]) -> OutboxRecord:
    """Queue a record for the platform in the current transaction (flushes, never commits).

    It is sent only if the surrounding unit of work commits, and then at least once (the
    platform drops copies by the record's idempotency key).  ``kind`` is one of
    :data:`verify_service.push.platform.KINDS`; ``key`` the subject's natural key;
    ``payload`` comes from a builder in :mod:`verify_service.push.platform`.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown outbox record kind {kind!r}")
    now = clock.now()
    return store.add(OutboxRecord(
        idempotency_key=str(uuid.uuid4()), kind=kind, key=str(key)[:64], record_schema=SCHEMA,
        payload=payload, status="pending", attempts=0, next_attempt_at=now, created_at=now,
    ))
