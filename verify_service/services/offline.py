"""The signed offline status bundle: everything a verdict needs except scan history.

label_gen.offline defines the format and the offline verdict rules; this module gathers
the registry's current state, computes certificate statuses as of now and signs the bundle
with the issuer's active label key.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Iterable

import label_gen
from flask import current_app
from label_gen.offline import BatchEntry, BundleData, CertificateEntry, ProductEntry, VoidedLabel

from verify_service import clock
from verify_service.data import offline as offline_data
from verify_service.domain import certificates as cert_rules
from verify_service.services import keys

#: Stored statuses whose latest status event (time and reason) the bundle carries, so
#: offline reasons can say since when and why.
_EXPLAINED = ("suspended", "revoked", "cancelled")


@dataclasses.dataclass(frozen=True)
class Bundle:
    data: bytes
    generated_at: dt.datetime
    expires_at: dt.datetime


def bundle_data(now: dt.datetime | None = None) -> BundleData:
    """The registry's state as of ``now`` (default the clock), ready to sign."""
    now = now or clock.now()
    today = clock.today_in_china(now)
    hours = float(current_app.config["OFFLINE_BUNDLE_HOURS"])
    notes = {row.certificate_id: (row.at, row.reason)
             for row in offline_data.latest_status_events(_EXPLAINED)}
    cert_index: dict[int, int] = {}
    certificates = []
    for row in offline_data.certificate_rows():
        cert_index[row.id] = len(certificates)
        since, reason = notes.get(row.id, (None, None)) if row.status in _EXPLAINED else (None, None)
        certificates.append(CertificateEntry(
            number=row.number, programme=row.programme,
            status=cert_rules.effective_status(row.status, row.valid_to, today),
            valid_from=row.valid_from, valid_to=row.valid_to,
            status_since=since, status_reason=reason,
        ))
    product_index: dict[int, int] = {}
    products = []
    for row in offline_data.product_rows():
        product_index[row.id] = len(products)
        products.append(ProductEntry(id=row.id, name=row.name, certificate=cert_index[row.certificate_id]))
    batches = [
        BatchEntry(id=row.id, first_serial=row.first_serial, last_serial=row.last_serial,
                   certificate=cert_index[row.certificate_id], product=product_index[row.product_id],
                   key_id=row.key_id, created_at=row.created_at, voided_at=row.voided_at,
                   void_reason=row.void_reason)
        for row in offline_data.batch_rows()
    ]
    voided = [VoidedLabel(serial=row.serial, voided_at=row.voided_at, reason=row.void_reason)
              for row in offline_data.voided_label_rows()]
    return BundleData(
        generated_at=now, expires_at=now + dt.timedelta(hours=hours),
        keys=[dataclasses.replace(r, encrypted_private_key=None) for r in keys.records()],
        certificates=certificates, products=products, batches=batches, voided_labels=voided,
    )


def build_bundle() -> Bundle:
    """A freshly signed bundle (signed with the active label key, like new labels)."""
    now = clock.now()
    data = bundle_data(now)
    ring = keys.signing_ring()
    try:
        signed = label_gen.dump_bundle(data, ring, now)
    except label_gen.NoSigningKey as exc:
        raise keys.KeyConfigurationError(f"no active signing key: {exc}") from exc
    except label_gen.BadPassphrase as exc:
        raise keys.KeyConfigurationError("LABEL_KEY_PASSPHRASE does not decrypt the active signing key") from exc
    return Bundle(signed, data.generated_at, data.expires_at)


def trusted_keys() -> list[label_gen.KeyRecord]:
    """The service's own public keys, for verifying a bundle on the issuer's machine."""
    return [dataclasses.replace(r, encrypted_private_key=None) for r in keys.records()]


def open_bundle(data: bytes, trusted: Iterable[label_gen.KeyRecord] | None = None,
                at: dt.datetime | None = None) -> label_gen.OfflineBundle:
    """Check a bundle against ``trusted`` keys (default: this service's own) at ``at``.

    Raises label_gen's BundleError family; with ``trusted`` given it reads no database.
    """
    return label_gen.load_bundle(data, trusted_keys() if trusted is None else list(trusted), at or clock.now())
