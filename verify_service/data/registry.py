"""Queries on enterprises, certificates, products and GI authorisations."""

from __future__ import annotations

from typing import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from verify_service.data import add, flush  # noqa: F401  (re-exported for the services)
from verify_service.db import session
from verify_service.models import (
    Certificate,
    CertificateStatusEvent,
    Enterprise,
    GiAuthorisation,
    Product,
)


def find_enterprise_by_uscc(uscc: str) -> Enterprise | None:
    return session().scalar(select(Enterprise).where(Enterprise.uscc == uscc))


def find_enterprise_by_gf_code(gf_code: str) -> Enterprise | None:
    return session().scalar(select(Enterprise).where(Enterprise.gf_code == gf_code))


def count_enterprises() -> int:
    return session().scalar(select(func.count()).select_from(Enterprise)) or 0


def find_certificate(number: str) -> Certificate | None:
    return session().scalar(
        select(Certificate)
        .where(Certificate.number == number)
        .options(selectinload(Certificate.products), selectinload(Certificate.enterprise))
    )


def find_certificate_for_update(number: str) -> Certificate | None:
    return session().scalar(select(Certificate).where(Certificate.number == number).with_for_update())


def list_certificates(
    *, enterprise_id: int | None = None, programme: str | None = None,
    limit: int = 100, offset: int = 0,
) -> Sequence[Certificate]:
    q = (
        select(Certificate)
        .options(selectinload(Certificate.products), selectinload(Certificate.enterprise))
        .order_by(Certificate.id)
        .limit(limit)
        .offset(offset)
    )
    if enterprise_id is not None:
        q = q.where(Certificate.enterprise_id == enterprise_id)
    if programme:
        q = q.where(Certificate.programme == programme)
    return session().scalars(q).all()


def list_status_events(certificate_id: int) -> Sequence[CertificateStatusEvent]:
    return session().scalars(
        select(CertificateStatusEvent)
        .where(CertificateStatusEvent.certificate_id == certificate_id)
        .order_by(CertificateStatusEvent.id)
    ).all()


def find_product(certificate_id: int, name: str) -> Product | None:
    return session().scalar(
        select(Product).where(Product.certificate_id == certificate_id, Product.name == name)
    )


def find_gi_authorisation(certificate_id: int, enterprise_id: int, year: int) -> GiAuthorisation | None:
    return session().scalar(
        select(GiAuthorisation).where(
            GiAuthorisation.certificate_id == certificate_id,
            GiAuthorisation.enterprise_id == enterprise_id,
            GiAuthorisation.year == year,
        )
    )


def list_gi_authorisations(certificate_id: int) -> Sequence[GiAuthorisation]:
    return session().scalars(
        select(GiAuthorisation)
        .where(GiAuthorisation.certificate_id == certificate_id)
        .options(selectinload(GiAuthorisation.enterprise))
        .order_by(GiAuthorisation.year, GiAuthorisation.id)
    ).all()
