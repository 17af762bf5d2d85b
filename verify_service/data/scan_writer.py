"""Group commit of scans: every scan is committed before its response, many per transaction.

A scan writes two rows (the scan, and its label's counters).  Committing them in each
request's own transaction makes every scan pay for a BEGIN, a COMMIT (a WAL flush on
PostgreSQL) and, on SQLite, a turn at the database's single write lock, held while the
request's thread also competes for the interpreter lock.  Instead, scans share commits:
a request thread adds its scan to the process's open group.  If no group is being written
it takes the open group and writes every scan in it in one transaction (a multi-row insert,
one counter upsert per label that returns the new counts); otherwise it sleeps on its
group.  A writer that has committed wakes its group's requests, which answer at once, and
one request of the group that gathered meanwhile, which writes that one.  Nothing waits on
a timer and no thread is woken only to find its work done: at low load a group is a single
scan and at high load the commits are shared.  A group holds at most one scan per request
thread of the process, since each thread waits for its own.

A response still reports only a committed scan, and a crash loses nothing that was answered.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import Any

from sqlalchemy import Engine

from verify_service.db import driver_connection

log = logging.getLogger(__name__)

#: How long a request waits for its group's commit before it gives up (a scan not yet taken
#: is withdrawn; for one already being written it waits as long again for the outcome).
WAIT_SECONDS = 20.0
#: SQLite: how often the writer has the write-ahead log copied back into the database.
CHECKPOINT_SECONDS = 1.0
#: SQLite: how long a checkpoint holds the writers up waiting for readers to leave the log.
RESTART_WAIT_MS = 200

SCAN_COLUMNS = ("serial", "batch_id", "at", "verdict", "channel", "network", "user_agent", "latitude", "longitude",
                 "region")
INSERT_SCANS = "INSERT INTO scans (" + ", ".join(SCAN_COLUMNS) + ") VALUES "
UPSERT_COUNTS = """
    INSERT INTO labels (serial, batch_id, scan_count, first_scan_at, last_scan_at, pin_use_count, pin_failures)
    VALUES {values}
    ON CONFLICT (serial) DO UPDATE SET
        scan_count = labels.scan_count + excluded.scan_count,
        last_scan_at = excluded.last_scan_at,
        first_scan_at = COALESCE(labels.first_scan_at, excluded.first_scan_at)
    RETURNING serial, scan_count, first_scan_at
"""
_UTC = dt.timezone.utc


class ScanNotRecorded(Exception):
    """The scan could not be committed (the database failed or did not answer in time)."""


class _Group:
    """Scans that share one transaction, and what each of them learnt from it."""

    __slots__ = ("rows", "written", "counts", "error", "ready")

    def __init__(self, lock: threading.Lock) -> None:
        #: a row withdrawn by a request that stopped waiting is None
        self.rows: list[dict[str, Any] | None] = []
        self.written = False
        #: per row: (scan count, first scan time) of a genuine label, else None
        self.counts: list[tuple[int, dt.datetime] | None] = []
        self.error: BaseException | None = None
        #: signalled when the group is written, or when one of its scans may write it
        self.ready = threading.Condition(lock)


class ScanWriter:
    """The group-commit writer of one process for one database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        #: guards ``open`` and ``writing``; the groups' conditions wait on it
        self.lock = threading.Lock()
        self.open = _Group(self.lock)
        #: a group is being written, on ``conn`` (one at a time)
        self.writing = False
        self.conn: Any = None
        self.checkpointed = time.monotonic()
        self.checkpointing = threading.Lock()

    def record(self, row: dict[str, Any]) -> tuple[int, dt.datetime] | None:
        """Commit one scan row; returns its label's (scan count, first scan time) as of that
        commit (this scan included), or None for a scan of no genuine label.

        The row joins the open group. If no group is being written, this request takes the
        open group and writes it; otherwise it sleeps until its group is written, or until
        the writer hands the turn to its group (one of the group's requests is woken to
        write it). So a request is woken once, not once per group written before its own.
        """
        deadline, extended = time.monotonic() + WAIT_SECONDS, False
        with self.lock:
            group = self.open
            index = len(group.rows)
            group.rows.append(row)
            while not group.written:
                if not self.writing:
                    # Groups are taken only by a writer and marked written before the next
                    # one starts, so an unwritten group with nobody writing is the open one.
                    self.open = _Group(self.lock)
                    self.writing = True
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not group.ready.wait(remaining):
                    if group.written:
                        break
                    if self.open is not group and not extended:
                        # Taken: its write is under way and the scan may land. Answering now
                        # would have the consumer scan again and count it twice; wait for the
                        # write's outcome, up to as long again.
                        deadline, extended = time.monotonic() + WAIT_SECONDS, True
                        continue
                    if self.open is group:  # not taken yet: withdraw it, so that nothing lands
                        group.rows[index] = None
                        if not self.writing:
                            group.ready.notify()  # had the turn just been handed to this one
                    raise ScanNotRecorded(f"the scan was not committed within {WAIT_SECONDS:g} s")
        if not group.written:
            self._commit(group)
        if group.error is not None:
            raise ScanNotRecorded(str(group.error)) from group.error
        return group.counts[index]

    def _commit(self, group: _Group) -> None:
        """Write ``group`` in one transaction, mark it written and hand the turn on."""
        counts: list[tuple[int, dt.datetime] | None] = []
        try:
            if self.conn is None:
                self.conn = self._connect()
            counts = self._write(self.conn, group.rows)
        except BaseException as exc:  # noqa: BLE001 - every scan of the group must hear how it ended
            log.exception("committing %d scans failed", len(group.rows))
            group.error = exc
            self.conn = _close(self.conn)  # a fresh connection for the next group
        finally:
            with self.lock:
                group.counts, group.written = counts, True
                self.writing = False
                group.ready.notify_all()
                self.open.ready.notify()  # one scan of the next group writes it
        if self.sqlite and time.monotonic() - self.checkpointed >= CHECKPOINT_SECONDS:
            self.checkpointed = time.monotonic()
            self._checkpoint_in_background()

    def _connect(self) -> Any:
        """The writer's own driver connection (the engine's connect settings applied)."""
        conn = driver_connection(self.engine)
        if self.sqlite:
            # SQLite would otherwise copy the log back into the database (and fsync it) inside
            # the COMMIT that crosses 1,000 pages, holding the write lock and every waiting
            # scan for that long; _checkpoint_in_background does it beside the writers.
            conn.execute("PRAGMA wal_autocheckpoint=0")
        else:
            conn.autocommit = True
        return conn

    def _checkpoint_in_background(self) -> None:
        if not self.checkpointing.acquire(blocking=False):
            return  # the last one is still running

        def checkpoint() -> None:
            conn = None
            try:
                conn = driver_connection(self.engine)
                _checkpoint(conn)
            except Exception:  # noqa: BLE001 - the next one retries; SQLite checkpoints on close too
                log.warning("WAL checkpoint failed", exc_info=True)
            finally:
                _close(conn)
                self.checkpointing.release()

        try:
            threading.Thread(target=checkpoint, name="scan-checkpoint", daemon=True).start()
        except RuntimeError:  # no thread to be had: the scans are committed, the next group retries
            self.checkpointing.release()
            log.warning("could not start a WAL checkpoint", exc_info=True)

    def _write(self, conn: Any, group_rows: list[dict[str, Any] | None]) -> list[tuple[int, dt.datetime] | None]:
        rows = [r for r in group_rows if r is not None]
        if not rows:
            return [None] * len(group_rows)
        labelled: dict[int, list[Any]] = {}  # serial -> [scans in this group, batch id, first, last]
        for r in rows:
            if r["serial"] is not None and r["batch_id"] is not None:
                entry = labelled.get(r["serial"])
                if entry is None:
                    labelled[r["serial"]] = [1, r["batch_id"], r["at"], r["at"]]
                else:
                    entry[0] += 1
                    entry[2], entry[3] = min(entry[2], r["at"]), max(entry[3], r["at"])
        scans = [tuple(r[c] for c in SCAN_COLUMNS) for r in rows]
        counters = [(s, e[1], e[0], e[2], e[3]) for s, e in labelled.items()]
        returned = self._write_sqlite(conn, scans, counters) if self.sqlite else _write_postgresql(conn, scans, counters)
        committed = {int(s): (int(n), utc_moment(first)) for s, n, first in returned}
        # The k-th of a label's n scans in this group is its (total - n + k)-th scan.
        seen: dict[int, int] = {}
        counts: list[tuple[int, dt.datetime] | None] = []
        for r in group_rows:
            s = r["serial"] if r is not None else None
            if r is None or s is None or r["batch_id"] is None:
                counts.append(None)
                continue
            k = seen[s] = seen.get(s, 0) + 1
            total, first = committed[s]
            counts.append((total - labelled[s][0] + k, first))
        return counts

    def _write_sqlite(self, conn: Any, scans: list[tuple[Any, ...]],
                      counters: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """One write transaction; the write lock is queued for like every other writer's (db.py)."""
        scans = [s[:2] + (sqlite_time(s[2]),) + s[3:7] + (_float(s[7]), _float(s[8]), s[9]) for s in scans]
        acquire = getattr(conn, "acquire_write_lock", None)
        if acquire is not None:
            acquire()
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(INSERT_SCANS + "(" + ", ".join("?" * len(SCAN_COLUMNS)) + ")", scans)
            returned = []
            if counters:
                sql = UPSERT_COUNTS.format(values=", ".join(["(?, ?, ?, ?, ?, 0, 0)"] * len(counters)))
                params = [v for s, b, n, first, last in counters for v in (s, b, n, sqlite_time(first), sqlite_time(last))]
                returned = conn.execute(sql, params).fetchall()
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        return returned


def _checkpoint(conn: Any) -> None:
    """Copy the write-ahead log back into the database, and have the log start over.

    A PASSIVE checkpoint copies what it can beside the writers, but under steady load the log
    never starts over: some reader is always using it, so it grows without bound and every
    read searches a larger index of it.  After the bulk is copied, a RESTART checkpoint copies
    the few frames written since and waits (through the busy handler, a few milliseconds:
    scan reads are short) until no reader uses the log, so that the next write begins it
    again.  It holds the writers' lock meanwhile, so writers queue on the lock file instead
    of polling the busy handler; a reader that stays longer (a backup, say) makes it give up
    after ``RESTART_WAIT_MS`` rather than hold every scan up.
    """
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    acquire = getattr(conn, "acquire_write_lock", None)
    if acquire is None:
        return
    conn.execute(f"PRAGMA busy_timeout={RESTART_WAIT_MS}")
    acquire()
    try:
        conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
    finally:
        conn.release_write_lock()


def _write_postgresql(conn: Any, scans: list[tuple[Any, ...]], counters: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """One statement, so one round trip and its own transaction: the scans are inserted by a
    data-modifying WITH clause of the counters' upsert."""
    row = "(" + ", ".join(["%s"] * len(SCAN_COLUMNS)) + ")"
    insert = INSERT_SCANS + ", ".join([row] * len(scans))
    params = [v for s in scans for v in s]
    with conn.cursor() as cursor:
        if not counters:
            cursor.execute(insert, params)
            return []
        sql = "WITH added AS (" + insert + ") " + UPSERT_COUNTS.format(
            values=", ".join(["(%s, %s, %s, %s, %s, 0, 0)"] * len(counters)))
        cursor.execute(sql, params + [v for c in counters for v in c])
        return list(cursor.fetchall())


def sqlite_time(moment: dt.datetime) -> str:
    """The text form SQLAlchemy stores SQLite datetimes in (UTC, naive, microseconds)."""
    return moment.astimezone(_UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def utc_moment(value: Any) -> dt.datetime:
    """A datetime as a driver returns it (SQLite's text, PostgreSQL's aware value) in UTC."""
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    return moment.replace(tzinfo=_UTC) if moment.tzinfo is None else moment.astimezone(_UTC)


def _close(conn: Any) -> None:
    if conn is not None:
        try:
            conn.close()
        except Exception:  # noqa: BLE001 - it is being thrown away
            pass
    return None
