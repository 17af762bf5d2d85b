"""Chaos: real simulator and worker processes, faults, and a worker killed mid-batch.

The simulator answers ~30 % of batches with an error, a stall past the client's timeout or
a lost acknowledgement (and duplicates some deliveries).  Two ``push worker`` processes
share the backlog; one is SIGKILLed right after it claimed a batch and is restarted.  When
the outbox has drained, the platform must hold every record exactly once and ``push
reconcile`` must find no gap.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy import func, select

from tests.conftest import REPO_ROOT, empty_tables
from tests.push.conftest import SECRET
from tests.service.factories import certificate_body, enterprise_body
from verify_service import create_app, db
from verify_service.models import Enterprise
from verify_service.push import outbox, platform
from verify_service.push.models import OutboxRecord
from verify_service.schemas import CertificateIn, EnterpriseIn
from verify_service.services import registry

ENTERPRISES = 40
OTHER_RECORDS = 260


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _flask(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "wsgi", *args]


class Proc:
    """A subprocess whose stderr lines are collected by a thread (so it never blocks)."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.lines: "queue.Queue[str]" = queue.Queue()
        self.log: list[str] = []
        self.p = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.p.stderr is not None
        for line in self.p.stderr:
            self.log.append(line)
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.05)
            except queue.Empty:
                if self.p.poll() is not None:
                    break
                continue
            if text in line:
                return line
        raise AssertionError(f"{self.name} never logged {text!r}:\n{''.join(self.log[-30:])}")

    def stop(self) -> None:
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


@pytest.fixture
def live_app(app_config: dict[str, Any], database_url: str) -> Iterator[Any]:
    """An app on the real clock: the worker processes compare times with it."""
    config = {k: v for k, v in app_config.items() if k != "CLOCK"}
    app = create_app(config)
    yield app
    app.extensions["db"].engine.dispose()
    empty_tables(database_url)


def _seed(app: Any) -> None:
    with app.app_context():
        for i in range(ENTERPRISES):
            ent = enterprise_body()
            registry.upsert_enterprise(EnterpriseIn(**ent))
            registry.upsert_certificate(CertificateIn(**certificate_body(ent["uscc"])), "chaos")
        for i in range(OTHER_RECORDS - ENTERPRISES):
            outbox.emit("clone_alert.raised", f"S{i:06d}", {"alert": {"serial": f"{i:012d}", "scans": i % 7}})
        db.commit()


def _outbox_state(app: Any) -> dict[str, int]:
    with app.app_context():
        rows = db.session().execute(select(OutboxRecord.status, func.count()).group_by(OutboxRecord.status))
        return {s: int(n) for s, n in rows}


def test_two_workers_with_faults_and_a_kill_deliver_everything_exactly_once(
        live_app: Any, database_url: str, tmp_path: Path) -> None:
    _seed(live_app)
    total = ENTERPRISES * 2 + (OTHER_RECORDS - ENTERPRISES)
    assert _outbox_state(live_app) == {"pending": total}

    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "PLATFORM_URL": f"http://127.0.0.1:{port}",
           "PLATFORM_SECRET": SECRET, "PUSH_BATCH_SIZE": "15", "PUSH_MAX_ATTEMPTS": "1000",
           "PUSH_TIMEOUT_SECONDS": "0.8", "PUSH_LEASE_SECONDS": "2.5", "PUSH_POLL_SECONDS": "0.1",
           "PUSH_BACKOFF_BASE_SECONDS": "0.05", "PUSH_BACKOFF_MAX_SECONDS": "0.4", "LOG_LEVEL": "INFO",
           "PYTHONUNBUFFERED": "1"}
    procs: list[Proc] = []
    try:
        sim = Proc("simulator", _flask("push", "simulator", "--port", str(port), "--seed", "42",
                                       "--error-rate", "0.1", "--timeout-rate", "0.1", "--timeout-seconds", "1.2",
                                       "--lost-ack-rate", "0.1", "--duplicate-rate", "0.1", "--slow-ms", "60"), env)
        procs.append(sim)
        sim.wait_for("listening", 15)
        w1 = Proc("worker-1", _flask("push", "worker", "--worker-id", "w1"), env)
        w2 = Proc("worker-2", _flask("push", "worker", "--worker-id", "w2"), env)
        procs += [w1, w2]
        # Kill worker 1 right after a claim committed, while its batch is on the wire.
        claimed = w1.wait_for("push.batch.claimed", 30)
        w1.p.send_signal(signal.SIGKILL)
        w1.p.wait(5)
        w1b = Proc("worker-1b", _flask("push", "worker", "--worker-id", "w1b"), env)
        procs.append(w1b)

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            state = _outbox_state(live_app)
            if state.get("sent") == total:
                break
            time.sleep(0.3)
        assert _outbox_state(live_app) == {"sent": total}, "\n".join(w2.log[-20:])

        # Graceful stop: SIGTERM ends the loop after the current batch.
        for w in (w2, w1b):
            w.p.send_signal(signal.SIGTERM)
        for w in (w2, w1b):
            assert w.p.wait(15) == 0
            assert any("push.worker.stop" in line for line in w.log)

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            assert r.status == 200
        client = platform.PlatformClient(f"http://127.0.0.1:{port}", SECRET)
        held = list(client.list_records())
        stats = _get_stats(client)
        client.close()
        with live_app.app_context():
            keys = set(db.session().scalars(select(OutboxRecord.idempotency_key)))
            codes = dict(db.session().execute(select(Enterprise.uscc, Enterprise.platform_entity_code)).all())
            ids = dict(part.split("=") for part in claimed.split() if "=" in part)
            orphaned = list(db.session().scalars(select(OutboxRecord.attempts).where(
                OutboxRecord.id.between(int(ids["first_id"]), int(ids["last_id"])))))
        # The killed worker's batch was claimed again once its lease ran out.
        assert orphaned and min(orphaned) >= 2
        held_keys = [r["idempotency_key"] for r in held]
        assert len(held_keys) == len(set(held_keys)) == total  # exactly once
        assert set(held_keys) == keys
        # The faults really happened, and some records really were delivered more than once.
        assert stats["faults_error"] and stats["faults_timeout"] and stats["faults_lost_ack"]
        assert stats["deliveries"] > total
        assert all(codes.values()) and len(codes) == ENTERPRISES
        entity_codes = {r["key"]: r["entity_code"] for r in held if r["kind"] == "enterprise.registered"}
        assert entity_codes == codes

        rec = subprocess.run(_flask("push", "reconcile"), cwd=REPO_ROOT, env=env,
                             capture_output=True, text=True, timeout=60)
        assert rec.returncode == 0, rec.stdout + rec.stderr
        assert f"checked {total} acknowledged records against {total} held by the platform: 0 missing" in rec.stdout
    finally:
        for p in reversed(procs):
            if p.p.poll() is None:
                p.p.kill()
                p.p.wait()


def _get_stats(client: platform.PlatformClient) -> dict[str, Any]:
    status, data = client._request("GET", "/api/v1/stats", b"")
    assert status == 200
    return dict(json.loads(data))
