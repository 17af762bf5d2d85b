"""Write-behind scan recording (opt-in: ``SCAN_WRITE_BEHIND_MS`` > 0).

With it, a scan's rows are not written on the request path: each process queues them and a
background thread writes them every few milliseconds in one transaction (a multi-row insert
of scans and one counter upsert per label).  The scan count a response shows is the committed
count plus this process's queued scans.  The trade-off, documented in README: a process killed
with SIGKILL loses the scans queued in its last interval (a graceful stop writes them first).
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import threading
from typing import Any

from sqlalchemy import Engine, bindparam, text

from verify_service.models import UTCDateTime

log = logging.getLogger(__name__)

_ADD_SCANS = text("""
    INSERT INTO scans (serial, batch_id, at, verdict, channel, network, user_agent, latitude, longitude, region)
    VALUES (:serial, :batch_id, :at, :verdict, :channel, :network, :user_agent, :latitude, :longitude, :region)
""").bindparams(bindparam("at", type_=UTCDateTime))

_ADD_COUNTS = text("""
    INSERT INTO labels (serial, batch_id, scan_count, first_scan_at, last_scan_at, pin_use_count, pin_failures)
    VALUES (:serial, :batch_id, :n, :first, :last, 0, 0)
    ON CONFLICT (serial) DO UPDATE SET
        scan_count = labels.scan_count + excluded.scan_count,
        last_scan_at = excluded.last_scan_at,
        first_scan_at = COALESCE(labels.first_scan_at, excluded.first_scan_at)
""").bindparams(bindparam("first", type_=UTCDateTime), bindparam("last", type_=UTCDateTime))


class ScanBuffer:
    """Queued scans of one process for one database."""

    def __init__(self, engine: Engine, interval_ms: float) -> None:
        self.engine = engine
        self.interval = interval_ms / 1000
        self.lock = threading.Lock()
        self.rows: list[dict[str, Any]] = []
        #: serial -> [queued scans, first queued time, batch id]
        self.pending: dict[int, list[Any]] = {}
        #: bumped after each committed flush, so readers can tell their two reads straddled one
        self.generation = 0
        self.wake = threading.Event()
        self.stopped = False
        self.thread = threading.Thread(target=self._run, name="scan-writer", daemon=True)
        self.thread.start()
        atexit.register(self.close)

    def add(self, row: dict[str, Any]) -> tuple[int, dt.datetime | None]:
        """Queue a scan; returns this process's queued count for the label (this one included)
        and its first queued time."""
        with self.lock:
            self.rows.append(row)
            serial = row["serial"]
            if row["batch_id"] is None or serial is None:
                return 0, None
            entry = self.pending.get(serial)
            if entry is None:
                entry = self.pending[serial] = [0, row["at"], row["batch_id"]]
            entry[0] += 1
            if len(self.rows) >= 500:
                self.wake.set()
            return entry[0], entry[1]

    def queued(self, serial: int) -> tuple[int, int]:
        """(generation, queued scans of ``serial``)."""
        with self.lock:
            entry = self.pending.get(serial)
            return self.generation, entry[0] if entry else 0

    def flush(self) -> int:
        with self.lock:
            rows, self.rows = self.rows, []
            counts = {s: list(e) for s, e in self.pending.items()}
        if not rows:
            return 0
        last: dict[int, dt.datetime] = {}
        for r in rows:
            if r["serial"] is not None and r["batch_id"] is not None:
                last[r["serial"]] = max(last.get(r["serial"], r["at"]), r["at"])
        try:
            with self.engine.begin() as conn:
                conn.execute(_ADD_SCANS, rows)
                if counts:
                    conn.execute(_ADD_COUNTS, [
                        {"serial": s, "batch_id": e[2], "n": e[0], "first": e[1], "last": last.get(s, e[1])}
                        for s, e in counts.items()])
        except Exception:
            log.exception("writing %d queued scans failed; they are queued again", len(rows))
            with self.lock:
                self.rows = rows + self.rows
            return 0
        with self.lock:
            for s, e in counts.items():
                entry = self.pending.get(s)
                if entry is None:
                    continue
                entry[0] -= e[0]
                if entry[0] <= 0:
                    del self.pending[s]
                else:
                    entry[1] = None  # the first scan is committed now
            self.generation += 1
        return len(rows)

    def _run(self) -> None:
        while not self.stopped:
            self.wake.wait(self.interval)
            self.wake.clear()
            self.flush()

    def close(self) -> None:
        if not self.stopped:
            self.stopped = True
            self.wake.set()
            self.thread.join(timeout=10)
            self.flush()


_buffers: dict[str, ScanBuffer] = {}
_buffers_lock = threading.Lock()


def buffer_for(url: str, engine: Engine, interval_ms: float) -> ScanBuffer:
    buf = _buffers.get(url)
    if buf is None:
        with _buffers_lock:
            buf = _buffers.get(url)
            if buf is None:
                buf = _buffers[url] = ScanBuffer(engine, interval_ms)
    return buf


def flush_all() -> None:
    for buf in list(_buffers.values()):
        buf.flush()


def close_all() -> None:
    for buf in list(_buffers.values()):
        buf.close()
    _buffers.clear()
