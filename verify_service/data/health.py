from __future__ import annotations

from sqlalchemy import text

from verify_service.db import database
from verify_service.migrate import current_revision


def ping() -> None:
    with database().engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def schema_revision() -> str | None:
    return current_revision(database().engine)
