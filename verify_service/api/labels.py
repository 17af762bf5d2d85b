"""Enterprise label batches: order, list, detail and downloads."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request, stream_with_context

from verify_service.api.common import doc, parse_body
from verify_service.auth import current_principal, require_role
from verify_service.schemas import BatchOrderIn
from verify_service.services import issuance

bp = Blueprint("batches", __name__, url_prefix="/api/v1/enterprise/label-batches")


def _enterprise_id() -> int:
    p = current_principal()
    assert p.enterprise_id is not None
    return p.enterprise_id


@bp.post("")
@require_role("enterprise")
@doc("Order a batch of labels for a certified product (honours Idempotency-Key)", body=BatchOrderIn,
     responses={201: "the batch with its serial range", 200: "replay of an earlier order with the same Idempotency-Key",
                409: "certificate not valid, or Idempotency-Key reused for another order"}, tag="enterprise")
def order() -> Any:
    p = current_principal()
    body = parse_body(BatchOrderIn)
    batch, created = issuance.order_batch(_enterprise_id(), body, p.actor, request.headers.get("Idempotency-Key"))
    return batch, 201 if created else 200


@bp.get("")
@require_role("enterprise")
@doc("The enterprise's label batches, newest first", tag="enterprise")
def list_() -> Any:
    return {"batches": issuance.list_batches(_enterprise_id())}


@bp.get("/<int:batch_id>")
@require_role("enterprise")
@doc("One of the enterprise's batches", tag="enterprise")
def detail(batch_id: int) -> Any:
    return issuance.batch_view(issuance.get_batch(batch_id, _enterprise_id()))


@bp.get("/<int:batch_id>/manifest.csv")
@require_role("enterprise")
@doc("Printer manifest (CSV, UTF-8: serial,url[,pin]), streamed", responses={200: "text/csv"}, tag="enterprise")
def manifest(batch_id: int) -> Any:
    job = issuance.print_job(batch_id, _enterprise_id())
    return Response(stream_with_context(job.manifest()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="batch-{batch_id}-manifest.csv"'})


@bp.get("/<int:batch_id>/sheets.pdf")
@require_role("enterprise")
@doc("Print-ready A4 label sheets (PDF), streamed; ?format= overrides the label format",
     responses={200: "application/pdf"}, tag="enterprise")
def sheets(batch_id: int) -> Any:
    job = issuance.print_job(batch_id, _enterprise_id())
    pages = job.sheets(request.args.get("format") or None)
    return Response(stream_with_context(pages), mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="batch-{batch_id}-sheets.pdf"'})


@bp.get("/<int:batch_id>/labels.zip")
@require_role("enterprise")
@doc("A zip of one SVG per label (small batches only)", responses={200: "application/zip"}, tag="enterprise")
def svg_zip(batch_id: int) -> Any:
    job = issuance.print_job(batch_id, _enterprise_id())
    return Response(job.svg_zip(), mimetype="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="batch-{batch_id}-labels.zip"'})
