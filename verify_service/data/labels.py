"""Serial allocation, batches, per-label state and scans."""

from __future__ import annotations

import datetime as dt
from typing import Any, Sequence

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import selectinload

from verify_service.db import session
from verify_service.models import Certificate, Label, LabelBatch, Product, Scan, SerialCounter

FIRST_SERIAL = 10_000_001


def allocate_serials(quantity: int) -> int:
    """Reserve ``quantity`` consecutive serials and return the first.

    One atomic UPDATE of a single counter row: PostgreSQL holds its row lock and SQLite its
    write lock (BEGIN IMMEDIATE) until the transaction ends, so concurrent orders from any
    number of processes get disjoint ranges, and a rolled-back order gives its range back.
    """
    s = session()
    stmt = (update(SerialCounter).where(SerialCounter.id == 1)
            .values(next_serial=SerialCounter.next_serial + quantity)
            .returning(SerialCounter.next_serial))
    new_next = s.execute(stmt).scalar()
    if new_next is None:
        _insert_ignore(SerialCounter, {"id": 1, "next_serial": FIRST_SERIAL}, ["id"])
        new_next = s.execute(stmt).scalar_one()
    return int(new_next) - quantity


def _insert_ignore(model: Any, values: dict[str, Any], keys: list[str]) -> None:
    s = session()
    dialect = s.get_bind().dialect.name
    maker = pg_insert if dialect == "postgresql" else sqlite_insert
    s.execute(maker(model).values(**values).on_conflict_do_nothing(index_elements=keys))


def add_batch(**fields: Any) -> LabelBatch:
    batch = LabelBatch(**fields)
    session().add(batch)
    session().flush()
    return batch


def find_batch(batch_id: int) -> LabelBatch | None:
    return session().scalar(
        select(LabelBatch).where(LabelBatch.id == batch_id)
        .options(selectinload(LabelBatch.certificate).selectinload(Certificate.enterprise),
                 selectinload(LabelBatch.product))
    )


def find_batch_by_idempotency_key(enterprise_id: int, key: str) -> LabelBatch | None:
    return session().scalar(
        select(LabelBatch).where(LabelBatch.enterprise_id == enterprise_id, LabelBatch.idempotency_key == key)
    )


def find_batch_for_serial(serial: int) -> LabelBatch | None:
    """The batch whose range holds ``serial`` (an index seek on first_serial)."""
    batch = session().scalar(
        select(LabelBatch).where(LabelBatch.first_serial <= serial)
        .order_by(LabelBatch.first_serial.desc()).limit(1)
    )
    if batch is None or batch.last_serial < serial:
        return None
    return batch


def labels_ordered(product_id: int, enterprise_id: int, year: int) -> int:
    """Labels of a product ordered by an enterprise in a year (voided batches included:
    a voided roll was still printed)."""
    return int(session().scalar(
        select(func.coalesce(func.sum(LabelBatch.quantity), 0)).where(
            LabelBatch.product_id == product_id, LabelBatch.enterprise_id == enterprise_id,
            LabelBatch.year == year)
    ) or 0)


def list_batches(enterprise_id: int | None = None, limit: int = 100, offset: int = 0) -> Sequence[LabelBatch]:
    q = select(LabelBatch).order_by(LabelBatch.id.desc()).limit(limit).offset(offset)
    if enterprise_id is not None:
        q = q.where(LabelBatch.enterprise_id == enterprise_id)
    return session().scalars(q).all()


def find_label(serial: int) -> Label | None:
    return session().get(Label, serial)


def get_or_create_label(serial: int, batch_id: int) -> Label:
    _insert_ignore(Label, {"serial": serial, "batch_id": batch_id, "scan_count": 0}, ["serial"])
    label = session().get(Label, serial, populate_existing=True)
    assert label is not None
    return label


def list_scans(serial: int, limit: int = 500) -> Sequence[Scan]:
    return session().scalars(
        select(Scan).where(Scan.serial == serial).order_by(Scan.at.desc(), Scan.id.desc()).limit(limit)
    ).all()


def void_batch(batch: LabelBatch, at: dt.datetime, reason: str, actor: str) -> None:
    batch.voided_at, batch.void_reason, batch.voided_by = at, reason, actor
    session().flush()


def void_label(label: Label, at: dt.datetime, reason: str, actor: str) -> None:
    label.voided_at, label.void_reason, label.voided_by = at, reason, actor
    session().flush()


def product_of_certificate(product_id: int, certificate_id: int) -> Product | None:
    return session().scalar(select(Product).where(Product.id == product_id, Product.certificate_id == certificate_id))


def find_batch_context(serial: int) -> LabelBatch | None:
    """The batch holding ``serial`` with its certificate, enterprise and product, in one query."""
    from sqlalchemy.orm import joinedload

    batch = session().scalar(
        select(LabelBatch).where(LabelBatch.first_serial <= serial)
        .order_by(LabelBatch.first_serial.desc()).limit(1)
        .options(joinedload(LabelBatch.certificate).joinedload(Certificate.enterprise),
                 joinedload(LabelBatch.product))
    )
    if batch is None or batch.last_serial < serial:
        return None
    return batch


def lock_issuance() -> None:
    """Serialise label orders (PostgreSQL: lock the counter row; SQLite: BEGIN IMMEDIATE has
    already taken the database's write lock)."""
    s = session()
    if s.get_bind().dialect.name != "postgresql":
        return
    _insert_ignore(SerialCounter, {"id": 1, "next_serial": FIRST_SERIAL}, ["id"])
    s.execute(select(SerialCounter.next_serial).where(SerialCounter.id == 1).with_for_update())


def find_batch_by_idempotency_key_any(key: str) -> LabelBatch | None:
    return session().scalar(select(LabelBatch).where(LabelBatch.idempotency_key == key).limit(1))
