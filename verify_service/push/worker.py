"""The push worker: claim due outbox records, send them in batches, settle the outcome.

One iteration is two units of work: the claim (committed before any byte is sent, so other
workers see the lease) and the settlement (committed after the platform answered).  A worker
killed between the two loses nothing: its lease runs out and another worker sends the same
records again under the same idempotency keys, which the platform de-duplicates.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence

from flask import Flask
from sqlalchemy.exc import IntegrityError, OperationalError
from tenacity import RetryCallState, wait_exponential

from verify_service import clock, db
from verify_service.push import metrics, outbox, platform, store
from verify_service.push.models import OutboxRecord

log = logging.getLogger("verify_service.push.worker")


class Sender(Protocol):
    def send(self, envelopes: Sequence[dict[str, Any]]) -> list[platform.RecordResult]: ...


@dataclass(frozen=True)
class WorkerSettings:
    batch_size: int = 200
    max_attempts: int = 12
    lease_seconds: float = 60.0
    poll_seconds: float = 1.0
    backoff_base_seconds: float = 2.0
    backoff_max_seconds: float = 900.0
    expiry_sweep_seconds: float = 300.0

    @classmethod
    def from_config(cls, config: Any) -> "WorkerSettings":
        return cls(
            batch_size=int(config["PUSH_BATCH_SIZE"]),
            max_attempts=int(config["PUSH_MAX_ATTEMPTS"]),
            lease_seconds=float(config["PUSH_LEASE_SECONDS"]),
            poll_seconds=float(config["PUSH_POLL_SECONDS"]),
            backoff_base_seconds=float(config["PUSH_BACKOFF_BASE_SECONDS"]),
            backoff_max_seconds=float(config["PUSH_BACKOFF_MAX_SECONDS"]),
            expiry_sweep_seconds=float(config["PUSH_EXPIRY_SWEEP_SECONDS"]),
        )


def backoff_seconds(attempts: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Delay before the next try after ``attempts`` failed tries.

    Exponential (``base · 2^(attempts-1)``, capped at ``cap``, from tenacity) with "equal
    jitter": a random point in the upper half, so retries of a failed batch spread out but
    never come back almost at once.
    """
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = max(1, attempts)
    ceiling = wait_exponential(multiplier=base, max=cap)(state)
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


def kv(event: str, **fields: Any) -> str:
    """A key=value log line (values with spaces are quoted)."""
    parts = [f"event={event}"]
    for k, v in fields.items():
        s = str(v)
        parts.append(f'{k}="{s}"' if (" " in s or "=" in s or not s) else f"{k}={s}")
    return " ".join(parts)


class Worker:
    """Runs the claim → send → settle loop until :meth:`stop` (finishing the current batch)."""

    def __init__(self, app: Flask, sender: Sender, settings: WorkerSettings, *,
                 worker_id: str | None = None, rng: random.Random | None = None) -> None:
        self.app = app
        self.sender = sender
        self.settings = settings
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.rng = rng or random.Random()
        self._stop = threading.Event()
        self._next_sweep = 0.0

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self, *, until_idle: bool = False) -> None:
        log.info(kv("push.worker.start", worker=self.worker_id, batch_size=self.settings.batch_size,
                    max_attempts=self.settings.max_attempts, lease_s=self.settings.lease_seconds))
        while not self._stop.is_set():
            try:
                if time.monotonic() >= self._next_sweep:
                    self.sweep_expired()
                    self._next_sweep = time.monotonic() + self.settings.expiry_sweep_seconds
                handled = self.run_once()
            except OperationalError as exc:
                # Database unreachable or locked for too long: back off and try again.
                log.warning(kv("push.worker.db_error", worker=self.worker_id, error=str(exc.orig)[:200]))
                handled = 0
            if handled == 0:
                if until_idle:
                    break
                self._stop.wait(self.settings.poll_seconds)
        log.info(kv("push.worker.stop", worker=self.worker_id))

    def run_once(self) -> int:
        """Claim, send and settle one batch; return how many records it handled."""
        token = f"{self.worker_id}/{uuid.uuid4().hex[:8]}"
        with self.app.app_context():
            now = clock.now()
            records = store.claim(token, self.settings.batch_size, now,
                                  now + dt.timedelta(seconds=self.settings.lease_seconds))
            envelopes = [platform.envelope(r) for r in records]
            attempts = {r.id: r.attempts for r in records}
            db.commit()
        if not records:
            return 0
        log.info(kv("push.batch.claimed", worker=self.worker_id, claim=token, records=len(records),
                    first_id=records[0].id, last_id=records[-1].id))
        started = time.perf_counter()
        try:
            results = self.sender.send(envelopes)
            batch_error = None
        except platform.PlatformUnavailable as exc:
            results, batch_error = [], str(exc)
        metrics.SEND_SECONDS.observe(time.perf_counter() - started)
        self._settle(token, records, attempts, results, batch_error)
        return len(records)

    def _settle(self, token: str, records: Sequence[OutboxRecord], attempts: dict[int, int],
                results: Sequence[platform.RecordResult], batch_error: str | None) -> None:
        by_key = {r.idempotency_key: r for r in results}
        sent: list[int] = []
        refs: dict[int, str] = {}
        codes: dict[str, str] = {}
        failures: list[dict[str, Any]] = []
        with self.app.app_context():
            now = clock.now()
            for r in records:
                res = by_key.get(r.idempotency_key)
                if res is not None and res.ok:
                    sent.append(r.id)
                    if res.entity_code:
                        refs[r.id] = res.entity_code
                        if r.kind in ("enterprise.registered", "enterprise.changed"):
                            codes[r.key] = res.entity_code
                    continue
                error = batch_error or (res.error if res else "no result for record") or "rejected"
                park = attempts[r.id] >= self.settings.max_attempts
                delay = backoff_seconds(attempts[r.id], self.settings.backoff_base_seconds,
                                        self.settings.backoff_max_seconds, self.rng)
                failures.append({"id": r.id, "error": error, "park": park,
                                 "next_attempt_at": now + dt.timedelta(seconds=delay)})
            n_sent = store.mark_sent(token, sent, now)
            store.set_platform_refs(refs)
            for credit_code, code in codes.items():
                store.set_entity_code(credit_code, code, now)
            store.mark_failed(token, failures, now)
            db.commit()
        parked = [f["id"] for f in failures if f["park"]]
        metrics.RECORDS.labels("sent").inc(len(sent))
        metrics.RECORDS.labels("failed").inc(len(failures) - len(parked))
        metrics.RECORDS.labels("parked").inc(len(parked))
        if n_sent < len(sent):
            # Our lease ran out and another worker re-claimed some records: it settles them.
            log.warning(kv("push.batch.lease_lost", worker=self.worker_id, claim=token, lost=len(sent) - n_sent))
        fields: dict[str, Any] = {"worker": self.worker_id, "claim": token, "sent": len(sent),
                                  "failed": len(failures), "parked": len(parked)}
        if batch_error:
            fields["error"] = batch_error[:200]
        log.log(logging.WARNING if failures else logging.INFO, kv("push.batch.settled", **fields))
        for f in failures:
            if f["park"]:
                log.error(kv("push.record.parked", worker=self.worker_id, id=f["id"], error=f["error"][:200]))

    def sweep_expired(self, limit: int = 1000) -> int:
        """Emit ``certificate.expired`` once per certificate whose validity has ended."""
        with self.app.app_context():
            today = clock.today()
            now = clock.now()
            try:
                found = store.find_newly_expired(today, limit)
                for cert in found:
                    assert cert.valid_to is not None
                    store.add_expiry_mark(cert.id, cert.valid_to, now)
                    outbox.emit("certificate.expired", cert.number, platform.certification_status(
                        cert, from_status=cert.status, to_status="expired",
                        reason=f"valid_to {cert.valid_to.isoformat()} has passed", at=now))
                db.commit()
            except IntegrityError:
                # Another worker swept the same certificates at the same moment; it emitted them.
                db.rollback()
                return 0
        if found:
            log.info(kv("push.expiry.swept", worker=self.worker_id, emitted=len(found)))
        return len(found)


def install_signal_handlers(worker: Worker, signals: Sequence[int], on_signal: Callable[[], None] | None = None) -> None:
    import signal as signal_module

    def _handler(signum: int, _frame: Any) -> None:
        log.info(kv("push.worker.signal", worker=worker.worker_id, signal=signal_module.Signals(signum).name))
        worker.stop()
        if on_signal:
            on_signal()

    for s in signals:
        signal_module.signal(s, _handler)
