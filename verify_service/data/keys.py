from __future__ import annotations

from typing import Any, Sequence

from sqlalchemy import select

from verify_service.db import read, session
from verify_service.models import SigningKey


def list_keys() -> Sequence[SigningKey]:
    return session().scalars(select(SigningKey).order_by(SigningKey.key_id)).all()


def read_keys() -> list[Any]:
    """The key table's rows, read without beginning the unit of work's transaction (the scan
    path reloads the verifying keys on a timer, and must not take SQLite's write lock for it)."""
    return read(select(SigningKey.__table__).order_by(SigningKey.key_id))


def find_key(key_id: int) -> SigningKey | None:
    return session().get(SigningKey, key_id)


def save_key(**fields: object) -> SigningKey:
    row = session().get(SigningKey, fields["key_id"])
    if row is None:
        row = SigningKey(**fields)
        session().add(row)
    else:
        for name, value in fields.items():
            setattr(row, name, value)
    session().flush()
    return row
