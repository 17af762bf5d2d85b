"""The worker against fakes and the in-process simulator: settle, back off, park, replay, lease."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any, Callable, Sequence

import pytest
from sqlalchemy import select

from tests.service.factories import certificate_body, enterprise_body
from verify_service import db
from verify_service.models import Enterprise
from verify_service.push import ops, outbox, platform, store
from verify_service.push.models import OutboxRecord
from verify_service.push.simulator import SimulatorServer
from verify_service.push.worker import Worker, WorkerSettings, backoff_seconds


class FakePlatform:
    """A platform double: answers each batch from a script of outcomes."""

    def __init__(self, outcomes: Sequence[str] = ()) -> None:
        self.outcomes = list(outcomes)
        self.batches: list[list[dict[str, Any]]] = []

    def send(self, envelopes: Sequence[dict[str, Any]]) -> list[platform.RecordResult]:
        self.batches.append(list(envelopes))
        outcome = self.outcomes.pop(0) if self.outcomes else "ok"
        if outcome == "down":
            raise platform.PlatformUnavailable("HTTP 503: injected")
        if outcome == "reject":
            return [platform.RecordResult(e["idempotency_key"], False, error="bad record") for e in envelopes]
        return [platform.RecordResult(e["idempotency_key"], True) for e in envelopes]


def _emit(run: Callable[..., Any], n: int, kind: str = "fake.confirmed") -> None:
    def _go() -> None:
        for i in range(n):
            outbox.emit(kind, f"K{i}", {"n": i})
    run(_go)


def _rows(app: Any) -> list[OutboxRecord]:
    with app.app_context():
        rows = list(db.session().scalars(select(OutboxRecord).order_by(OutboxRecord.id)))
        db.session().expunge_all()
        return rows


def _worker(app: Any, sender: Any, **settings: Any) -> Worker:
    base = WorkerSettings.from_config(app.config)
    fields = {**base.__dict__, **settings}
    return Worker(app, sender, WorkerSettings(**fields), worker_id="t", rng=random.Random(1))


def test_backoff_grows_exponentially_with_jitter_and_is_capped() -> None:
    rng = random.Random(7)
    for attempt, ceiling in ((1, 2), (2, 4), (3, 8), (6, 64), (10, 600), (30, 600)):
        delays = [backoff_seconds(attempt, 2.0, 600.0, rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays), (attempt, min(delays), max(delays))
        assert max(delays) - min(delays) > ceiling / 4  # jittered, not one fixed value


def test_sends_in_batches_and_marks_sent(app: Any, run: Callable[..., Any]) -> None:
    _emit(run, 120)
    fake = FakePlatform()
    w = _worker(app, fake, batch_size=50)
    assert [w.run_once(), w.run_once(), w.run_once(), w.run_once()] == [50, 50, 20, 0]
    assert [len(b) for b in fake.batches] == [50, 50, 20]
    env = fake.batches[0][0]
    assert env["schema"] == platform.SCHEMA and env["kind"] == "fake.confirmed" and env["data"] == {"n": 0}
    assert {r.status for r in _rows(app)} == {"sent"}
    assert all(r.lease_owner is None and r.sent_at is not None for r in _rows(app))


def test_failure_backs_off_then_parks_after_max_attempts_and_replay_requeues(
        app: Any, run: Callable[..., Any], clock: Any) -> None:
    _emit(run, 3)
    fake = FakePlatform(["down", "reject", "down", "ok"])
    w = _worker(app, fake, max_attempts=3, backoff_base_seconds=10.0)
    assert w.run_once() == 3
    rows = _rows(app)
    assert {r.status for r in rows} == {"pending"} and {r.attempts for r in rows} == {1}
    assert all(r.last_error == "HTTP 503: injected" for r in rows)
    delays = [(r.next_attempt_at - clock.now()).total_seconds() for r in rows]
    assert all(5 <= d <= 10 for d in delays)
    assert w.run_once() == 0  # not due yet

    clock.advance(seconds=10)
    assert w.run_once() == 3  # rejected by the platform: 2nd attempt, 10–20 s
    assert {r.last_error for r in _rows(app)} == {"bad record"}
    clock.advance(seconds=20)
    assert w.run_once() == 3  # 3rd failure: parked
    rows = _rows(app)
    assert {r.status for r in rows} == {"parked"} and {r.attempts for r in rows} == {3}
    clock.advance(days=1)
    assert w.run_once() == 0  # parked records are never claimed

    with app.app_context():
        s = ops.status()
    assert s["parked"] == 3 and s["backlog"] == 0 and s["parked_records"][0]["last_error"] == "HTTP 503: injected"

    result = app.test_cli_runner().invoke(args=["push", "replay"])
    assert result.exit_code == 0 and "queued 3 parked records" in result.output
    keys_before = [r.idempotency_key for r in rows]
    assert w.run_once() == 3
    rows = _rows(app)
    assert {r.status for r in rows} == {"sent"} and [r.idempotency_key for r in rows] == keys_before


def test_replay_by_time_range_resends_only_that_range(app: Any, run: Callable[..., Any], clock: Any) -> None:
    _emit(run, 2)
    clock.advance(hours=2)
    _emit(run, 3)
    w = _worker(app, FakePlatform())
    w.run_once()
    since = (clock.now() - dt.timedelta(hours=1)).isoformat()
    result = app.test_cli_runner().invoke(args=["push", "replay", "--since", since])
    assert result.exit_code == 0 and "queued 3 records in the range" in result.output
    assert [r.status for r in _rows(app)] == ["sent", "sent", "pending", "pending", "pending"]


def test_a_leased_batch_is_not_claimed_again_until_the_lease_runs_out(
        app: Any, run: Callable[..., Any], clock: Any) -> None:
    _emit(run, 5)
    with app.app_context():
        now = clock.now()
        first = store.claim("dead-worker", 10, now, now + dt.timedelta(seconds=30))
        db.commit()
    assert len(first) == 5
    fake = FakePlatform()
    w = _worker(app, fake)
    assert w.run_once() == 0
    clock.advance(seconds=31)
    assert w.run_once() == 5  # the dead worker's lease ran out
    rows = _rows(app)
    assert {r.status for r in rows} == {"sent"} and {r.attempts for r in rows} == {2}
    # The first worker coming back late cannot settle what it no longer holds.
    with app.app_context():
        assert store.mark_sent("dead-worker", [r.id for r in rows], clock.now()) == 0


def test_entity_code_is_stored_once_the_platform_registers_the_enterprise(
        app: Any, client: Any, admin_headers: dict[str, str], simulator: SimulatorServer) -> None:
    ents = [enterprise_body(), enterprise_body()]
    for ent in ents:
        assert client.post("/api/v1/admin/enterprises", json=ent, headers=admin_headers).status_code == 201
    client.post("/api/v1/admin/certificates", json=certificate_body(ents[0]["uscc"]), headers=admin_headers)
    r = app.test_cli_runner().invoke(args=["push", "unregistered"])
    assert ents[0]["uscc"] in r.output and ents[1]["uscc"] not in r.output  # only certified ones

    cfg = app.config
    client_ = platform.PlatformClient(cfg["PLATFORM_URL"], cfg["PLATFORM_SECRET"])
    w = _worker(app, client_)
    assert w.run_once() == 3
    client_.close()
    with app.app_context():
        codes = {e.uscc: e.platform_entity_code for e in db.session().scalars(select(Enterprise))}
    for ent in ents:
        assert codes[ent["uscc"]] == simulator.store.entity(ent["uscc"])
        assert codes[ent["uscc"]].startswith("ZT230184")
    r = app.test_cli_runner().invoke(args=["push", "unregistered"])
    assert r.output.strip().endswith("0 certified enterprises without an entity code")
    assert [x.platform_ref is not None for x in _rows(app)] == [True, True, False]


def test_unregistered_enqueue_registers_enterprises_from_before_the_push(
        app: Any, run: Callable[..., Any]) -> None:
    from verify_service.schemas import CertificateIn, EnterpriseIn
    from verify_service.services import registry

    ent = enterprise_body()
    run(registry.upsert_enterprise, EnterpriseIn(**ent))
    run(registry.upsert_certificate, CertificateIn(**certificate_body(ent["uscc"])), "cli")
    with app.app_context():  # as if registered before the outbox existed
        db.session().execute(OutboxRecord.__table__.delete())
        db.commit()
    r = app.test_cli_runner().invoke(args=["push", "unregistered", "--enqueue"])
    assert r.exit_code == 0 and "registration: none  (queued now)" in r.output
    assert [x.kind for x in _rows(app)] == ["enterprise.registered"]
    r = app.test_cli_runner().invoke(args=["push", "unregistered", "--enqueue"])
    assert "registration: pending" in r.output and len(_rows(app)) == 1


def test_status_and_metrics_show_the_backlog(app: Any, client: Any, run: Callable[..., Any], clock: Any) -> None:
    _emit(run, 4)
    clock.advance(seconds=90)
    r = app.test_cli_runner().invoke(args=["push", "status"])
    assert r.exit_code == 0
    assert "backlog      4" in r.output and "90.0 s" in r.output
    body = client.get("/metrics").get_data(as_text=True)
    assert 'labels_push_outbox_records{status="pending"} 4.0' in body
    assert "labels_push_oldest_pending_age_seconds 90.0" in body
    assert "labels_push_unregistered_enterprises 0.0" in body


@pytest.mark.parametrize("tamper", ["missing", "old"])
def test_reconcile_reports_gaps_and_exits_non_zero(
        app: Any, run: Callable[..., Any], simulator: SimulatorServer, tamper: str) -> None:
    _emit(run, 5)
    cfg = app.config
    sender = platform.PlatformClient(cfg["PLATFORM_URL"], cfg["PLATFORM_SECRET"])
    _worker(app, sender).run_once()
    sender.close()
    ok = app.test_cli_runner().invoke(args=["push", "reconcile"])
    assert ok.exit_code == 0, ok.output
    assert "checked 5 acknowledged records against 5 held by the platform: 0 missing" in ok.output

    if tamper == "missing":  # the platform lost one acknowledged record
        simulator.store._db.execute("DELETE FROM records WHERE seq = 3")
        expected = "missing at platform"
    else:  # one change sent twice under two keys
        _emit(run, 1)
        with app.app_context():
            rec = db.session().scalars(select(OutboxRecord).order_by(OutboxRecord.id.desc())).first()
            assert rec is not None
            rec.key, rec.payload = "K0", {"n": 0}
            db.commit()
        sender = platform.PlatformClient(cfg["PLATFORM_URL"], cfg["PLATFORM_SECRET"])
        _worker(app, sender).run_once()
        sender.close()
        expected = "held twice by platform"
    bad = app.test_cli_runner().invoke(args=["push", "reconcile"])
    assert bad.exit_code == 1 and expected in bad.output, bad.output
