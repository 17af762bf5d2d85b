"""What a regulator sees of one label: its batch, certificate, state and full scan history."""

from __future__ import annotations

from typing import Any

from verify_service.data import labels as label_data
from verify_service.errors import NotFound
from verify_service.services import issuance


def label_detail(serial: int) -> dict[str, Any]:
    batch = label_data.find_batch_context(serial)
    if batch is None:
        raise NotFound(f"serial {serial} was never issued", code="label_not_found")
    label = label_data.find_label(serial)
    scans = label_data.list_scans(serial)
    return {
        "serial": serial,
        "batch": issuance.batch_view(batch),
        "enterprise": {"uscc": batch.enterprise.uscc, "name": batch.enterprise.name},
        "voided_at": label.voided_at.isoformat() if label and label.voided_at else None,
        "void_reason": label.void_reason if label else None,
        "voided_by": label.voided_by if label else None,
        "pin_used_at": label.pin_used_at.isoformat() if label and label.pin_used_at else None,
        "scan_count": label.scan_count if label else 0,
        "first_scan_at": label.first_scan_at.isoformat() if label and label.first_scan_at else None,
        "scans": [
            {"at": s.at.isoformat(), "verdict": s.verdict, "channel": s.channel, "network": s.network,
             "user_agent": s.user_agent,
             "location": {"lat": float(s.latitude), "lon": float(s.longitude)} if s.latitude is not None else None}
            for s in scans
        ],
    }
