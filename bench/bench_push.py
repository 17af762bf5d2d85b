"""Push throughput to the platform simulator on loopback, and draining a large backlog.

    python bench/bench_push.py            # 100,000-record backlog
    python bench/bench_push.py --quick    # 10,000 records
    DATABASE_URL=postgresql+psycopg://... python bench/bench_push.py --processes 2

Fills the outbox with N records, starts the simulator as its own process, drains the backlog
with the real worker (in this process, or ``--processes K`` separate ``push worker``
processes) and checks that the simulator holds every record exactly once.  Target: ≥ 2,000
records/s (DESIGN.md §8).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import func, insert, select, text  # noqa: E402

from verify_service import create_app, db, migrate  # noqa: E402
from verify_service.push import platform  # noqa: E402
from verify_service.push.models import OutboxRecord  # noqa: E402
from verify_service.push.worker import Worker, WorkerSettings  # noqa: E402

TARGET_PER_SECOND = 2000
SECRET = "bench secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _fill(app, n: int) -> None:  # type: ignore[no-untyped-def]
    now = dt.datetime.now(dt.timezone.utc)
    with app.app_context():
        s = db.session()
        if s.bind.dialect.name == "postgresql":  # type: ignore[union-attr]
            s.execute(text("TRUNCATE push_outbox RESTART IDENTITY"))
        else:
            s.execute(text("DELETE FROM push_outbox"))
        for start in range(0, n, 5000):
            s.execute(insert(OutboxRecord), [
                {"idempotency_key": str(uuid.uuid4()), "kind": "label_batch.issued", "key": str(i),
                 "record_schema": platform.SCHEMA, "status": "pending", "attempts": 0,
                 "next_attempt_at": now, "created_at": now,
                 "payload": platform.outbound_batch(
                     batch_id=i, certificate_no="LB-03-2301231234A", product_id=1, product_name="五常大米",
                     quantity=10_000, first_serial=f"{i * 10_000:012d}", last_serial=f"{i * 10_000 + 9_999:012d}",
                     credit_code="91230184MA1B2C3D4E", url_prefix="HTTPS://GF.CN/L/", issued_at=now)}
                for i in range(start, min(n, start + 5000))
            ])
        db.commit()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="10,000 records instead of 100,000")
    ap.add_argument("--records", type=int, default=None)
    ap.add_argument("--batch-size", type=int, default=500)
    ap.add_argument("--processes", type=int, default=0, help="run K `push worker` processes instead of one in-process worker")
    args = ap.parse_args()
    n = args.records or (10_000 if args.quick else 100_000)

    tmp = Path(tempfile.mkdtemp(prefix="bench-push-"))
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp / 'bench.sqlite3'}"
    migrate.upgrade(url)
    port = _free_port()
    platform_url = f"http://127.0.0.1:{port}"
    config = {"DATABASE_URL": url, "PLATFORM_URL": platform_url, "PLATFORM_SECRET": SECRET,
              "PUSH_BATCH_SIZE": args.batch_size, "LOG_LEVEL": "WARNING"}
    app = create_app(config)
    env = {**os.environ, **{k: str(v) for k, v in config.items()}}

    t0 = time.perf_counter()
    _fill(app, n)
    print(f"backlog: {n:,} records written in {time.perf_counter() - t0:.1f} s ({app.extensions['db'].engine.dialect.name})")

    sim = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "push", "simulator", "--port", str(port)],
                           cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert sim.stderr is not None
        sim.stderr.readline()  # "listening on ..."
        client = platform.PlatformClient(platform_url, SECRET, timeout=30)
        started = time.perf_counter()
        if args.processes:
            workers = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "push", "worker", "--until-idle"],
                                        cwd=REPO, env=env) for _ in range(args.processes)]
            for w in workers:
                w.wait()
        else:
            Worker(app, client, WorkerSettings.from_config(app.config), worker_id="bench").run(until_idle=True)
        elapsed = time.perf_counter() - started

        with app.app_context():
            states = dict(db.session().execute(
                select(OutboxRecord.status, func.count()).group_by(OutboxRecord.status)).all())
            keys = set(db.session().scalars(select(OutboxRecord.idempotency_key)))
        held = [r["idempotency_key"] for r in client.list_records(page_size=10_000)]
        client.close()
        lost = len(keys - set(held))
        duplicated = len(held) - len(set(held))
        rate = n / elapsed
        print(f"drained {n:,} records in {elapsed:.2f} s with {args.processes or 1} worker(s), batch {args.batch_size}")
        print(f"throughput: {rate:,.0f} records/s  (target {TARGET_PER_SECOND:,}/s: {rate / TARGET_PER_SECOND:.2f}x)")
        print(f"outbox: {json.dumps(states)}; platform holds {len(held):,}; lost {lost}; duplicated {duplicated}")
        ok = states == {"sent": n} and lost == 0 and duplicated == 0 and len(held) == n
        print("OK" if ok else "FAILED: records lost or duplicated")
        return 0 if ok else 1
    finally:
        sim.terminate()
        sim.wait(10)


if __name__ == "__main__":
    sys.exit(main())
