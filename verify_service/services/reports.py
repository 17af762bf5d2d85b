"""Consumer reports of suspected fakes, and the regulators' case workflow."""

from __future__ import annotations

import io
from typing import Any

import label_gen
from flask import current_app

from verify_service import clock
from verify_service.data import fraud as fraud_data
from verify_service.data import labels as label_data
from verify_service.domain.client import ClientInfo
from verify_service.errors import Conflict, NotFound, ValidationFailed
from verify_service.models import Report
from verify_service.push import outbox, platform
from verify_service.schemas import ReportChange, ReportIn
from verify_service.services import audit, keys

STATUSES = ("open", "investigating", "confirmed_fake", "dismissed")
#: status -> statuses a case may move to
TRANSITIONS = {
    "open": ("investigating", "dismissed"),
    "investigating": ("confirmed_fake", "dismissed"),
    "confirmed_fake": (),
    "dismissed": (),
}
PHOTO_TYPES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}


def _photo_type(data: bytes) -> str | None:
    for magic, kind in PHOTO_TYPES.items():
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_photo(data: bytes) -> str:
    """The photo's type, after checking its size and that it really is a JPEG, PNG or WebP image."""
    limit = int(current_app.config["REPORT_PHOTO_MAX_BYTES"])
    if len(data) > limit:
        raise ValidationFailed(f"the photo is larger than {limit // 1024} KiB", code="photo_too_large")
    kind = _photo_type(data)
    if kind is None:
        raise ValidationFailed("the photo must be a JPEG, PNG or WebP image", code="photo_type")
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.verify()
    except Exception:  # noqa: BLE001 - any decoder complaint means "not a usable image"
        raise ValidationFailed("the photo could not be read as an image", code="photo_unreadable") from None
    return kind


def create_report(body: ReportIn, photo: bytes | None, client: ClientInfo) -> dict[str, Any]:
    serial = body.serial
    verdict = None
    if body.code:
        result = keys.verifying_ring().check(body.code)
        if result.label is not None:
            serial = result.label.serial
        elif result.error is not None and isinstance(result.error, label_gen.RevokedKey):
            serial = result.error.label.serial
        else:
            verdict = "malformed" if isinstance(result.error, label_gen.MalformedCode) else "counterfeit"
    batch = label_data.find_batch_context(serial) if serial is not None else None
    if serial is not None and batch is None and verdict is None:
        verdict = "counterfeit"  # a serial that was never issued
    now = clock.now()
    report = fraud_data.add(Report(
        serial=serial, code_text=(body.code or None) and body.code[:300], verdict=verdict,
        certificate_id=batch.certificate_id if batch else None, enterprise_id=batch.enterprise_id if batch else None,
        province=(body.region or "")[:2] or (batch.enterprise.county_code[:2] if batch else None),
        text=body.text, region=body.region,
        latitude=round(body.lat, 1) if body.lat is not None and body.lon is not None else None,
        longitude=round(body.lon, 1) if body.lat is not None and body.lon is not None else None,
        contact=body.contact, photo=photo, photo_type=check_photo(photo) if photo else None,
        network=client.network, status="open", created_at=now, updated_at=now,
    ))
    fraud_data.add_report_event(report_id=report.id, from_status=None, to_status="open", note=None,
                                actor="consumer", at=now)
    return {"id": report.id}


def report_view(r: Report) -> dict[str, Any]:
    return {
        "id": r.id, "status": r.status, "serial": r.serial, "code": r.code_text, "verdict_at_report": r.verdict,
        "certificate_number": r.certificate.number if r.certificate else None, "province": r.province,
        "text": r.text, "region": r.region,
        "location": {"lat": float(r.latitude), "lon": float(r.longitude)} if r.latitude is not None else None,
        "contact": r.contact, "has_photo": r.photo_type is not None, "photo_type": r.photo_type,
        "created_at": r.created_at.isoformat(), "updated_at": r.updated_at.isoformat(),
        "history": [{"from_status": e.from_status, "to_status": e.to_status, "note": e.note, "actor": e.actor,
                     "at": e.at.isoformat()} for e in r.events],
    }


def get_report(report_id: int) -> Report:
    report = fraud_data.get_report(report_id)
    if report is None:
        raise NotFound(f"no report {report_id}", code="report_not_found")
    return report


def list_reports(**filters: Any) -> list[dict[str, Any]]:
    if filters.get("status") and filters["status"] not in STATUSES:
        raise ValidationFailed(f"status must be one of {', '.join(STATUSES)}")
    return [report_view(r) for r in fraud_data.list_reports(**filters)]


def change_report(report_id: int, change: ReportChange, actor: str, role: str) -> dict[str, Any]:
    """Move a case along open → investigating → confirmed_fake | dismissed, or add a note."""
    report = get_report(report_id)
    now = clock.now()
    to_status = change.status or report.status
    if change.status is not None and change.status != report.status:
        if change.status not in TRANSITIONS[report.status]:
            allowed = ", ".join(TRANSITIONS[report.status]) or "none (the case is closed)"
            raise Conflict(f"report {report_id} is {report.status}: it cannot become {change.status} "
                           f"(allowed: {allowed})", code="illegal_transition")
    elif change.status is not None and change.note is None:
        raise Conflict(f"report {report_id} is already {report.status}", code="illegal_transition")
    fraud_data.add_report_event(report_id=report.id, from_status=report.status, to_status=to_status,
                                note=change.note, actor=actor, at=now)
    from_status = report.status
    report.status, report.updated_at = to_status, now
    fraud_data.flush()
    audit.record(actor, role, "report.note" if from_status == to_status else f"report.{to_status}", "report",
                 str(report_id), from_status=from_status, to_status=to_status, note=change.note)
    if to_status == "confirmed_fake" and from_status != to_status:
        cert = report.certificate
        outbox.emit("fake.confirmed", str(report.id), platform.fake_confirmed(
            case_id=report.id, at=now, description=report.text,
            trace_code=str(report.serial) if report.serial else None,
            certificate_no=cert.number if cert else None,
            credit_code=report.enterprise.uscc if report.enterprise else None,
            region_code=report.region or report.province))
    fraud_data.flush()
    return report_view(fraud_data.get_report(report.id))  # type: ignore[arg-type]


def photo(report_id: int) -> tuple[bytes, str]:
    data, kind = fraud_data.get_report_photo(report_id)
    if data is None or kind is None:
        raise NotFound(f"report {report_id} has no photo", code="no_photo")
    return data, kind
