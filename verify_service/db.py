"""Engine and the per-request (or per-command) session.

Data functions use :func:`session` and only ever flush.  The commit happens in exactly one
place per unit of work: at the end of a successful request (see ``create_app``), or at the end
of a CLI command or a worker iteration, which call :func:`commit` themselves.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


class Database:
    """The engine and session factory of one application."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine with the settings each backend needs for concurrent use."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    if "poolclass" not in kwargs:
        kwargs = {"pool_size": 5, "max_overflow": 10, **kwargs}
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINTs and
    # "BEGIN IMMEDIATE"; take control of it as SQLAlchemy's documentation recommends.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers serialise at BEGIN instead of failing later on lock upgrade.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("immediate", True) else "BEGIN")


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
