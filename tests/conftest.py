"""Shared fixtures: a real database built by the migrations (SQLite, or PostgreSQL when
``TEST_DATABASE_URL`` is set), a fixed clock, an application and its clients.

The schema is created once per run by ``alembic upgrade head``; every test starts from empty
tables (they are emptied after each test).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from sqlalchemy import text

from verify_service import create_app, db, migrate
from verify_service.clock import CHINA_TZ, FixedClock
from verify_service.db import make_engine
from verify_service.models import Base

REPO_ROOT = Path(__file__).resolve().parent.parent
#: Noon in China on a fixed day: every test sees the same "today".
TEST_NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=CHINA_TZ).astimezone(dt.timezone.utc)


def _database_url(tmp_root: Path) -> str:
    url = os.environ.get("TEST_DATABASE_URL", "").strip()
    return url or f"sqlite:///{tmp_root / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = _database_url(tmp_path_factory.mktemp("db"))
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:  # a leftover schema from an interrupted run
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    migrate.upgrade(url)
    yield url


def empty_tables(url: str) -> None:
    from verify_service.data import scan_path
    from verify_service.services import keys

    # Per-process caches hold rows that are immutable in production; here ids are reused.
    scan_path.clear_cache()
    keys.clear_cache()
    engine = make_engine(url)
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(tables) + " RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
            if conn.execute(text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first():
                conn.execute(text("DELETE FROM sqlite_sequence"))
    engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(TEST_NOW)


@pytest.fixture
def app_config(database_url: str, clock: FixedClock, tmp_path: Path) -> dict[str, Any]:
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "CLOCK": clock,
        "LABEL_KEY_PASSPHRASE": "test passphrase",
        "PIN_SECRET": "test pin secret",
        "SECRET_KEY": "test secret",
    }


@pytest.fixture
def app(app_config: dict[str, Any], database_url: str) -> Iterator[Any]:
    application = create_app(app_config)
    yield application
    application.extensions["db"].engine.dispose()
    empty_tables(database_url)


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def run(app: Any) -> Callable[..., Any]:
    """Run a function inside an application context as one committed unit of work."""

    def _run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with app.app_context():
            result = fn(*args, **kwargs)
            db.commit()
            return result

    return _run


@pytest.fixture
def make_token(run: Callable[..., Any]) -> Callable[..., str]:
    from verify_service.services import tokens

    def _make(role: str, enterprise_uscc: str | None = None, **kwargs: Any) -> str:
        raw, _ = run(tokens.create_token, f"test-{role}", role, enterprise_uscc, **kwargs)
        return str(raw)

    return _make


@pytest.fixture
def admin_headers(make_token: Callable[..., str]) -> dict[str, str]:
    return {"Authorization": "Bearer " + make_token("admin")}
