"""Regulator API: label detail with scan history, voiding labels and batches."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, request

from verify_service.api.common import audit_log_page, doc, parse_body, query_int
from verify_service.auth import current_principal, require_role
from verify_service.clock import CHINA_TZ
from verify_service.errors import ValidationFailed
from verify_service.schemas import AlertChange, ReportChange, VoidIn
from verify_service.services import fraud, inspection, issuance, reports, risk

bp = Blueprint("regulator", __name__, url_prefix="/api/v1/regulator")


@bp.get("/labels/<int:serial>")
@require_role("regulator")
@doc("A label's batch, certificate, state and full scan history", tag="regulator")
def label(serial: int) -> Any:
    return inspection.label_detail(serial)


@bp.post("/labels/<int:serial>/void")
@require_role("regulator")
@doc("Void one label (stolen, misused): its scans then say label_void", body=VoidIn, tag="regulator")
def void_label(serial: int) -> Any:
    p = current_principal()
    return issuance.void_label(serial, parse_body(VoidIn), p.actor, p.role)


@bp.post("/label-batches/<int:batch_id>/void")
@require_role("regulator")
@doc("Void a whole batch (stolen roll, misprint, withdrawn)", body=VoidIn, tag="regulator")
def void_batch(batch_id: int) -> Any:
    p = current_principal()
    return issuance.void_batch(batch_id, parse_body(VoidIn), p.actor, p.role)


def _since(name: str) -> Any:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(f"query parameter {name} must be an ISO date or date-time") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=CHINA_TZ)
    return value


def _province() -> str | None:
    raw = request.args.get("province")
    if raw and not (len(raw) == 2 and raw.isdigit()):
        raise ValidationFailed("query parameter province is a 2-digit GB/T 2260 code, e.g. 23")
    return raw or None


def _programme() -> str | None:
    raw = request.args.get("programme")
    if raw and raw not in ("green_food", "organic", "gi"):
        raise ValidationFailed("programme must be green_food, organic or gi")
    return raw or None


@bp.get("/alerts")
@require_role("regulator")
@doc("Clone and misuse alerts, highest risk first (filters: province, programme, enterprise, since, until, "
     "status, limit, offset)", tag="regulator")
def alerts() -> Any:
    return {"alerts": fraud.list_alerts(
        province=_province(), programme=_programme(), enterprise_uscc=request.args.get("enterprise") or None,
        since=_since("since"), until=_since("until"), status=request.args.get("status") or None,
        limit=query_int("limit", 100, minimum=1, maximum=1000), offset=query_int("offset", 0, maximum=10**6))}


@bp.patch("/alerts/<int:alert_id>")
@require_role("regulator")
@doc("Confirm or dismiss an alert, with a note", body=AlertChange, tag="regulator")
def change_alert(alert_id: int) -> Any:
    p = current_principal()
    body = parse_body(AlertChange)
    return fraud.close_alert(alert_id, body.status, body.note, p.actor, p.role)


@bp.get("/reports")
@require_role("regulator")
@doc("Consumer reports, newest first (filters: status, province, programme, since, limit, offset)", tag="regulator")
def list_reports() -> Any:
    return {"reports": reports.list_reports(
        status=request.args.get("status") or None, province=_province(), programme=_programme(),
        since=_since("since"), limit=query_int("limit", 100, minimum=1, maximum=1000),
        offset=query_int("offset", 0, maximum=10**6))}


@bp.get("/reports/<int:report_id>")
@require_role("regulator")
@doc("One report with its case history", tag="regulator")
def get_report(report_id: int) -> Any:
    return reports.report_view(reports.get_report(report_id))


@bp.patch("/reports/<int:report_id>")
@require_role("regulator")
@doc("Move a case (open → investigating → confirmed_fake | dismissed) and/or add a note", body=ReportChange,
     responses={200: "the report with its history", 409: "transition not allowed"}, tag="regulator")
def change_report(report_id: int) -> Any:
    p = current_principal()
    return reports.change_report(report_id, parse_body(ReportChange), p.actor, p.role)


@bp.get("/reports/<int:report_id>/photo")
@require_role("regulator")
@doc("The photo attached to a report", responses={200: "image"}, tag="regulator")
def report_photo(report_id: int) -> Any:
    data, kind = reports.photo(report_id)
    return Response(data, mimetype=kind, headers={"X-Content-Type-Options": "nosniff"})


@bp.get("/risk/<any(certificates, enterprises):by>")
@require_role("regulator")
@doc("Certificates or enterprises ranked by risk, with reasons (query: days, programme, limit, format=json|csv)",
     tag="regulator")
def risk_ranking(by: str) -> Any:
    kind = by[:-1] if by == "certificates" else "enterprise"
    rows = risk.rank(kind, days=query_int("days", 365, minimum=1, maximum=3650), programme=_programme(),
                     limit=query_int("limit", 100, minimum=1, maximum=10_000))
    if request.args.get("format") == "csv":
        return Response(risk.to_csv(rows, kind), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="risk-{by}.csv"'})
    return {"by": kind, "rows": rows}


@bp.get("/audit-log")
@require_role("regulator")
@doc("The append-only audit log of admin and regulator actions, newest first", tag="regulator")
def audit_log() -> Any:
    return audit_log_page()
