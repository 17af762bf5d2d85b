"""Label batches: ordering (caps, idempotency, serial allocation), downloads and voiding.

A batch is a serial range: issuing N labels writes one row.  Codes are not stored: Ed25519
signatures are deterministic, so the manifest and sheets are signed again, identically, on
every download, streaming with constant memory.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from decimal import Decimal
from typing import Any, Iterator

import label_gen
from flask import current_app

from verify_service import clock
from verify_service.data import labels as label_data
from verify_service.data import registry as registry_data
from verify_service.domain import certificates as cert_rules
from verify_service.errors import Conflict, Forbidden, NotFound, ServiceError, ValidationFailed
from pydantic import ValidationError as PydanticValidationError

from verify_service.schemas import BatchOrderIn, VoidIn, error_list
from verify_service.push import outbox, platform
from verify_service.services import audit, keys

DEFAULT_LABEL_FORMAT = "round25"
SVG_ZIP_MAX_LABELS = 1000


def order_batch(enterprise_id: int, body: BatchOrderIn, actor: str,
                idempotency_key: str | None = None) -> tuple[dict[str, Any], bool]:
    """Issue a batch for the enterprise; returns (batch, created).  A retried order with the
    same Idempotency-Key returns the batch of the first one."""
    fingerprint = hashlib.sha256(json.dumps(body.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()
    label_data.lock_issuance()  # orders are serialised: caps and idempotency see committed orders
    if idempotency_key is not None:
        if not 1 <= len(idempotency_key) <= 100 or not idempotency_key.isprintable():
            raise ValidationFailed("Idempotency-Key must be 1–100 printable characters")
        existing = label_data.find_batch_by_idempotency_key(enterprise_id, idempotency_key)
        if existing is not None:
            if existing.request_fingerprint != fingerprint:
                raise Conflict("this Idempotency-Key was used for a different order", code="idempotency_key_reused")
            return batch_view(existing), False

    cert = registry_data.find_certificate(body.certificate_number)
    if cert is None:
        raise NotFound(f"no certificate {body.certificate_number}", code="certificate_not_found")
    year = clock.today().year
    gi_quantity = _check_holder(cert, enterprise_id, year)
    status = cert_rules.effective_status(cert.status, cert.valid_to, clock.today())
    if status != "valid":
        raise Conflict(f"certificate {cert.number} is {status}: labels can only be ordered while it is valid",
                       code="certificate_not_valid")
    product = label_data.product_of_certificate(body.product_id, cert.id)
    if product is None:
        raise ValidationFailed(f"product {body.product_id} is not on certificate {cert.number}",
                               code="product_not_on_certificate")
    cfg = current_app.config
    if body.quantity > cfg["LABELS_PER_BATCH_MAX"]:
        raise ValidationFailed(f"at most {cfg['LABELS_PER_BATCH_MAX']} labels per batch", code="batch_too_large")
    cap = _yearly_cap(product.approved_output, gi_quantity)
    ordered = label_data.labels_ordered(product.id, enterprise_id, year)
    if ordered + body.quantity > cap:
        raise ValidationFailed(
            f"yearly label cap reached for {product.name}: {cap} labels in {year}, "
            f"{ordered} already ordered, {max(cap - ordered, 0)} left",
            code="yearly_cap_exceeded", details={"cap": cap, "ordered": ordered, "year": year})
    label_format = body.label_format or DEFAULT_LABEL_FORMAT
    _check_layout(label_format, cert.programme, cert.number, body.pins)
    if body.pins and not cfg["PIN_SECRET"]:
        raise keys.KeyConfigurationError("PIN_SECRET is not set: labels with PINs cannot be issued")
    key_id = keys.active_signing_key_id()
    first = label_data.allocate_serials(body.quantity)
    last = first + body.quantity - 1
    if last > label_gen.MAX_SERIAL:
        raise ServiceError("the serial space is exhausted", code="serials_exhausted")
    batch = label_data.add_batch(
        certificate_id=cert.id, product_id=product.id, enterprise_id=enterprise_id, key_id=key_id,
        quantity=body.quantity, first_serial=first, last_serial=last, pins=body.pins,
        label_format=label_format, year=year, sales_region=body.sales_region,
        shelf_life_days=body.shelf_life_days, release_date=body.release_date,
        idempotency_key=idempotency_key, request_fingerprint=fingerprint,
        created_by=actor, created_at=clock.now(),
    )
    batch = label_data.find_batch(batch.id)
    outbox.emit("label_batch.issued", str(batch.id), platform.label_batch(batch, cfg["LABEL_BASE_URL"]))
    return batch_view(batch), True


def order_for_holder(certificate_number: str, product_id: int, quantity: int, *, pins: bool = False,
                     label_format: str | None = None, enterprise_uscc: str | None = None,
                     actor: str = "cli") -> dict[str, Any]:
    """Order on behalf of the certificate's holder (or a named GI authorised user): the issuer's CLI."""
    try:
        body = BatchOrderIn(certificate_number=certificate_number, product_id=product_id, quantity=quantity,
                            pins=pins, label_format=label_format)
    except PydanticValidationError as exc:
        raise ValidationFailed("; ".join(f"{e['field']}: {e['message']}" for e in error_list(exc))) from None
    if enterprise_uscc:
        enterprise = registry_data.find_enterprise_by_uscc(enterprise_uscc.strip().upper())
        if enterprise is None:
            raise NotFound(f"no enterprise with credit code {enterprise_uscc}")
        enterprise_id = enterprise.id
    else:
        cert = registry_data.find_certificate(body.certificate_number)
        if cert is None:
            raise NotFound(f"no certificate {certificate_number}", code="certificate_not_found")
        if cert.programme == "gi":
            raise ValidationFailed("GI labels are ordered by an authorised user: give --enterprise USCC")
        enterprise_id = cert.enterprise_id
    batch, _created = order_batch(enterprise_id, body, actor)
    return batch


def _check_holder(cert: Any, enterprise_id: int, year: int) -> Decimal | None:
    """The token's enterprise must hold the certificate; for a GI, be an authorised user this
    year (returns the authorised quantity)."""
    if cert.programme == "gi":
        auth = registry_data.find_gi_authorisation(cert.id, enterprise_id, year)
        if auth is None:
            raise Forbidden(f"your enterprise is not an authorised user of {cert.number} in {year}",
                            code="not_authorised_user")
        return auth.quantity
    if cert.enterprise_id != enterprise_id:
        raise Forbidden(f"certificate {cert.number} belongs to another enterprise", code="not_your_certificate")
    return None


def _yearly_cap(approved_output: Decimal | None, gi_quantity: Decimal | None) -> int:
    cfg = current_app.config
    per_unit = int(cfg["LABELS_PER_OUTPUT_UNIT"])
    if gi_quantity is not None:
        return int(gi_quantity * per_unit)
    if approved_output is None:
        return int(cfg["DEFAULT_YEARLY_LABEL_CAP"])
    return int(approved_output * per_unit)


def _check_layout(label_format: str, programme: str, number: str, pins: bool) -> None:
    if label_format not in label_gen.LABEL_FORMATS:
        raise ValidationFailed(f"unknown label format {label_format!r}; use one of "
                               f"{', '.join(label_gen.LABEL_FORMATS)}", code="unknown_label_format")
    try:
        label_gen.plan_layout(label_format, current_app.config["LABEL_BASE_URL"], programme=programme,
                              certificate_number=number, pins=pins)
    except label_gen.LayoutError as exc:
        raise ValidationFailed(f"label format {label_format} cannot be printed: {exc}", code="layout_refused") from exc


def get_batch(batch_id: int, enterprise_id: int | None = None) -> Any:
    """The batch; with ``enterprise_id``, only that enterprise's (others look absent)."""
    batch = label_data.find_batch(batch_id)
    if batch is None or (enterprise_id is not None and batch.enterprise_id != enterprise_id):
        raise NotFound(f"no label batch {batch_id}", code="batch_not_found")
    return batch


def list_batches(enterprise_id: int) -> list[dict[str, Any]]:
    return [batch_view(b) for b in label_data.list_batches(enterprise_id)]


def batch_view(b: Any) -> dict[str, Any]:
    return {
        "id": b.id, "certificate_number": b.certificate.number, "programme": b.certificate.programme,
        "product_id": b.product_id, "product_name": b.product.name, "quantity": b.quantity,
        "first_serial": b.first_serial, "last_serial": b.last_serial, "pins": b.pins,
        "label_format": b.label_format, "key_id": str(b.key_id), "year": b.year,
        "sales_region": b.sales_region, "shelf_life_days": b.shelf_life_days,
        "release_date": b.release_date.isoformat() if b.release_date else None,
        "created_at": b.created_at.isoformat(),
        "voided_at": b.voided_at.isoformat() if b.voided_at else None, "void_reason": b.void_reason,
        "downloads": {
            "manifest": f"/api/v1/enterprise/label-batches/{b.id}/manifest.csv",
            "sheets": f"/api/v1/enterprise/label-batches/{b.id}/sheets.pdf",
            "svg_zip": f"/api/v1/enterprise/label-batches/{b.id}/labels.zip" if b.quantity <= SVG_ZIP_MAX_LABELS else None,
        },
    }


# --- downloads ---------------------------------------------------------------------------


class PrintJob:
    """Everything needed to sign a batch's labels, gathered before a response starts
    streaming (the stream itself touches no database)."""

    def __init__(self, batch: Any) -> None:
        if batch.voided_at is not None:
            raise Conflict(f"batch {batch.id} is void: its labels must not be printed", code="batch_void")
        ring = keys.signing_ring()
        try:
            record = ring.get_record(batch.key_id)
        except KeyError:
            raise ServiceError("the batch's signing key is missing", code="signing_key_missing") from None
        if record.status is label_gen.KeyStatus.REVOKED:
            raise Conflict(f"key {record.kid} of batch {batch.id} is revoked: the batch cannot be printed",
                           code="signing_key_revoked")
        try:
            self.signer = ring.signer_for(batch.key_id)
        except label_gen.BadPassphrase as exc:
            raise keys.KeyConfigurationError("LABEL_KEY_PASSPHRASE does not decrypt the batch's key") from exc
        cfg = current_app.config
        if batch.pins and not cfg["PIN_SECRET"]:
            raise keys.KeyConfigurationError("PIN_SECRET is not set: PINs cannot be printed")
        self.pin_secret = str(cfg["PIN_SECRET"]).encode() if batch.pins else None
        self.base_url = str(cfg["LABEL_BASE_URL"])
        self.first, self.last, self.pins = batch.first_serial, batch.last_serial, batch.pins
        self.programme, self.certificate_number = batch.certificate.programme, batch.certificate.number
        self.label_format = batch.label_format
        self.quantity = batch.quantity

    def labels(self, progress: Any = None) -> Iterator[label_gen.Label]:
        return label_gen.iter_labels_with(self.signer, self.first, self.last, self.base_url,
                                          pin_secret=self.pin_secret, progress=progress)

    def manifest(self) -> Iterator[str]:
        return label_gen.iter_manifest(self.labels(), pins=self.pins)

    def sheets(self, label_format: str | None = None) -> Iterator[bytes]:
        return self.sheets_from(self.labels(), label_format)

    def sheets_from(self, labels: Iterator[label_gen.Label], label_format: str | None = None) -> Iterator[bytes]:
        fmt = label_format or self.label_format
        _check_layout(fmt, self.programme, self.certificate_number, self.pins)
        return label_gen.iter_sheet_pdf(labels, base_url=self.base_url, label_format=fmt,
                                        programme=self.programme, certificate_number=self.certificate_number,
                                        pins=self.pins)

    def svg_zip(self) -> bytes:
        if self.quantity > SVG_ZIP_MAX_LABELS:
            raise ValidationFailed(f"SVG archives are for batches of at most {SVG_ZIP_MAX_LABELS} labels; "
                                   "use sheets.pdf or manifest.csv", code="batch_too_large_for_zip")
        renderer = label_gen.QRRenderer(self.base_url)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for label in self.labels():
                zf.writestr(f"{label.serial}.svg", renderer.svg(label.url))
        return buf.getvalue()


def print_job(batch_id: int, enterprise_id: int | None = None) -> PrintJob:
    return PrintJob(get_batch(batch_id, enterprise_id))


# --- voiding -----------------------------------------------------------------------------


def void_batch(batch_id: int, body: VoidIn, actor: str, role: str) -> dict[str, Any]:
    batch = get_batch(batch_id)
    if batch.voided_at is not None:
        raise Conflict(f"batch {batch_id} is already void", code="already_void")
    label_data.void_batch(batch, clock.now(), body.reason, actor)
    outbox.emit("label_batch.voided", str(batch.id), platform.label_batch_void(batch))
    audit.record(actor, role, "batch.void", "label_batch", str(batch_id), reason=body.reason,
                 first_serial=batch.first_serial, last_serial=batch.last_serial)
    return batch_view(batch)


def void_label(serial: int, body: VoidIn, actor: str, role: str) -> dict[str, Any]:
    batch = label_data.find_batch_for_serial(serial)
    if batch is None:
        raise NotFound(f"serial {serial} was never issued", code="label_not_found")
    label = label_data.get_or_create_label(serial, batch.id)
    if label.voided_at is not None:
        raise Conflict(f"label {serial} is already void", code="already_void")
    now = clock.now()
    label_data.void_label(label, now, body.reason, actor)
    outbox.emit("label.voided", str(serial), platform.label_void(serial, batch, reason=body.reason, at=now))
    audit.record(actor, role, "label.void", "label", str(serial), reason=body.reason, batch=batch.id)
    return {"serial": serial, "batch_id": batch.id, "voided_at": label.voided_at.isoformat() if label.voided_at else None,
            "void_reason": label.void_reason}
