"""Operating the push: status, replay, reconciliation, unregistered enterprises."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

from verify_service import clock
from verify_service.push import outbox, platform, store
from verify_service.push.models import PARKED, PENDING, SENT


def status() -> dict[str, Any]:
    """Backlog, its oldest age, retrying and parked records, unregistered enterprises."""
    now = clock.now()
    counts = store.counts_by_status()
    pending = store.pending_stats(now)
    oldest = pending["oldest_created_at"]
    return {
        "counts": {s: counts.get(s, 0) for s in (PENDING, SENT, PARKED)},
        "backlog": counts.get(PENDING, 0),
        "oldest_pending_age_seconds": round((now - oldest).total_seconds(), 3) if oldest else None,
        "retrying": pending["retrying"],
        "in_flight": pending["in_flight"],
        "parked": counts.get(PARKED, 0),
        "backlog_by_kind": store.counts_by_kind(PENDING),
        "parked_records": [
            {"id": r.id, "kind": r.kind, "key": r.key, "attempts": r.attempts,
             "parked_at": r.parked_at.isoformat() if r.parked_at else None, "last_error": r.last_error}
            for r in store.list_parked()
        ],
        "unregistered_enterprises": store.count_unregistered_enterprises(),
    }


def replay(*, parked_only: bool, since: dt.datetime | None = None, until: dt.datetime | None = None,
           kind: str | None = None) -> int:
    """Queue records again under their own idempotency keys (the platform drops any copy)."""
    return store.requeue(clock.now(), parked_only=parked_only, since=since, until=until, kind=kind)


def unregistered(*, enqueue: bool = False) -> list[dict[str, Any]]:
    """Certified enterprises without an entity code; ``enqueue`` queues a registration for
    those that have none pending or sent (e.g. registered before the push existed)."""
    out = []
    for e, record_status in store.list_unregistered_enterprises():
        queued = False
        if enqueue and record_status not in (PENDING, SENT):
            outbox.emit("enterprise.registered", e.uscc, platform.entity(e))
            queued = True
        out.append({"uscc": e.uscc, "name": e.name, "registration": record_status or "none", "queued": queued})
    return out


@dataclass
class Reconciliation:
    missing: list[dict[str, Any]] = field(default_factory=list)
    duplicated: list[dict[str, Any]] = field(default_factory=list)
    unknown: list[dict[str, Any]] = field(default_factory=list)
    stale: list[dict[str, Any]] = field(default_factory=list)
    checked_sent: int = 0
    platform_records: int = 0

    @property
    def gaps(self) -> int:
        return len(self.missing) + len(self.duplicated) + len(self.unknown) + len(self.stale)

    def lines(self) -> Iterable[str]:
        for title, items in (("missing at platform", self.missing), ("held twice by platform", self.duplicated),
                             ("unknown to the service", self.unknown), ("pending too long or parked", self.stale)):
            for item in items:
                yield f"{title}: " + " ".join(f"{k}={v}" for k, v in item.items())


def reconcile(records: Iterable[dict[str, Any]], *, stale_after: dt.timedelta,
              since: dt.datetime | None = None) -> Reconciliation:
    """Compare the outbox with what the platform holds (``records``, from its listing).

    Gaps: a record acknowledged here that the platform lacks; one change the platform holds
    more than once (same kind, key and payload under two idempotency keys, or two copies of
    one key); a platform record the outbox does not know; a record pending longer than
    ``stale_after`` or parked.  A record the platform holds while it is still pending here
    (a lost acknowledgement) is not a gap: the next delivery settles it.
    """
    now = clock.now()
    result = Reconciliation()
    held: dict[str, dict[str, Any]] = {}
    by_content: dict[tuple[str, str, str], list[str]] = {}
    copies: Counter[str] = Counter()
    for r in records:
        key = str(r["idempotency_key"])
        copies[key] += 1
        held[key] = r
        by_content.setdefault((r["kind"], r["key"], r.get("payload_sha256", key)), []).append(key)
    result.platform_records = sum(copies.values())
    known: set[str] = set()
    for _id, idem, kind, key, st, created_at in store.iter_records(since=since):
        known.add(idem)
        if st == SENT:
            result.checked_sent += 1
            if idem not in held:
                result.missing.append({"id": _id, "idempotency_key": idem, "kind": kind, "key": key})
        elif st == PARKED or now - created_at > stale_after:
            result.stale.append({"id": _id, "idempotency_key": idem, "kind": kind, "key": key, "status": st,
                                 "age_s": int((now - created_at).total_seconds())})
    for key, n in copies.items():
        if n > 1:
            result.duplicated.append({"idempotency_key": key, "copies": n})
    for (kind, key, _digest), keys in by_content.items():
        if len(keys) > 1:
            result.duplicated.append({"kind": kind, "key": key, "idempotency_keys": ",".join(sorted(keys))})
    if since is None:
        for key, r in held.items():
            if key not in known:
                result.unknown.append({"idempotency_key": key, "kind": r["kind"], "key": r["key"]})
    return result
