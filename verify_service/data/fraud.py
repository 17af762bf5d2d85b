"""Queries for misuse signals, alerts, consumer reports and risk ranking."""

from __future__ import annotations

import datetime as dt
from typing import Any, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from verify_service.data import add, flush  # noqa: F401  (re-exported for the services)
from verify_service.db import session
from verify_service.models import Alert, Certificate, Enterprise, LabelBatch, Report, ReportEvent, Scan


def find_alert(serial: int) -> Alert | None:
    return session().scalar(select(Alert).where(Alert.serial == serial))


def get_alert(alert_id: int) -> Alert | None:
    return session().get(Alert, alert_id)


def list_alerts(*, province: str | None, programme: str | None, enterprise_uscc: str | None,
                since: dt.datetime | None, until: dt.datetime | None, status: str | None,
                limit: int, offset: int) -> Sequence[Alert]:
    q = (select(Alert).options(selectinload(Alert.certificate), selectinload(Alert.enterprise))
         .order_by(Alert.score.desc(), Alert.raised_at.desc(), Alert.id.desc()).limit(limit).offset(offset))
    if province:
        q = q.where(Alert.province == province)
    if programme:
        q = q.where(Alert.programme == programme)
    if enterprise_uscc:
        q = q.join(Enterprise, Enterprise.id == Alert.enterprise_id).where(Enterprise.uscc == enterprise_uscc)
    if since:
        q = q.where(Alert.raised_at >= since)
    if until:
        q = q.where(Alert.raised_at < until)
    if status:
        q = q.where(Alert.status == status)
    return session().scalars(q).all()


def get_report(report_id: int) -> Report | None:
    return session().scalar(select(Report).where(Report.id == report_id)
                            .options(selectinload(Report.events), selectinload(Report.certificate))
                            .execution_options(populate_existing=True))


def get_report_photo(report_id: int) -> tuple[bytes | None, str | None]:
    row = session().execute(select(Report.photo, Report.photo_type).where(Report.id == report_id)).first()
    return (row[0], row[1]) if row else (None, None)


def list_reports(*, status: str | None, province: str | None, programme: str | None,
                 since: dt.datetime | None, limit: int, offset: int) -> Sequence[Report]:
    q = (select(Report).options(selectinload(Report.events), selectinload(Report.certificate))
         .order_by(Report.created_at.desc(), Report.id.desc()).limit(limit).offset(offset))
    if status:
        q = q.where(Report.status == status)
    if province:
        q = q.where(Report.province == province)
    if programme:
        q = q.join(Certificate, Certificate.id == Report.certificate_id).where(Certificate.programme == programme)
    if since:
        q = q.where(Report.created_at >= since)
    return session().scalars(q).all()


def add_report_event(**fields: Any) -> ReportEvent:
    return add(ReportEvent(**fields))  # type: ignore[no-any-return]


def risk_counts(since: dt.datetime) -> dict[str, dict[int, int]]:
    """Per certificate id: open alerts, confirmed fakes, reports, scans of an invalid certificate."""
    s = session()
    out: dict[str, dict[int, int]] = {}
    out["alerts"] = dict(s.execute(select(Alert.certificate_id, func.count()).where(
        Alert.status != "dismissed", Alert.raised_at >= since).group_by(Alert.certificate_id)).all())  # type: ignore[arg-type]
    out["confirmed_fakes"] = dict(s.execute(select(Report.certificate_id, func.count()).where(
        Report.status == "confirmed_fake", Report.certificate_id.is_not(None), Report.created_at >= since)
        .group_by(Report.certificate_id)).all())  # type: ignore[arg-type]
    out["reports"] = dict(s.execute(select(Report.certificate_id, func.count()).where(
        Report.status != "dismissed", Report.certificate_id.is_not(None), Report.created_at >= since)
        .group_by(Report.certificate_id)).all())  # type: ignore[arg-type]
    out["invalid_scans"] = dict(s.execute(
        select(LabelBatch.certificate_id, func.count()).join(Scan, Scan.batch_id == LabelBatch.id)
        .where(Scan.verdict == "certificate_invalid", Scan.at >= since).group_by(LabelBatch.certificate_id)).all())  # type: ignore[arg-type]
    return out


def certificates_by_id(ids: Sequence[int]) -> dict[int, Certificate]:
    if not ids:
        return {}
    rows = session().scalars(select(Certificate).where(Certificate.id.in_(ids))
                             .options(selectinload(Certificate.enterprise))).all()
    return {c.id: c for c in rows}
