"""Group commit of scans: every answered scan is committed, counts are exact under concurrency,
and a failed commit is a clear 503 with nothing half-written."""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import pytest
from sqlalchemy import func, select

from verify_service.data import scan_writer
from verify_service.db import database, session
from verify_service.models import Label, Scan


def _urls(holder: Any, order: Callable[..., Any], client: Any, n: int) -> list[str]:
    b = order(holder, n).json
    r = client.get(f"/api/v1/enterprise/label-batches/{b['id']}/manifest.csv", headers=holder.headers)
    return [row["url"] for row in csv.DictReader(io.StringIO(r.get_data(as_text=True)))]


def _warm(client: Any, url: str) -> None:
    """One scan first: the request that loads the key ring reads through its session, and a
    request whose transaction has begun records its scan in that transaction, not the writer."""
    assert client.get("/api/v1/verify", query_string={"code": url}).status_code == 200


def _stored(run: Callable[..., Any]) -> tuple[int, int]:
    """(scan rows, sum of the labels' scan counters)."""
    return run(lambda: (session().scalar(select(func.count()).select_from(Scan)),
                        session().scalar(select(func.coalesce(func.sum(Label.scan_count), 0)))))


def test_concurrent_scans_of_one_label_get_distinct_counts(app: Any, holder: Any, order: Callable[..., Any],
                                                          client: Any, run: Callable[..., Any]) -> None:
    url = _urls(holder, order, client, 1)[0]

    def scan(_: int) -> tuple[int, str]:
        with app.test_client() as c:
            v = c.get("/api/v1/verify", query_string={"code": url}).json
            return v["scans"]["count"], v["scans"]["first_at"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(scan, range(40)))
    assert sorted(n for n, _ in results) == list(range(1, 41))  # each scan saw its own place
    assert len({first for _, first in results}) == 1
    assert _stored(run) == (40, 40)


def test_many_labels_in_one_group(app: Any, holder: Any, order: Callable[..., Any], client: Any,
                                  run: Callable[..., Any]) -> None:
    urls = _urls(holder, order, client, 12)

    def scan(u: str) -> int:
        with app.test_client() as c:
            return int(c.get("/api/v1/verify", query_string={"code": u}).json["scans"]["count"])

    with ThreadPoolExecutor(max_workers=6) as pool:
        first = list(pool.map(scan, urls))
        second = list(pool.map(scan, urls))
    assert first == [1] * 12 and second == [2] * 12
    assert _stored(run) == (24, 24)
    # junk is recorded too, without a label row
    assert client.get("/api/v1/verify", query_string={"code": "12345"}).json["verdict"] == "malformed"
    assert _stored(run) == (25, 24)


def test_writer_rows_read_back_like_orm_rows(app: Any, holder: Any, order: Callable[..., Any], client: Any,
                                             run: Callable[..., Any], clock: Any) -> None:
    url = _urls(holder, order, client, 1)[0]
    v = client.get("/api/v1/verify", query_string={"code": url, "lat": "31.234", "lon": "121.47", "region": "31"},
                   headers={"User-Agent": "Mozilla/5.0 (iPhone) MicroMessenger/8.0"},
                   environ_base={"REMOTE_ADDR": "203.0.113.77"}).json
    assert v["scans"] == {"count": 1, "first_at": clock.now().isoformat()}
    scan = run(lambda: session().scalars(select(Scan)).one())
    assert (scan.at, scan.verdict, scan.channel, scan.network, scan.user_agent, scan.region) == (
        clock.now(), "authentic", "api", "203.0.113.0/24", "wechat", "31")
    assert (float(scan.latitude), float(scan.longitude)) == (31.2, 121.5)
    label = run(lambda: session().get(Label, v["serial"]))
    assert (label.scan_count, label.first_scan_at, label.last_scan_at) == (1, clock.now(), clock.now())


def test_failed_commit_is_a_503_and_writes_nothing(app: Any, holder: Any, order: Callable[..., Any], client: Any,
                                                   run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    url, other = _urls(holder, order, client, 2)
    _warm(client, other)
    real = scan_writer.ScanWriter._write

    def broken(self: Any, conn: Any, rows: list[dict[str, Any]]) -> Any:
        raise RuntimeError("disk full")

    monkeypatch.setattr(scan_writer.ScanWriter, "_write", broken)
    r = client.get("/api/v1/verify", query_string={"code": url})
    assert r.status_code == 503 and r.json["error"]["code"] == "scan_not_recorded"
    page = client.get("/L/" + url.split("/L/")[1], headers={"Accept": "text/html"})
    assert page.status_code == 503
    assert _stored(run) == (1, 1)  # the warm-up scan only
    monkeypatch.setattr(scan_writer.ScanWriter, "_write", real)
    assert client.get("/api/v1/verify", query_string={"code": url}).json["scans"]["count"] == 1


def test_a_scan_that_waits_too_long_is_a_503_and_is_withdrawn(
        app: Any, holder: Any, order: Callable[..., Any], client: Any, run: Callable[..., Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    url, other = _urls(holder, order, client, 2)
    _warm(client, other)
    monkeypatch.setattr(scan_writer, "WAIT_SECONDS", 0.1)
    with app.app_context():
        writer = database().helpers["scan_writer"]
    with writer.lock:
        writer.writing = True  # another group's commit that does not end
    try:
        r = client.get("/api/v1/verify", query_string={"code": url})
    finally:
        with writer.lock:
            writer.writing = False
    assert r.status_code == 503 and r.json["error"]["code"] == "scan_not_recorded"
    # the next scan is committed alone: the one given up on was withdrawn, not written later
    assert client.get("/api/v1/verify", query_string={"code": url}).json["scans"]["count"] == 1
    assert _stored(run) == (2, 2)


def test_every_answered_scan_is_committed_across_gunicorn_workers(
        app: Any, holder: Any, order: Callable[..., Any], client: Any, run: Callable[..., Any],
        database_url: str, app_config: dict[str, Any]) -> None:
    from tests.e2e.conftest import start_gunicorn, stop

    urls = _urls(holder, order, client, 30)
    server = start_gunicorn(database_url, app_config, workers=2)
    counts: dict[str, list[int]] = {u: [] for u in urls}
    lock = threading.Lock()
    try:
        def hit(chunk: list[str]) -> None:
            for u in chunk:
                with urllib.request.urlopen(server.url + "/api/v1/verify?code=" + u.split("/L/")[1], timeout=30) as r:
                    assert r.status == 200
                    import json

                    n = json.loads(r.read())["scans"]["count"]
                with lock:
                    counts[u].append(n)

        threads = [threading.Thread(target=hit, args=(urls * 2,)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        stop(server)
    assert _stored(run) == (240, 240)
    assert all(sorted(c) == list(range(1, 9)) for c in counts.values())


def _reading_the_log(database_url: str) -> Any:
    """A SQLite connection in the middle of a read that uses the write-ahead log."""
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's write-ahead log")
    import sqlite3

    from sqlalchemy.engine import make_url

    reader = sqlite3.connect(make_url(database_url).database, isolation_level=None, check_same_thread=False)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM scans").fetchone()
    return reader


def _own_connection(app: Any) -> Any:
    from verify_service.db import driver_connection

    with app.app_context():
        return driver_connection(database().engine)


def test_sqlite_checkpoint_has_the_log_start_over_despite_readers(
        app: Any, holder: Any, order: Callable[..., Any], client: Any, database_url: str) -> None:
    urls = _urls(holder, order, client, 40)
    reader = _reading_the_log(database_url)
    for u in urls:
        assert client.get("/api/v1/verify", query_string={"code": u}).status_code == 200
    conn = _own_connection(app)
    leaves = threading.Timer(0.05, reader.rollback)  # scan reads are short: it leaves soon
    leaves.start()
    try:
        scan_writer._checkpoint(conn)  # copies what it can, then waits for the reader
        assert client.get("/api/v1/verify", query_string={"code": urls[0]}).json["scans"]["count"] == 2
        busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        leaves.join()
        reader.close()
        conn.close()
    # the last scan's transaction began the log again: it holds only that transaction's pages
    assert 0 < frames < 20 and (busy, copied) == (0, frames)


def test_sqlite_checkpoint_gives_up_on_a_long_reader(app: Any, holder: Any, order: Callable[..., Any],
                                                     client: Any, database_url: str) -> None:
    import time

    url = _urls(holder, order, client, 1)[0]
    reader = _reading_the_log(database_url)  # a backup, say: it stays
    assert client.get("/api/v1/verify", query_string={"code": url}).status_code == 200
    conn = _own_connection(app)
    try:
        started = time.monotonic()
        scan_writer._checkpoint(conn)
        held = time.monotonic() - started
        assert client.get("/api/v1/verify", query_string={"code": url}).json["scans"]["count"] == 2
    finally:
        reader.rollback()
        reader.close()
        conn.close()
    assert held < scan_writer.RESTART_WAIT_MS / 1000 + 1.0  # not the 30 s busy timeout


def test_a_group_is_answered_when_it_is_written_not_after_the_next_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests whose group is written answer at once, even though the group that gathered
    meanwhile is already being written by one of its own requests."""
    import time

    from sqlalchemy import create_engine

    writer = scan_writer.ScanWriter(create_engine("sqlite://"))
    writer.conn = object()  # _write is replaced below: no connection is used
    writer.checkpointed = float("inf")
    written: list[list[Any]] = []

    def slow_write(conn: Any, rows: list[Any]) -> list[Any]:
        time.sleep(0.4)
        written.append([r["n"] for r in rows])
        return [(r["n"], dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)) for r in rows]

    monkeypatch.setattr(writer, "_write", slow_write)
    started = time.monotonic()
    answered: dict[int, tuple[Any, float]] = {}

    def record(n: int) -> None:
        answered[n] = (writer.record({"n": n}), time.monotonic() - started)

    with writer.lock:
        writer.writing = True  # a write in progress: 1 and 2 gather in one group
    first = [threading.Thread(target=record, args=(n,)) for n in (1, 2)]
    for t in first:
        t.start()
    while len(writer.open.rows) < 2:
        time.sleep(0.01)
    with writer.lock:  # that write ends: one of 1 and 2 is handed the turn
        writer.writing = False
        writer.open.ready.notify()
    while not writer.writing:
        time.sleep(0.01)
    late = threading.Thread(target=record, args=(3,))  # gathers while 1 and 2 are written
    late.start()
    for t in [*first, late]:
        t.join(timeout=5)
    assert sorted(map(sorted, written)) == [[1, 2], [3]]
    assert {n: a[0][0] for n, a in answered.items()} == {1: 1, 2: 2, 3: 3}
    assert answered[3][1] >= 0.8  # two writes of 0.4 s, one after the other
    # 1 and 2 answered as their write ended, not held up by the write of 3
    assert answered[1][1] < answered[3][1] - 0.25 and answered[2][1] < answered[3][1] - 0.25


def test_a_scan_whose_group_is_being_written_waits_for_the_outcome(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the wait, a scan already taken into a write may still land: answering 503 would
    have the consumer scan again and count it twice, so it waits for the write (once more)."""
    import time

    from sqlalchemy import create_engine

    monkeypatch.setattr(scan_writer, "WAIT_SECONDS", 0.2)
    writer = scan_writer.ScanWriter(create_engine("sqlite://"))
    writer.conn = object()
    writer.checkpointed = float("inf")

    def slow_write(conn: Any, rows: list[Any]) -> list[Any]:
        time.sleep(0.3)  # longer than one wait, shorter than two
        return [(r["n"], dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)) for r in rows]

    monkeypatch.setattr(writer, "_write", slow_write)
    results: dict[int, Any] = {}

    def record(n: int) -> None:
        try:
            results[n] = writer.record({"n": n})
        except scan_writer.ScanNotRecorded as exc:
            results[n] = exc

    with writer.lock:
        writer.writing = True  # 1 and 2 gather in one group
    threads = [threading.Thread(target=record, args=(n,)) for n in (1, 2)]
    for t in threads:
        t.start()
    while len(writer.open.rows) < 2:
        time.sleep(0.01)
    with writer.lock:
        writer.writing = False
        writer.open.ready.notify()  # one of them writes the group; the other waits past 0.2 s
    for t in threads:
        t.join(timeout=5)
    assert {n: r[0] for n, r in results.items()} == {1: 1, 2: 2}
