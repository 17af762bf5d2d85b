"""The scan hot path: few round trips, Core statements, a per-process cache of what never changes.

A batch's range, key, certificate, product and enterprise never change once issued, so each
process keeps the batches it has seen in a sorted list (binary search by serial).  What can
change — the batch's and the label's void state, the certificate's status and validity, scan
counters, PIN use, an alert — is read live in one statement per scan.  Display fields (names)
are refreshed after ``DISPLAY_TTL_SECONDS``.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import logging
import re
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterator, NamedTuple

from flask import current_app
from sqlalchemy import BigInteger, Boolean, Date, Integer, Numeric, String, bindparam, column, text

from verify_service.data import scan_writer
from verify_service.db import database, driver_connection, in_transaction, read, session
from verify_service.models import UTCDateTime

log = logging.getLogger(__name__)

DISPLAY_TTL_SECONDS = 60.0
MAX_CACHED_BATCHES = 200_000
PRELOAD_MAX_BATCHES = 100_000


@dataclass(frozen=True)
class BatchInfo:
    id: int
    first_serial: int
    last_serial: int
    key_id: int
    created_at: dt.datetime
    pins: bool
    sales_region: str | None
    shelf_life_days: int | None
    release_date: dt.date | None
    certificate_id: int
    product_id: int
    enterprise_id: int
    certificate_number: str
    programme: str
    issuer: str | None
    valid_from: dt.date
    product_name: str
    trademark: str | None
    product_class: str | None
    enterprise_name: str
    enterprise_uscc: str
    gf_code: str | None
    county_code: str
    loaded_at: float


@dataclass(frozen=True)
class LiveState:
    batch_voided_at: dt.datetime | None
    batch_void_reason: str | None
    certificate_status: str
    valid_to: dt.date | None
    label_exists: bool
    scan_count: int
    first_scan_at: dt.datetime | None
    label_voided_at: dt.datetime | None
    label_void_reason: str | None
    pin_use_count: int
    pin_used_at: dt.datetime | None
    alert_id: int | None
    alert_status: str | None
    alert_updated_at: dt.datetime | None


# Hand-written SQL (valid on SQLite and PostgreSQL): the scan path runs these thousands of
# times a second, and text statements skip SQLAlchemy's statement compilation and caching.
_BATCH_SELECT = """
    SELECT b.id, b.first_serial, b.last_serial, b.key_id, b.created_at, b.pins, b.sales_region,
           b.shelf_life_days, b.release_date, b.certificate_id, b.product_id, b.enterprise_id,
           c.number, c.programme, c.issuer, c.valid_from, p.name, p.trademark, p.product_class,
           e.name, e.uscc, e.gf_code, e.county_code
    FROM label_batches b
    JOIN certificates c ON c.id = b.certificate_id
    JOIN products p ON p.id = b.product_id
    JOIN enterprises e ON e.id = b.enterprise_id
"""
_BATCH_COLUMNS = (
    column("id", Integer), column("first_serial", BigInteger), column("last_serial", BigInteger),
    column("key_id", Integer), column("created_at", UTCDateTime), column("pins", Boolean),
    column("sales_region", String), column("shelf_life_days", Integer), column("release_date", Date),
    column("certificate_id", Integer), column("product_id", Integer), column("enterprise_id", Integer),
    column("number", String), column("programme", String), column("issuer", String), column("valid_from", Date),
    column("product_name", String), column("trademark", String), column("product_class", String),
    column("enterprise_name", String), column("uscc", String), column("gf_code", String),
    column("county_code", String),
)
_BATCH_FOR_SERIAL = text(_BATCH_SELECT + " WHERE b.first_serial <= :serial ORDER BY b.first_serial DESC LIMIT 1"
                         ).columns(*_BATCH_COLUMNS)
_ALL_BATCHES = text(_BATCH_SELECT + " ORDER BY b.first_serial").columns(*_BATCH_COLUMNS)

_LIVE_STATE = text("""
    SELECT b.voided_at, b.void_reason, c.status, c.valid_to,
           l.serial, l.scan_count, l.first_scan_at, l.voided_at, l.void_reason, l.pin_use_count, l.pin_used_at,
           a.id, a.status, a.updated_at
    FROM label_batches b
    JOIN certificates c ON c.id = b.certificate_id
    LEFT JOIN labels l ON l.serial = :serial
    LEFT JOIN alerts a ON a.serial = :serial
    WHERE b.id = :batch_id
""").columns(
    column("batch_voided_at", UTCDateTime), column("batch_void_reason", String), column("status", String),
    column("valid_to", Date), column("label_serial", BigInteger), column("scan_count", Integer),
    column("first_scan_at", UTCDateTime), column("label_voided_at", UTCDateTime), column("label_void_reason", String),
    column("pin_use_count", Integer), column("pin_used_at", UTCDateTime), column("alert_id", Integer),
    column("alert_status", String), column("alert_updated_at", UTCDateTime),
)

# The writer's statements, with named parameters, for a scan recorded in the request's own transaction.
_COUNT_SCAN = text(scan_writer.UPSERT_COUNTS.format(values="(:serial, :batch_id, 1, :at, :at, 0, 0)")).bindparams(
    bindparam("at", type_=UTCDateTime)).columns(
    column("serial", BigInteger), column("scan_count", Integer), column("first_scan_at", UTCDateTime))

_ADD_SCAN = text(scan_writer.INSERT_SCANS + "(" + ", ".join(":" + c for c in scan_writer.SCAN_COLUMNS) + ")").bindparams(
    bindparam("at", type_=UTCDateTime), bindparam("latitude", type_=Numeric(6, 2)),
    bindparam("longitude", type_=Numeric(6, 2)))


_RECENT_SCANS = text("""
    SELECT at, network, user_agent, latitude, longitude, region FROM scans
    WHERE serial = :serial AND at >= :since AND batch_id IS NOT NULL
    ORDER BY at DESC LIMIT :limit
""").bindparams(bindparam("since", type_=UTCDateTime)).columns(
    column("at", UTCDateTime), column("network", String), column("user_agent", String),
    column("latitude", Numeric(6, 2)), column("longitude", Numeric(6, 2)), column("region", String))


_STATUS_EVENT = text("""
    SELECT at, reason FROM certificate_status_events
    WHERE certificate_id = :certificate_id ORDER BY id DESC LIMIT 1
""").columns(column("at", UTCDateTime), column("reason", String))


class RecentScan(NamedTuple):
    at: dt.datetime
    network: str | None
    user_agent: str | None
    latitude: Decimal | None
    longitude: Decimal | None
    region: str | None


def recent_scans(serial: int, since: dt.datetime, limit: int = 300) -> list[RecentScan]:
    """Genuine-label scans of ``serial`` since a time (the newest ``limit``)."""
    params = {"serial": serial, "since": since, "limit": limit}
    if in_transaction():
        return [RecentScan(*r) for r in read(_RECENT_SCANS, params)]
    if database().is_sqlite:  # compared as the text SQLAlchemy stores SQLite times in
        params["since"] = scan_writer.sqlite_time(since)
    return [RecentScan(*r) for r in _raw_rows(_RECENT_SCANS, _RECENT_TYPES, params)]


def record_scan(row: dict[str, Any]) -> tuple[int, dt.datetime] | None:
    """Commit one scan row; returns its label's (scan count, first scan time) with this scan
    counted, or None when the scan is of no genuine label.

    Normally the process's group-commit writer commits it (see scan_writer).  A request that
    has already begun its own transaction (it raised an alert, used a PIN, or read through its
    session) records the scan in that transaction instead: on SQLite that transaction holds the
    write lock the writer would wait for, and the scan belongs with what the request writes.
    """
    if in_transaction():
        conn = session().connection()
        conn.execute(_ADD_SCAN, row)
        if row["serial"] is None or row["batch_id"] is None:
            return None
        _, count, first = conn.execute(_COUNT_SCAN, {"serial": row["serial"], "batch_id": row["batch_id"],
                                                  "at": row["at"]}).one()
        return int(count), first
    db = database()
    writer = db.helpers.get("scan_writer")
    if writer is None:
        writer = db.helpers.setdefault("scan_writer", scan_writer.ScanWriter(db.engine))
    return writer.record(row)


class _Index:
    """Batches seen by this process, sorted by first serial.

    Scans search it without the lock while another thread may be adding a batch, so the
    batch a search picks is checked to hold the serial (a torn read is a miss: one query).
    When the registry has few enough batches (``PRELOAD_MAX_BATCHES``) they are all loaded at
    once (by a new worker's warm-up, else by the first scan), and every ``DISPLAY_TTL_SECONDS``
    a background thread loads them again while the scans go on with the old entries.
    Otherwise each batch is loaded on its first scan, and again on its first scan after
    ``DISPLAY_TTL_SECONDS``.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: tuple[list[int], list[BatchInfo]] = ([], [])
        #: the batches have been counted for a load of them all (warm-up or first scan)
        self.preloaded = False
        #: when every batch was last loaded at once (None: batches are loaded one by one)
        self.complete_at: float | None = None
        self.reloading = threading.Lock()
        #: batch id -> (hash of the row it was built from, batch), as of the last load of all
        self.built: dict[int, tuple[int, BatchInfo]] = {}
        #: the thread of the last reload
        self.reloader: threading.Thread | None = None

    def find(self, serial: int) -> BatchInfo | None:
        firsts, batches = self.entries
        i = bisect.bisect_right(firsts, serial) - 1
        if 0 <= i < len(batches):
            b = batches[i]
            if b.first_serial <= serial <= b.last_serial and (
                    self.complete_at is not None or time.monotonic() - b.loaded_at < DISPLAY_TTL_SECONDS):
                return b
        return None

    def put(self, b: BatchInfo) -> None:
        with self.lock:
            firsts, batches = self.entries
            if len(firsts) >= MAX_CACHED_BATCHES:
                firsts, batches = self.entries = ([], [])
            i = bisect.bisect_left(firsts, b.first_serial)
            if i < len(firsts) and firsts[i] == b.first_serial:
                batches[i] = b
            else:
                firsts.insert(i, b.first_serial)
                batches.insert(i, b)

    def due(self) -> bool:
        """Whether this scan should (re)load every batch first."""
        if self.complete_at is None:
            return not self.preloaded
        return time.monotonic() - self.complete_at >= DISPLAY_TTL_SECONDS


_indexes: dict[str, _Index] = {}


def _index() -> _Index:
    url = database().url
    index = _indexes.get(url)
    if index is None:
        index = _indexes.setdefault(url, _Index())
    return index


def _info(row: Any) -> BatchInfo:
    return BatchInfo(*row, loaded_at=time.monotonic())


_COUNT_BATCHES = text("SELECT count(*) FROM label_batches")


def _load_all(index: _Index) -> None:
    """Load every batch at once when there are few enough (the caller holds ``reloading``).

    A reload reads every batch's row again but builds a new ``BatchInfo`` only for a row
    that differs from the one it was built from (kept as a hash), so that it costs about the
    fetch.
    """
    if not index.due():
        return  # another thread has just done it
    count = int(read(_COUNT_BATCHES)[0][0])  # a failure leaves the first load to the next scan
    index.preloaded = True
    if count > PRELOAD_MAX_BATCHES:
        index.complete_at, index.built = None, {}  # too many (now): one by one, each on its own scan
        return
    loaded = time.monotonic()
    built: dict[int, tuple[int, BatchInfo]] = {}
    for row in _streamed_rows(_ALL_BATCHES):
        digest = hash(row)
        kept = index.built.get(row[0])
        info = kept[1] if kept is not None and kept[0] == digest else _info(_converted(_BATCH_TYPES, row))
        built[info.id] = (digest, info)
    infos = sorted((info for _, info in built.values()), key=lambda b: b.first_serial)
    with index.lock:
        index.entries = ([b.first_serial for b in infos], infos)
        index.built, index.complete_at = built, loaded


def _reload_in_background(index: _Index) -> None:
    """Reload every batch beside the scans: under load a reload's read gives the interpreter
    up on every row and waits to get it back, so no scan should wait for it."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def reload() -> None:
        try:
            with app.app_context():
                try:
                    _load_all(index)
                finally:
                    _drop_reader()  # this thread's reader goes with it
        except Exception:  # noqa: BLE001 - the old entries serve on; the next scan tries again
            log.warning("reloading the batch cache failed", exc_info=True)
        finally:
            index.reloading.release()

    index.reloader = threading.Thread(target=reload, name="batch-cache-reload", daemon=True)
    try:
        index.reloader.start()
    except RuntimeError:  # no thread to be had: the old entries serve on, the next scan tries again
        index.reloading.release()
        log.warning("could not start the batch cache's reload", exc_info=True)


def load_batches() -> None:
    """Fill the batch cache now if the first scan would (a new process warming up)."""
    index = _index()
    if index.complete_at is None and index.due() and index.reloading.acquire(blocking=False):
        try:
            _load_all(index)
        finally:
            index.reloading.release()
            _drop_reader()  # a warming thread serves no scans: it keeps no connection


def batch_for_serial(serial: int) -> BatchInfo | None:
    """The batch holding ``serial`` (cached per process; one indexed query on a miss)."""
    index = _index()
    if index.due() and index.reloading.acquire(blocking=False):
        if index.complete_at is None:  # the first load: this scan waits for it
            try:
                _load_all(index)
            finally:
                index.reloading.release()
        else:
            _reload_in_background(index)
    found = index.find(serial)
    if found is not None:
        return found
    rows = read(_BATCH_FOR_SERIAL, {"serial": serial})
    if not rows or rows[0].last_serial < serial:
        return None
    info = _info(rows[0])
    index.put(info)
    return info


def live_state(batch_id: int, serial: int) -> LiveState:
    """Everything about a genuine label that can change, in one statement."""
    params = {"batch_id": batch_id, "serial": serial}
    rows = _scan_read(_LIVE_STATE, _LIVE_TYPES, params)
    if not rows:
        raise LookupError(f"no batch {batch_id}")
    r = rows[0]
    return LiveState(
        batch_voided_at=r[0], batch_void_reason=r[1], certificate_status=r[2], valid_to=r[3],
        label_exists=r[4] is not None, scan_count=r[5] or 0, first_scan_at=r[6], label_voided_at=r[7],
        label_void_reason=r[8], pin_use_count=r[9] or 0, pin_used_at=r[10], alert_id=r[11], alert_status=r[12],
        alert_updated_at=r[13],
    )


class StatusEvent(NamedTuple):
    at: dt.datetime
    reason: str | None


def latest_status_event(certificate_id: int) -> StatusEvent | None:
    """The certificate's last status change, or None (scans of a suspended or revoked
    certificate's labels show since when and why)."""
    params = {"certificate_id": certificate_id}
    rows = _scan_read(_STATUS_EVENT, _EVENT_TYPES, params)
    return StatusEvent(*rows[0]) if rows else None


# Python types of the driver-level reads' columns (t: UTC datetime, d: date, n: decimal, b: bool;
# s and i are what the driver returns).
_BATCH_TYPES = "i i i i t b s i d i i i s s s d s s s s s s s"
_LIVE_TYPES = "t s s d i i t t s i t i s t"
_RECENT_TYPES = "t s s n n s"
_EVENT_TYPES = "t s"


def _day_of(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


_CONVERTERS = {"t": scan_writer.utc_moment, "d": _day_of, "n": _decimal, "b": bool}


@functools.lru_cache(maxsize=16)
def _converters(types: str) -> tuple[tuple[int, Any], ...]:
    """(column index, converter) of the columns of ``types`` the driver's values need converting in."""
    return tuple((i, _CONVERTERS[k]) for i, k in enumerate(types.split()) if k in _CONVERTERS)


_local = threading.local()


def _reader() -> Any:
    """This thread's own autocommit driver connection for the scan path's reads.

    It is taken out of the pool once and kept, so a scan's read is one round trip: no
    checkout ping, no BEGIN, no ROLLBACK.  A broken connection is replaced on the next try.
    """
    db = database()
    readers = getattr(_local, "readers", None)
    if readers is None:
        readers = _local.readers = {}
    conn = readers.get(db.url)
    if conn is None:
        conn = driver_connection(db.engine)
        if not db.is_sqlite:
            conn.autocommit = True
            # A read is prepared once per connection (psycopg does so after a few runs) and its
            # plan kept.  Planned while labels, alerts or scans are still nearly empty (a new
            # database, or before autovacuum's first ANALYZE), that plan scans them whole, and
            # every scan grows slower as they fill.  Every read here is by a key, so forbid it.
            conn.execute("SET enable_seqscan = off")
        readers[db.url] = conn
    return conn


def _reader_cursor() -> Any:
    """A cursor on this thread's reader, made once and used for every scan-path read (a new
    psycopg cursor per read cost about half as much client CPU as the read itself)."""
    url = database().url
    cursors = getattr(_local, "cursors", None)
    if cursors is None:
        cursors = _local.cursors = {}
    cursor = cursors.get(url)
    if cursor is None:
        cursor = cursors[url] = _reader().cursor()
    return cursor


def _drop_reader() -> None:
    url = database().url
    for held in (getattr(_local, "cursors", {}).pop(url, None), getattr(_local, "readers", {}).pop(url, None)):
        if held is not None:
            try:
                held.close()
            except Exception:  # noqa: BLE001 - it is being thrown away because it failed
                pass


def _scan_read(stmt: Any, types: str, params: dict[str, Any]) -> list[Any]:
    """``stmt``'s rows: inside the unit of work's transaction once it has begun (its own
    writes seen), else straight through the driver."""
    return read(stmt, params) if in_transaction() else _raw_rows(stmt, types, params)


def _raw_rows(stmt: Any, types: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """A scan-path read straight through the driver, on this thread's reader: it runs on
    every scan, and the statement layer costs more than the query itself (same SQL and
    results as ``stmt`` through SQLAlchemy)."""
    return [_converted(types, row) for row in _driver_rows(stmt, params)]


def _driver_rows(stmt: Any, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """``stmt``'s rows as the driver returns them, read on this thread's reader."""
    sql = _driver_sql(stmt, database().is_sqlite)
    for attempt in (1, 2):
        try:
            cursor = _reader_cursor()
            cursor.execute(sql, params)
            return list(cursor.fetchall())
        except Exception:
            _drop_reader()  # a database restart or a dropped connection: reconnect once
            if attempt == 2:
                raise
        except BaseException:  # interrupted between execute and fetch: keep no statement open
            _drop_reader()
            raise
    raise AssertionError("unreachable")


def _streamed_rows(stmt: Any, chunk: int = 500) -> Iterator[tuple[Any, ...]]:
    """``stmt``'s rows as the driver returns them, fetched a chunk at a time on this thread's
    reader: a driver converts a fetch's rows holding the interpreter lock, and every other
    request thread of the process waits that long."""
    cursor = _reader().cursor()
    try:
        cursor.execute(_driver_sql(stmt, database().is_sqlite))
        while rows := cursor.fetchmany(chunk):
            yield from rows
    finally:
        cursor.close()


def _converted(types: str, row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A driver's row with the values of ``types`` in their Python types (None stays None)."""
    values = list(row)
    for i, convert in _converters(types):
        value = values[i]
        if value is not None:
            values[i] = convert(value)
    return tuple(values)


@functools.lru_cache(maxsize=16)
def _driver_sql(stmt: Any, sqlite: bool) -> str:
    """``stmt``'s SQL in the driver's parameter style (sqlite3 takes ``:name`` as it is)."""
    sql = str(stmt.element.text if hasattr(stmt, "element") else stmt.text)
    return sql if sqlite else re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql)


def clear_cache() -> None:
    """Forget every cached batch (tests empty the database between cases)."""
    _indexes.clear()

