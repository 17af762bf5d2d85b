from __future__ import annotations

from typing import Sequence

from sqlalchemy import select

from verify_service.db import session
from verify_service.models import SigningKey


def list_keys() -> Sequence[SigningKey]:
    return session().scalars(select(SigningKey).order_by(SigningKey.key_id)).all()


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
