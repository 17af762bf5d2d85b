"""Regulator API: label detail with scan history, voiding labels and batches."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from verify_service.api.common import doc, parse_body
from verify_service.auth import current_principal, require_role
from verify_service.schemas import VoidIn
from verify_service.services import inspection, issuance

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
