"""The append-only audit log of admin and regulator actions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from verify_service import clock
from verify_service.data import audit as audit_data

#: The actor of a command run from the command line.
CLI_ACTOR = ("cli", "admin")


def record(actor: str, role: str, action: str, target_type: str, target_id: str, **detail: Any) -> None:
    audit_data.add_audit_entry(
        at=clock.now(), actor=actor, role=role, action=action,
        target_type=target_type, target_id=str(target_id), detail=_jsonable(detail),
    )


def list_entries(**filters: Any) -> list[dict[str, Any]]:
    return [
        {"id": e.id, "at": e.at.isoformat(), "actor": e.actor, "role": e.role, "action": e.action,
         "target_type": e.target_type, "target_id": e.target_id, "detail": e.detail}
        for e in audit_data.list_audit_entries(**filters)
    ]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
