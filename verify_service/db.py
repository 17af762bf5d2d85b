"""Engine and the per-request (or per-command) session.

Data functions use :func:`session` and only ever flush.  The commit happens in exactly one
place per unit of work: at the end of a successful request (see ``create_app``), or at the end
of a CLI command or a worker iteration, which call :func:`commit` themselves.
"""

from __future__ import annotations

import fcntl
import sqlite3
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


#: SQLite: bytes of write-ahead log file kept when the log starts over (see scan_writer._checkpoint).
WAL_SIZE_LIMIT = 64 * 1024 * 1024


class Database:
    """The engine and session factory of one application."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        #: per-process helpers bound to this database (the scan writer), made on first use
        self.helpers: dict[str, Any] = {}

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine with the settings each backend needs for concurrent use."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "factory": LockingConnection}, **kwargs)
        _configure_sqlite(engine)
        return engine
    if "poolclass" not in kwargs:
        kwargs = {"pool_size": 5, "max_overflow": 10, **kwargs}
    return create_engine(url, pool_pre_ping=True, **kwargs)


def driver_connection(engine: Engine) -> Any:
    """A driver connection of the caller's own, outside the pool, with the engine's connect
    settings applied (for hot paths that skip the statement layer); the caller closes it."""
    fairy = engine.raw_connection()
    fairy.detach()
    return fairy.dbapi_connection


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINTs and
    # "BEGIN IMMEDIATE"; take control of it as SQLAlchemy's documentation recommends.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        if isinstance(dbapi_connection, LockingConnection) and engine.url.database not in (None, "", ":memory:"):
            dbapi_connection.lock_path = engine.url.database + ".writelock"
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # When the log starts over, a file grown by a burst is cut back to this size.
            cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers serialise at BEGIN instead of failing later on lock upgrade.
        deferred = conn.get_execution_options().get("sqlite_deferred", False)
        dbapi = conn.connection.dbapi_connection
        if not deferred and isinstance(dbapi, LockingConnection):
            dbapi.acquire_write_lock()
        conn.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


class LockingConnection(sqlite3.Connection):
    """A SQLite connection whose write transactions queue on an exclusive flock.

    SQLite's busy handler polls with sleeps of up to 100 ms, so under load writers wait far
    longer than the lock is held.  Taking a flock on a file beside the database first lets
    the kernel wake the next writer — thread or process — the moment the lock is free.
    The lock is released after COMMIT or ROLLBACK has completed.
    """

    lock_path: str | None = None
    _lock_file: Any = None
    _locked = False

    def acquire_write_lock(self) -> None:
        if self.lock_path is None or self._locked:
            return
        if self._lock_file is None:
            self._lock_file = open(self.lock_path, "a+b")  # noqa: SIM115 - lives as long as the connection
        fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_EX)
        self._locked = True

    def release_write_lock(self) -> None:
        if self._locked:
            fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_UN)
            self._locked = False

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.release_write_lock()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.release_write_lock()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.release_write_lock()
            if self._lock_file is not None:
                self._lock_file.close()
                self._lock_file = None


def init_app(app: Flask) -> None:
    app.extensions["db"] = Database(app.config["DATABASE_URL"])
    app.teardown_appcontext(_close_session)


def database() -> Database:
    db: Database = current_app.extensions["db"]
    return db


def session() -> Session:
    """The session of the current request or command, opened on first use."""
    if "db_session" not in g:
        g.db_session = database().sessionmaker()
    s: Session = g.db_session
    return s


def in_transaction() -> bool:
    """Whether the current unit of work has begun its database transaction."""
    return "db_session" in g and bool(g.db_session.in_transaction())


def read(stmt: Any, params: dict[str, Any] | None = None) -> list[Any]:
    """The rows of a read-only statement, read without starting the unit of work's transaction.

    A unit of work that has already begun its transaction reads inside it (and sees its own
    writes).  Otherwise the read runs on a pooled connection of its own, in autocommit on
    PostgreSQL and in a deferred transaction on SQLite, whose requests' transactions begin
    with the database's write lock (see ``_configure_sqlite``): a read must not queue for it.
    """
    if in_transaction():
        return list(session().connection().execute(stmt, params or {}).all())
    db = database()
    options = {"sqlite_deferred": True} if db.is_sqlite else {"isolation_level": "AUTOCOMMIT"}
    with db.engine.connect().execution_options(**options) as conn:
        rows = list(conn.execute(stmt, params or {}).all())
        conn.rollback()
    return rows


def commit() -> None:
    """Commit the current unit of work (entry points only: request end, CLI, worker loop)."""
    if "db_session" in g:
        g.db_session.commit()


def rollback() -> None:
    if "db_session" in g:
        g.db_session.rollback()


def _close_session(_exc: BaseException | None) -> None:
    s = g.pop("db_session", None)
    if s is not None:
        s.rollback()
        s.close()
