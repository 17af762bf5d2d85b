"""Column-only reads for the offline status bundle (no ORM objects: it reads every
certificate, product and batch, so it loads plain rows)."""

from __future__ import annotations

from typing import Any, Sequence

from sqlalchemy import func, select

from verify_service.db import session
from verify_service.models import Certificate, CertificateStatusEvent, Label, LabelBatch, Product


def certificate_rows() -> Sequence[Any]:
    """(id, number, programme, status, valid_from, valid_to) for every certificate."""
    return session().execute(
        select(Certificate.id, Certificate.number, Certificate.programme, Certificate.status,
               Certificate.valid_from, Certificate.valid_to).order_by(Certificate.id)
    ).all()


def latest_status_events(statuses: Sequence[str]) -> Sequence[Any]:
    """(certificate_id, at, reason) of the latest status event of each certificate whose
    stored status is one of ``statuses``."""
    latest = (
        select(func.max(CertificateStatusEvent.id).label("id"))
        .join(Certificate, Certificate.id == CertificateStatusEvent.certificate_id)
        .where(Certificate.status.in_(statuses))
        .group_by(CertificateStatusEvent.certificate_id)
        .subquery()
    )
    return session().execute(
        select(CertificateStatusEvent.certificate_id, CertificateStatusEvent.at, CertificateStatusEvent.reason)
        .join(latest, latest.c.id == CertificateStatusEvent.id)
    ).all()


def product_rows() -> Sequence[Any]:
    """(id, name, certificate_id) for every product."""
    return session().execute(select(Product.id, Product.name, Product.certificate_id).order_by(Product.id)).all()


def batch_rows() -> Sequence[Any]:
    """Every batch's range, references, key, issue time and void state, by first serial."""
    return session().execute(
        select(LabelBatch.id, LabelBatch.first_serial, LabelBatch.last_serial, LabelBatch.certificate_id,
               LabelBatch.product_id, LabelBatch.key_id, LabelBatch.created_at, LabelBatch.voided_at,
               LabelBatch.void_reason).order_by(LabelBatch.first_serial)
    ).all()


def voided_label_rows() -> Sequence[Any]:
    """(serial, voided_at, void_reason) of every individually voided label."""
    return session().execute(
        select(Label.serial, Label.voided_at, Label.void_reason)
        .where(Label.voided_at.is_not(None)).order_by(Label.serial)
    ).all()
