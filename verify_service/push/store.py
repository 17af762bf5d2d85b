"""Queries of the traceability push (flush only; callers own the commit)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterator, Sequence

from sqlalchemy import and_, bindparam, exists, func, or_, select, update

from verify_service.db import session
from verify_service.models import Certificate, Enterprise
from verify_service.push.models import PARKED, PENDING, SENT, ExpiryMark, OutboxRecord

_T = OutboxRecord.__table__


def add(record: OutboxRecord) -> OutboxRecord:
    session().add(record)
    session().flush()
    return record


def claim(owner: str, limit: int, now: dt.datetime, lease_until: dt.datetime) -> list[OutboxRecord]:
    """Lease up to ``limit`` due records to ``owner`` and return them, oldest first.

    PostgreSQL skips rows another worker has locked (``FOR UPDATE SKIP LOCKED``); SQLite
    transactions here start with ``BEGIN IMMEDIATE``, so claims are serialised.  Either way the
    lease moves ``next_attempt_at`` past ``now``, so no other worker claims the rows until the
    lease runs out.
    """
    ids = list(session().scalars(
        select(OutboxRecord.id)
        .where(OutboxRecord.status == PENDING, OutboxRecord.next_attempt_at <= now)
        .order_by(OutboxRecord.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ))
    if not ids:
        return []
    session().execute(
        update(_T).where(_T.c.id.in_(ids))
        .values(lease_owner=owner, next_attempt_at=lease_until, attempts=_T.c.attempts + 1)
    )
    return list(session().scalars(
        select(OutboxRecord).where(OutboxRecord.id.in_(ids)).order_by(OutboxRecord.id)
        .execution_options(populate_existing=True)
    ))


def mark_sent(owner: str, ids: Sequence[int], now: dt.datetime) -> int:
    """Settle acknowledged records still leased to ``owner``; return how many were."""
    if not ids:
        return 0
    result = session().execute(
        update(_T).where(_T.c.id.in_(list(ids)), _T.c.lease_owner == owner, _T.c.status == PENDING)
        .values(status=SENT, sent_at=now, lease_owner=None, last_error=None)
    )
    return int(result.rowcount or 0)


def set_platform_refs(refs: dict[int, str]) -> None:
    if refs:
        session().execute(
            update(_T).where(_T.c.id == bindparam("b_id")).values(platform_ref=bindparam("b_ref")),
            [{"b_id": i, "b_ref": ref} for i, ref in refs.items()],
        )


def mark_failed(owner: str, failures: Sequence[dict[str, Any]], now: dt.datetime) -> int:
    """Record failed attempts: each item has ``id``, ``error``, ``next_attempt_at``, ``park``."""
    if not failures:
        return 0
    params = [
        {"b_id": f["id"], "b_error": f["error"][:2000], "b_next": f["next_attempt_at"],
         "b_status": PARKED if f["park"] else PENDING, "b_parked": now if f["park"] else None}
        for f in failures
    ]
    result = session().execute(
        update(_T).where(_T.c.id == bindparam("b_id"), _T.c.lease_owner == owner, _T.c.status == PENDING)
        .values(status=bindparam("b_status"), last_error=bindparam("b_error"),
                next_attempt_at=bindparam("b_next"), parked_at=bindparam("b_parked"), lease_owner=None),
        params,
    )
    return int(result.rowcount or 0)


def set_entity_code(credit_code: str, entity_code: str, now: dt.datetime) -> bool:
    result = session().execute(
        update(Enterprise)
        .where(Enterprise.uscc == credit_code,
               or_(Enterprise.platform_entity_code.is_(None), Enterprise.platform_entity_code != entity_code))
        .values(platform_entity_code=entity_code, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


# --- expiry sweep ------------------------------------------------------------------------


def find_newly_expired(today: dt.date, limit: int) -> list[Certificate]:
    """Certificates whose validity ended before ``today`` and were not reported for that end."""
    reported = exists().where(ExpiryMark.certificate_id == Certificate.id, ExpiryMark.valid_to == Certificate.valid_to)
    return list(session().scalars(
        select(Certificate)
        .where(Certificate.status.in_(("valid", "suspended")), Certificate.valid_to < today, ~reported)
        .order_by(Certificate.id).limit(limit)
    ))


def add_expiry_mark(certificate_id: int, valid_to: dt.date, now: dt.datetime) -> None:
    session().add(ExpiryMark(certificate_id=certificate_id, valid_to=valid_to, emitted_at=now))


# --- operations --------------------------------------------------------------------------


def counts_by_status() -> dict[str, int]:
    rows = session().execute(select(OutboxRecord.status, func.count()).group_by(OutboxRecord.status))
    return {status: int(n) for status, n in rows}


def pending_stats(now: dt.datetime) -> dict[str, Any]:
    row = session().execute(
        select(
            func.min(OutboxRecord.created_at),
            func.count().filter(OutboxRecord.attempts > 0),
            func.count().filter(and_(OutboxRecord.lease_owner.is_not(None), OutboxRecord.next_attempt_at > now)),
        ).where(OutboxRecord.status == PENDING)
    ).one()
    oldest = row[0]
    return {"oldest_created_at": oldest, "retrying": int(row[1] or 0), "in_flight": int(row[2] or 0)}


def counts_by_kind(status: str) -> dict[str, int]:
    rows = session().execute(
        select(OutboxRecord.kind, func.count()).where(OutboxRecord.status == status).group_by(OutboxRecord.kind)
    )
    return {kind: int(n) for kind, n in rows}


def list_parked(limit: int = 20) -> list[OutboxRecord]:
    return list(session().scalars(
        select(OutboxRecord).where(OutboxRecord.status == PARKED).order_by(OutboxRecord.id).limit(limit)
    ))


def requeue(now: dt.datetime, *, parked_only: bool, since: dt.datetime | None = None,
            until: dt.datetime | None = None, kind: str | None = None) -> int:
    """Make matching records due again with a fresh attempt count (same idempotency keys)."""
    q = update(_T)
    if parked_only:
        q = q.where(_T.c.status == PARKED)
    if since is not None:
        q = q.where(_T.c.created_at >= since)
    if until is not None:
        q = q.where(_T.c.created_at < until)
    if kind:
        q = q.where(_T.c.kind == kind)
    result = session().execute(q.values(
        status=PENDING, attempts=0, next_attempt_at=now, lease_owner=None, parked_at=None,
    ))
    return int(result.rowcount or 0)


def iter_records(*, statuses: Sequence[str] | None = None, since: dt.datetime | None = None,
                 batch: int = 5000) -> Iterator[tuple[int, str, str, str, str, dt.datetime]]:
    """(id, idempotency_key, kind, key, status, created_at) in id order, paged."""
    last = 0
    while True:
        q = (select(OutboxRecord.id, OutboxRecord.idempotency_key, OutboxRecord.kind, OutboxRecord.key,
                    OutboxRecord.status, OutboxRecord.created_at)
             .where(OutboxRecord.id > last).order_by(OutboxRecord.id).limit(batch))
        if statuses:
            q = q.where(OutboxRecord.status.in_(list(statuses)))
        if since is not None:
            q = q.where(OutboxRecord.created_at >= since)
        rows = session().execute(q).all()
        if not rows:
            return
        for r in rows:
            yield (r[0], r[1], r[2], r[3], r[4], r[5])
        last = rows[-1][0]


def count_unregistered_enterprises() -> int:
    certified = exists().where(Certificate.enterprise_id == Enterprise.id)
    return int(session().scalar(
        select(func.count()).select_from(Enterprise).where(Enterprise.platform_entity_code.is_(None), certified)
    ) or 0)


def list_unregistered_enterprises(limit: int = 1000) -> list[tuple[Enterprise, str | None]]:
    """Certified enterprises without an entity code, with their registration record's status."""
    certified = exists().where(Certificate.enterprise_id == Enterprise.id)
    latest = (
        select(OutboxRecord.status)
        .where(OutboxRecord.kind == "enterprise.registered", OutboxRecord.key == Enterprise.uscc)
        .order_by(OutboxRecord.id.desc()).limit(1).correlate(Enterprise).scalar_subquery()
    )
    rows = session().execute(
        select(Enterprise, latest)
        .where(Enterprise.platform_entity_code.is_(None), certified)
        .order_by(Enterprise.id).limit(limit)
    ).all()
    return [(e, status) for e, status in rows]
