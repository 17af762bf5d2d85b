"""The issuer's key ring, stored in the database with private keys encrypted.

label_gen does the cryptography; this module stores records, applies the passphrase from the
configuration and translates label_gen's errors into service errors.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import label_gen
from flask import current_app
from label_gen import KeyRecord, KeyRing, KeyStatus

from verify_service import clock
from verify_service.data import keys as key_data
from verify_service.errors import Conflict, NotFound, ServiceError
from verify_service.services import audit

#: Verifying rings are cached per process for this long, so a scan does not read the key table;
#: a key revoked elsewhere is refused everywhere within this time.
VERIFY_CACHE_SECONDS = 5.0

_cache_lock = threading.Lock()
_cache: dict[str, tuple[float, KeyRing]] = {}


class KeyConfigurationError(ServiceError):
    status = 503
    code = "signing_unavailable"


def _record(row: Any) -> KeyRecord:
    return KeyRecord.from_dict({
        "key_id": row.key_id, "algorithm": row.algorithm, "public_key": row.public_key,
        "encrypted_private_key": row.encrypted_private_key, "status": row.status,
        "created_at": row.created_at.isoformat(), "valid_from": row.valid_from.isoformat(),
        "valid_to": row.valid_to.isoformat() if row.valid_to else None,
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
    })


def _save(record: KeyRecord) -> None:
    d = record.to_dict()
    key_data.save_key(
        key_id=record.key_id, algorithm=record.algorithm, public_key=d["public_key"],
        encrypted_private_key=d["encrypted_private_key"], status=record.status.value,
        created_at=record.created_at, valid_from=record.valid_from, valid_to=record.valid_to,
        revoked_at=record.revoked_at,
    )
    clear_cache()


def clear_cache() -> None:
    """Forget the cached verifying rings (tests reuse key ids between cases)."""
    _cache.clear()


def records() -> list[KeyRecord]:
    return [_record(r) for r in key_data.list_keys()]


def _passphrase() -> str:
    passphrase = current_app.config["LABEL_KEY_PASSPHRASE"]
    if not passphrase:
        raise KeyConfigurationError("LABEL_KEY_PASSPHRASE is not set: signing keys cannot be used")
    return str(passphrase)


def signing_ring() -> KeyRing:
    """A ring that can sign (needs the passphrase)."""
    return KeyRing(records(), _passphrase())


def verifying_ring() -> KeyRing:
    """A verify-only ring of the public keys, cached briefly per process and database."""
    url = current_app.config["DATABASE_URL"]
    now = time.monotonic()
    cached = _cache.get(url)
    if cached is not None and now - cached[0] < VERIFY_CACHE_SECONDS:
        return cached[1]
    # One thread reloads; the others go on with the ring it replaces.
    if not _cache_lock.acquire(blocking=cached is None):
        assert cached is not None
        return cached[1]
    try:
        ring = KeyRing([_public_only(_record(r)) for r in key_data.read_keys()])
        _cache[url] = (now, ring)
    finally:
        _cache_lock.release()
    return ring


def _public_only(record: KeyRecord) -> KeyRecord:
    import dataclasses

    return dataclasses.replace(record, encrypted_private_key=None)


def active_signing_key_id() -> int:
    """The key new batches are signed with; refuses when none is active or the passphrase is wrong."""
    ring = signing_ring()
    try:
        record = ring.signing_record(clock.now())
        ring.signer(clock.now())  # decrypts: a wrong passphrase fails here, not mid-download
    except label_gen.NoSigningKey as exc:
        raise KeyConfigurationError(f"no active signing key: {exc}") from exc
    except label_gen.BadPassphrase as exc:
        raise KeyConfigurationError("LABEL_KEY_PASSPHRASE does not decrypt the active signing key") from exc
    return record.key_id


def create_key(actor: str, role: str, valid_to: dt.datetime | None = None) -> KeyRecord:
    existing = records()
    record = label_gen.generate_key_record(
        _passphrase(), (r.key_id for r in existing), now=clock.now(), valid_to=valid_to)
    _save(record)
    audit.record(actor, role, "key.create", "signing_key", record.kid)
    return record


def rotate(actor: str, role: str) -> KeyRecord:
    new, updated = label_gen.rotate_keys(records(), _passphrase(), now=clock.now())
    for record in updated:
        _save(record)
    audit.record(actor, role, "key.rotate", "signing_key", new.kid)
    return new


def _get(kid: str) -> KeyRecord:
    try:
        key_id = label_gen.keys.parse_key_id(kid)
    except ValueError:
        raise NotFound(f"no signing key {kid!r}") from None
    row = key_data.find_key(key_id)
    if row is None:
        raise NotFound(f"no signing key {kid!r}")
    return _record(row)


def retire(kid: str, actor: str, role: str) -> KeyRecord:
    try:
        record = label_gen.retire_key(_get(kid))
    except label_gen.KeyRingError as exc:
        raise Conflict(str(exc)) from exc
    _save(record)
    audit.record(actor, role, "key.retire", "signing_key", record.kid)
    return record


def revoke(kid: str, actor: str, role: str, at: dt.datetime | None = None) -> KeyRecord:
    """Revoke a key from ``at`` (default now): labels it signed are genuine only if a batch
    issued before that time accounts for them."""
    try:
        record = label_gen.revoke_key(_get(kid), at or clock.now())
    except label_gen.KeyRingError as exc:
        raise Conflict(str(exc)) from exc
    _save(record)
    audit.record(actor, role, "key.revoke", "signing_key", record.kid, revoked_at=record.revoked_at)
    return record


def public_key_set() -> dict[str, Any]:
    return label_gen.public_key_set(records())


def describe(record: KeyRecord) -> str:
    """One line for ``keys list``."""
    validity = f"valid from {record.valid_from:%Y-%m-%d}"
    if record.valid_to:
        validity += f" to {record.valid_to:%Y-%m-%d}"
    revoked = f"  revoked at {record.revoked_at.isoformat()}" if record.revoked_at else ""
    return f"{record.kid:>6}  {record.status.value:<8} {validity}{revoked}"


__all__ = ["KeyStatus", "records", "signing_ring", "verifying_ring", "create_key", "rotate",
           "retire", "revoke", "public_key_set", "active_signing_key_id"]
