from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from verify_service.db import session
from verify_service.models import AuditEntry


def add_audit_entry(**fields: Any) -> AuditEntry:
    entry = AuditEntry(**fields)
    session().add(entry)
    session().flush()
    return entry


def list_audit_entries(
    *, target_type: str | None = None, target_id: str | None = None,
    since: dt.datetime | None = None, limit: int = 100, before_id: int | None = None,
) -> list[AuditEntry]:
    q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if target_type:
        q = q.where(AuditEntry.target_type == target_type)
    if target_id:
        q = q.where(AuditEntry.target_id == target_id)
    if since:
        q = q.where(AuditEntry.at >= since)
    if before_id:
        q = q.where(AuditEntry.id < before_id)
    return list(session().scalars(q))
