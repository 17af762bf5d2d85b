"""Ed25519 key records, key rotation and the key ring that signs and verifies codes.

Key records are plain data: the service stores them (``to_dict``) and builds a
:class:`KeyRing` from them per process. Nothing here touches files, so the
library stays stateless. Private keys only ever exist encrypted in a record
(PKCS#8, passphrase-encrypted) and decrypted inside a ring that was given the
passphrase.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from typing import Any

from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from label_gen import codec
from label_gen.exc import (
    BadPassphrase,
    BadSignature,
    KeyRingError,
    LabelCodeError,
    NoSigningKey,
    RevokedKey,
    UnknownKey,
)

ALGORITHM = "Ed25519"


class KeyStatus(str, enum.Enum):
    """Lifecycle of a signing key."""

    #: Signs new labels (within its validity dates) and verifies.
    ACTIVE = "active"
    #: Verifies labels it signed earlier; signs nothing new.
    RETIRED = "retired"
    #: Compromised: labels under it raise :class:`RevokedKey` from ``revoked_at`` on.
    REVOKED = "revoked"


def b64url_encode(data: bytes) -> str:
    """Base64url without padding, as in JWK."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Inverse of :func:`b64url_encode` (padding optional)."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def format_key_id(key_id: int) -> str:
    """Key ids are one byte in a code and a short decimal string (``"7"``) elsewhere."""
    return str(key_id)


def parse_key_id(value: str | int) -> int:
    """Parse ``"7"`` or ``7`` into a key id, raising ``ValueError`` when out of range."""
    key_id = int(value)
    if not 0 <= key_id <= codec.MAX_KEY_ID:
        raise ValueError(f"key id must be 0..{codec.MAX_KEY_ID}")
    return key_id


def _utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware")
    return value.astimezone(dt.timezone.utc)


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else _utc(value).isoformat()


def _from_iso(value: str | None) -> dt.datetime | None:
    return None if value is None else _utc(dt.datetime.fromisoformat(value))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _passphrase_bytes(passphrase: str | bytes) -> bytes:
    data = passphrase.encode("utf-8") if isinstance(passphrase, str) else passphrase
    if not data:
        raise ValueError("an empty passphrase would leave the private key unprotected")
    return data


@dataclasses.dataclass(frozen=True, slots=True)
class KeyRecord:
    """One key as the issuer stores it. Serialise with :meth:`to_dict`.

    ``encrypted_private_key`` is PEM PKCS#8 encrypted with the passphrase, or
    ``None`` for a verify-only record (built from a public key set).
    """

    key_id: int
    public_key: bytes
    status: KeyStatus
    valid_from: dt.datetime
    created_at: dt.datetime
    valid_to: dt.datetime | None = None
    revoked_at: dt.datetime | None = None
    algorithm: str = ALGORITHM
    # Kept out of repr so logs and tracebacks never carry key material.
    encrypted_private_key: bytes | None = dataclasses.field(default=None, repr=False)

    def __post_init__(self) -> None:
        parse_key_id(self.key_id)
        if self.algorithm != ALGORITHM:
            raise ValueError(f"unsupported algorithm {self.algorithm!r}")
        if len(self.public_key) != 32:
            raise ValueError("an Ed25519 public key is 32 bytes")
        if (self.status is KeyStatus.REVOKED) != (self.revoked_at is not None):
            raise ValueError("revoked_at is set exactly when the status is revoked")
        if self.valid_to is not None and self.valid_to <= self.valid_from:
            raise ValueError("valid_to must be after valid_from")

    @property
    def kid(self) -> str:
        """The key id as shown in the public key set and CLI."""
        return format_key_id(self.key_id)

    def can_sign_at(self, at: dt.datetime) -> bool:
        """True when this key may sign new labels at ``at``."""
        return (
            self.status is KeyStatus.ACTIVE
            and self.encrypted_private_key is not None
            and self.valid_from <= at
            and (self.valid_to is None or at < self.valid_to)
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types, private key included (encrypted). For the issuer's store only."""
        return {
            "key_id": self.key_id,
            "algorithm": self.algorithm,
            "public_key": b64url_encode(self.public_key),
            "encrypted_private_key": (
                None
                if self.encrypted_private_key is None
                else self.encrypted_private_key.decode("ascii")
            ),
            "status": self.status.value,
            "created_at": _iso(self.created_at),
            "valid_from": _iso(self.valid_from),
            "valid_to": _iso(self.valid_to),
            "revoked_at": _iso(self.revoked_at),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> KeyRecord:
        """Inverse of :meth:`to_dict`. Raises ``ValueError``/``KeyError`` on bad data."""
        private = data.get("encrypted_private_key")
        valid_from = _from_iso(data["valid_from"])
        assert valid_from is not None
        return cls(
            key_id=parse_key_id(data["key_id"]),
            algorithm=data.get("algorithm", ALGORITHM),
            public_key=b64url_decode(data["public_key"]),
            encrypted_private_key=None if private is None else private.encode("ascii"),
            status=KeyStatus(data["status"]),
            created_at=_from_iso(data.get("created_at")) or valid_from,
            valid_from=valid_from,
            valid_to=_from_iso(data.get("valid_to")),
            revoked_at=_from_iso(data.get("revoked_at")),
        )

    def public_dict(self) -> dict[str, Any]:
        """The public part, shaped for ``/.well-known/label-keys.json``."""
        return {
            "kid": self.kid,
            "alg": self.algorithm,
            "public_key": b64url_encode(self.public_key),
            "status": self.status.value,
            "valid_from": _iso(self.valid_from),
            "valid_to": _iso(self.valid_to),
            "revoked_at": _iso(self.revoked_at),
        }


def next_key_id(existing_ids: Iterable[int]) -> int:
    """The next key id: one above the highest ever used.

    Ids are never reused, so a label signed by a deleted key can never be
    mistaken for one signed by a newer key with the same id.
    """
    ids = list(existing_ids)
    candidate = max(ids) + 1 if ids else 1
    if candidate > codec.MAX_KEY_ID:
        raise KeyRingError("all 256 key ids are used")
    return candidate


def generate_key_record(
    passphrase: str | bytes,
    existing_ids: Iterable[int] = (),
    *,
    valid_from: dt.datetime | None = None,
    valid_to: dt.datetime | None = None,
    now: dt.datetime | None = None,
    private_key: Ed25519PrivateKey | None = None,
) -> KeyRecord:
    """Create an active key with the next free key id, private key encrypted.

    ``private_key`` is for tests and golden vectors; leave it out in production.
    """
    created_at = _utc(now or _now())
    key = private_key or Ed25519PrivateKey.generate()
    encrypted = key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.BestAvailableEncryption(
            _passphrase_bytes(passphrase)
        ),
    )
    return KeyRecord(
        key_id=next_key_id(existing_ids),
        public_key=key.public_key().public_bytes_raw(),
        encrypted_private_key=encrypted,
        status=KeyStatus.ACTIVE,
        created_at=created_at,
        valid_from=_utc(valid_from) if valid_from else created_at,
        valid_to=_utc(valid_to) if valid_to else None,
    )


def retire_key(record: KeyRecord) -> KeyRecord:
    """Return ``record`` retired: it keeps verifying but signs nothing new."""
    if record.status is KeyStatus.REVOKED:
        raise KeyRingError("a revoked key cannot be retired", key_id=record.key_id)
    return dataclasses.replace(record, status=KeyStatus.RETIRED)


def revoke_key(record: KeyRecord, at: dt.datetime | None = None) -> KeyRecord:
    """Return ``record`` revoked from ``at`` (default now)."""
    if record.status is KeyStatus.REVOKED:
        raise KeyRingError("key is already revoked", key_id=record.key_id)
    return dataclasses.replace(
        record, status=KeyStatus.REVOKED, revoked_at=_utc(at or _now())
    )


def rotate_keys(
    records: Iterable[KeyRecord],
    passphrase: str | bytes,
    *,
    now: dt.datetime | None = None,
) -> tuple[KeyRecord, list[KeyRecord]]:
    """Create a new active key and retire the active ones.

    Returns ``(new_record, all_records)``; ``all_records`` holds every input
    record (active ones retired) plus the new one. Old labels keep verifying.
    """
    records = list(records)
    new = generate_key_record(passphrase, (r.key_id for r in records), now=now)
    updated = [
        retire_key(r) if r.status is KeyStatus.ACTIVE else r for r in records
    ]
    return new, [*updated, new]


def public_key_set(records: Iterable[KeyRecord]) -> dict[str, Any]:
    """The public key set served at ``/.well-known/label-keys.json``; no private material."""
    return {"keys": [r.public_dict() for r in sorted(records, key=lambda r: r.key_id)]}


def records_from_public_key_set(data: Mapping[str, Any]) -> list[KeyRecord]:
    """Verify-only records from a public key set (for offline verifiers)."""
    records = []
    for item in data["keys"]:
        valid_from = _from_iso(item["valid_from"])
        assert valid_from is not None
        records.append(
            KeyRecord(
                key_id=parse_key_id(item["kid"]),
                algorithm=item.get("alg", ALGORITHM),
                public_key=b64url_decode(item["public_key"]),
                status=KeyStatus(item["status"]),
                created_at=valid_from,
                valid_from=valid_from,
                valid_to=_from_iso(item.get("valid_to")),
                revoked_at=_from_iso(item.get("revoked_at")),
            )
        )
    return records


@dataclasses.dataclass(frozen=True, slots=True)
class VerifiedLabel:
    """A code whose signature checked out."""

    serial: int
    key_id: int
    version: int
    code: str
    key_status: KeyStatus


@dataclasses.dataclass(frozen=True, slots=True)
class CheckResult:
    """Outcome of :meth:`KeyRing.check`: exactly one of ``label`` and ``error`` is set."""

    label: VerifiedLabel | None
    error: LabelCodeError | None

    @property
    def ok(self) -> bool:
        return self.label is not None


class Signer:
    """Signs serials with one fixed key; built once per run by :meth:`KeyRing.signer`.

    Bulk issuance calls :meth:`sign` millions of times, so everything that does
    not depend on the serial is computed here once.
    """

    __slots__ = ("key_id", "_sign", "_prefix")

    def __init__(self, key_id: int, private_key: Ed25519PrivateKey) -> None:
        self.key_id = key_id
        self._sign = private_key.sign
        self._prefix = bytes((codec.CODE_VERSION, key_id))

    def sign(self, serial: int) -> str:
        """Return the code string for ``serial``."""
        if not 1 <= serial <= codec.MAX_SERIAL:
            raise ValueError(f"serial must be 1..{codec.MAX_SERIAL}, got {serial}")
        header = self._prefix + serial.to_bytes(codec.SERIAL_BYTES, "big")
        signature = self._sign(codec.SIGNING_DOMAIN + header)
        return str(int.from_bytes(header + signature, "big"))


class KeyRing:
    """Signs with the active key and verifies with whichever key a code names.

    ``passphrase`` is needed only for signing; a ring without it (or built from
    a public key set) verifies only.
    """

    def __init__(
        self, records: Iterable[KeyRecord], passphrase: str | bytes | None = None
    ) -> None:
        self._records: dict[int, KeyRecord] = {}
        self._public: dict[int, bytes] = {}
        for record in records:
            if record.key_id in self._records:
                raise KeyRingError("duplicate key id", key_id=record.key_id)
            self._records[record.key_id] = record
            # Parsed once here so that a bad public key fails when the ring is built.
            Ed25519PublicKey.from_public_bytes(record.public_key)
            self._public[record.key_id] = bytes(record.public_key)
        self._passphrase = None if passphrase is None else _passphrase_bytes(passphrase)
        self._private: dict[int, Ed25519PrivateKey] = {}

    def __repr__(self) -> str:
        return f"KeyRing(key_ids={sorted(self._records)})"

    @property
    def records(self) -> list[KeyRecord]:
        return [self._records[k] for k in sorted(self._records)]

    def get_record(self, key_id: int) -> KeyRecord:
        """The record for ``key_id``; raises ``KeyError`` when absent."""
        return self._records[key_id]

    def signing_record(self, at: dt.datetime | None = None) -> KeyRecord:
        """The key that signs at ``at``: the newest active key valid then."""
        when = _utc(at or _now())
        usable = [r for r in self._records.values() if r.can_sign_at(when)]
        if not usable:
            raise NoSigningKey(f"no active signing key is valid at {when.isoformat()}")
        return max(usable, key=lambda r: (r.valid_from, r.key_id))

    def _private_key(self, record: KeyRecord) -> Ed25519PrivateKey:
        cached = self._private.get(record.key_id)
        if cached is not None:
            return cached
        if self._passphrase is None:
            raise NoSigningKey("signing needs the key passphrase", key_id=record.key_id)
        assert record.encrypted_private_key is not None
        try:
            key = serialization.load_pem_private_key(
                record.encrypted_private_key, password=self._passphrase
            )
        except ValueError as exc:
            # cryptography reports a wrong passphrase as ValueError; name it.
            raise BadPassphrase(
                "the passphrase does not decrypt this key", key_id=record.key_id
            ) from exc
        if not isinstance(key, Ed25519PrivateKey) or (
            key.public_key().public_bytes_raw() != record.public_key
        ):
            raise KeyRingError(
                "private key does not match the record", key_id=record.key_id
            )
        self._private[record.key_id] = key
        return key

    def signer(self, at: dt.datetime | None = None) -> Signer:
        """A :class:`Signer` bound to the key that signs at ``at`` (for bulk runs)."""
        record = self.signing_record(at)
        return Signer(record.key_id, self._private_key(record))

    def signer_for(self, key_id: int) -> Signer:
        """A :class:`Signer` for a named key, active or retired, to reprint issued labels.

        Ed25519 signatures are deterministic, so re-signing a batch's serials
        under the key that issued it yields exactly the codes already issued.
        It refuses revoked keys: nothing new may be printed under them. Choosing
        which serials may be reprinted is the caller's business.
        """
        record = self._records.get(key_id)
        if record is None:
            raise KeyRingError("unknown key id", key_id=key_id)
        if record.status is KeyStatus.REVOKED:
            raise NoSigningKey(f"key {record.kid} is revoked", key_id=key_id)
        if record.encrypted_private_key is None:
            raise NoSigningKey(f"key {record.kid} has no private key here", key_id=key_id)
        return Signer(record.key_id, self._private_key(record))

    def sign(self, serial: int, at: dt.datetime | None = None) -> str:
        """Return the signed code for ``serial`` (use :meth:`signer` in loops)."""
        return self.signer(at).sign(serial)

    def verify(self, text: str, at: dt.datetime | None = None) -> VerifiedLabel:
        """Verify scanned text (URL or bare code) and return the label.

        Raises a :class:`LabelCodeError` subclass: :class:`MalformedCode`,
        :class:`UnknownKey`, :class:`BadSignature` or, for a valid signature under
        a key revoked at or before ``at`` (default now), :class:`RevokedKey`.
        """
        parsed = codec.parse(text)
        fields: dict[str, Any] = {
            "text": text,
            "version": parsed.version,
            "key_id": parsed.key_id,
            "serial": parsed.serial,
        }
        public = self._public.get(parsed.key_id)
        if public is None:
            raise UnknownKey(f"unknown key id {parsed.key_id}", **fields)
        try:
            # libsodium's Ed25519 check: the same RFC 8032 verification as OpenSSL's,
            # about twice as fast, and this runs on every scan.
            crypto_sign_open(parsed.signature + parsed.message, public)
        except BadSignatureError as exc:
            raise BadSignature("signature does not match", **fields) from exc
        record = self._records[parsed.key_id]
        label = VerifiedLabel(
            serial=parsed.serial,
            key_id=parsed.key_id,
            version=parsed.version,
            code=parsed.code,
            key_status=record.status,
        )
        if record.revoked_at is not None and record.revoked_at <= _utc(at or _now()):
            raise RevokedKey(
                f"key {record.kid} was revoked at {record.revoked_at.isoformat()}",
                label=label,
                revoked_at=record.revoked_at,
                text=text,
            )
        return label

    def check(self, text: str, at: dt.datetime | None = None) -> CheckResult:
        """Like :meth:`verify` but returns a :class:`CheckResult` instead of raising."""
        try:
            return CheckResult(label=self.verify(text, at), error=None)
        except LabelCodeError as exc:
            return CheckResult(label=None, error=exc)
