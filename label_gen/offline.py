"""Signed offline status bundles: verify labels with no network, same verdicts as online.

The issuer publishes a bundle of everything a verdict needs except scan history: public
keys with their statuses, certificate statuses and validity, batch serial ranges with
their certificate, product, signing key and issue time, and voided labels and batches.
The bundle is signed with one of the issuer's Ed25519 label keys, so a verifier that
trusts the issuer's public key set (``/.well-known/label-keys.json``) trusts the bundle.

Wire format (see docs/offline-bundle.md)::

    offset  size  field
    0       4     magic b"LGOB"
    4       1     bundle format version (1)
    5       1     key id of the signing key
    6       64    Ed25519 signature over BUNDLE_DOMAIN + bytes 0..5 + body
    70      ...   body: zlib-compressed columnar JSON (UTF-8)

The signature is checked before the body is decompressed, and decompression is capped,
so hostile bytes cost one signature check at most.

Typical use::

    bundle = load_bundle(data, trusted_keys)      # raises a BundleError subclass
    verdict = bundle.verify(scanned_text)          # an OfflineVerdict, never raises for codes

Verdicts and reason codes match the online service for everything that does not depend on
scan history (there is no ``suspected_clone`` offline).
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import json
import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from label_gen import codec
from label_gen.exc import (
    BundleExpired,
    BundleSignatureError,
    KeyRingError,
    LabelCodeError,
    MalformedBundle,
    MalformedCode,
    RevokedKey,
    UnknownKey,
    BadSignature,
)
from label_gen.keys import (
    KeyRecord,
    KeyRing,
    KeyStatus,
    records_from_public_key_set,
)

MAGIC = b"LGOB"
BUNDLE_VERSION = 1
#: Prefix of every signed bundle message, so a bundle signature can never pass for a
#: label code signature (those start with ``codec.SIGNING_DOMAIN``) or the reverse.
BUNDLE_DOMAIN = b"offline-bundle/v1\x00"
HEADER_BYTES = len(MAGIC) + 2
PREFIX_BYTES = HEADER_BYTES + codec.SIGNATURE_BYTES
#: Decompressed bodies larger than this are refused (a bundle for 100,000 certificates
#: is a few MB; this leaves room for growth without letting a body exhaust memory).
MAX_BODY_BYTES = 512 * 1024 * 1024
#: Same cap as the online service puts on scanned text.
MAX_INPUT_CHARS = 2048
#: Certificate dates are China dates (UTC+8, no daylight saving): a certificate is
#: expired from the China day after its ``valid_to``.
CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
TERMINAL_STATUSES = frozenset({"revoked", "cancelled"})
CERTIFICATE_STATUSES = ("valid", "suspended", "revoked", "expired", "cancelled")

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_EPOCH_DAY = dt.date(1970, 1, 1)

#: English reason texts (the online service also has Chinese ones; codes are identical).
REASON_TEXTS: dict[str, str] = {
    "genuine": "The label's signature is valid; it was issued on {issued}.",
    "certificate_valid": "Certificate {number} is valid until {valid_to}.",
    "certificate_valid_long_term": "Registration {number} is valid (long-term).",
    "certificate_expired": "The product's certificate {number} expired on {valid_to}; "
                           "the mark may no longer be used.",
    "certificate_suspended": "The product's certificate {number} is suspended (since {since}): {reason}",
    "certificate_revoked": "The product's certificate {number} was revoked ({since}): {reason}",
    "certificate_cancelled": "The product's certificate {number} was cancelled ({since}).",
    "label_voided": "This label was voided on {at}: {reason}",
    "batch_voided": "The batch this label belongs to was voided on {at}: {reason}",
    "bad_signature": "The signature is invalid: this code was not issued by the certifying centre.",
    "unknown_key": "The code names an unknown signing key; it was not issued by the certifying centre.",
    "never_issued": "Serial {serial} was never issued.",
    "revoked_key": "The code's signing key was revoked on {at}, and no batch issued before then "
                   "holds this serial.",
    "key_mismatch": "The code's signing key does not match its batch.",
    "malformed": "This is not a label code of this system: {detail}",
}


# --- the data a bundle carries ------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class CertificateEntry:
    """A certificate as of the bundle's generation.

    ``status`` is the effective status then; a verifier applies ``valid_to`` again at
    verification time. ``status_since``/``status_reason`` explain a non-valid status.
    """

    number: str
    programme: str
    status: str
    valid_from: dt.date
    valid_to: dt.date | None
    status_since: dt.datetime | None = None
    status_reason: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class ProductEntry:
    """A certified product; ``certificate`` indexes the bundle's certificates."""

    id: int
    name: str
    certificate: int


@dataclasses.dataclass(frozen=True, slots=True)
class BatchEntry:
    """A batch: a serial range; ``certificate`` and ``product`` index the bundle's lists.

    A batch's product always belongs to its certificate, so the wire format stores the
    product only and the certificate follows from it.
    """

    id: int
    first_serial: int
    last_serial: int
    certificate: int
    product: int
    key_id: int
    created_at: dt.datetime
    voided_at: dt.datetime | None = None
    void_reason: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class VoidedLabel:
    serial: int
    voided_at: dt.datetime
    reason: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class BundleData:
    """Everything in a bundle, as plain values (build it, then :func:`dump_bundle`)."""

    generated_at: dt.datetime
    expires_at: dt.datetime
    keys: Sequence[KeyRecord]
    certificates: Sequence[CertificateEntry]
    products: Sequence[ProductEntry]
    batches: Sequence[BatchEntry]
    voided_labels: Sequence[VoidedLabel] = ()
    issuer: str | None = None


@dataclasses.dataclass(slots=True)
class OfflineVerdict:
    """The offline verdict for one scanned text (same words and reason codes as online)."""

    verdict: str
    serial: int | None = None
    reasons: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    certificate: dict[str, Any] | None = None
    product: dict[str, Any] | None = None
    batch_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "serial": self.serial, "reasons": self.reasons,
                "certificate": self.certificate, "product": self.product}


# --- encoding -------------------------------------------------------------------------------


def _utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware")
    return value.astimezone(dt.timezone.utc)


def _micros(value: dt.datetime) -> int:
    delta = _utc(value) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _issue_second(created_at: dt.datetime, revoked_at: dt.datetime | None) -> int:
    """A batch's issue time in whole seconds, rounded so that the revoked-key rule
    (``created_at >= revoked_at`` means the batch does not account for the code) gives the
    same answer as with the exact time.

    Rounding down keeps ``created < revoked`` true; a batch issued at or after its key's
    revocation is rounded up, which keeps ``created >= revoked`` true. A key revoked after
    the bundle was made is revoked after every batch in it, so rounding down is safe then.
    Whole seconds compress far better than microseconds (about 250 kB per 100,000 batches).
    """
    micros = _micros(created_at)
    if revoked_at is not None and created_at >= revoked_at:
        return -(-micros // 1_000_000)
    return micros // 1_000_000


def _from_micros(value: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=value)


def _days(value: dt.date) -> int:
    return (value - _EPOCH_DAY).days


def _from_days(value: int) -> dt.date:
    return _EPOCH_DAY + dt.timedelta(days=value)


def _deltas(values: Iterable[int]) -> list[int]:
    out, previous = [], 0
    for v in values:
        out.append(v - previous)
        previous = v
    return out


def _undeltas(values: Iterable[int]) -> list[int]:
    out, total = [], 0
    for v in values:
        total += v
        out.append(total)
    return out


def _table(values: Iterable[str]) -> tuple[list[str], dict[str, int]]:
    names = sorted(set(values))
    return names, {n: i for i, n in enumerate(names)}


def encode_body(data: BundleData) -> bytes:
    """The uncompressed JSON body of a bundle (columnar, integers delta-encoded)."""
    if _utc(data.expires_at) <= _utc(data.generated_at):
        raise ValueError("expires_at must be after generated_at")
    certs = list(data.certificates)
    products = list(data.products)
    batches = sorted(data.batches, key=lambda b: b.first_serial)
    previous_last = 0
    for p in products:
        if not 0 <= p.certificate < len(certs):
            raise ValueError(f"product {p.id} references a certificate not in the bundle")
    for b in batches:
        if not (0 <= b.certificate < len(certs) and 0 <= b.product < len(products)):
            raise ValueError(f"batch {b.id} references a certificate or product not in the bundle")
        if products[b.product].certificate != b.certificate:
            raise ValueError(f"batch {b.id}'s product does not belong to its certificate")
        if b.first_serial <= previous_last or b.last_serial < b.first_serial:
            raise ValueError(f"batch {b.id} has an empty or overlapping serial range")
        previous_last = b.last_serial
    programmes, programme_index = _table(c.programme for c in certs)
    for c in certs:
        if c.status not in CERTIFICATE_STATUSES:
            raise ValueError(f"certificate {c.number} has unknown status {c.status!r}")
    voided = sorted(data.voided_labels, key=lambda v: v.serial)
    revoked_at = {r.key_id: r.revoked_at for r in data.keys}
    # Batch serial ranges are written as the gap before each range and its size: ranges are
    # allocated consecutively, so nearly every gap is 0 and compresses to almost nothing.
    gaps, sizes, last = [], [], 0
    for b in batches:
        gaps.append(b.first_serial - last - 1)
        sizes.append(b.last_serial - b.first_serial + 1)
        last = b.last_serial
    body = {
        "format": "offline-bundle",
        "version": BUNDLE_VERSION,
        "issuer": data.issuer,
        "generated_at": _micros(data.generated_at),
        "expires_at": _micros(data.expires_at),
        "keys": [r.public_dict() for r in sorted(data.keys, key=lambda r: r.key_id)],
        "programmes": programmes,
        "statuses": list(CERTIFICATE_STATUSES),
        "certificates": {
            "number": [c.number for c in certs],
            "programme": [programme_index[c.programme] for c in certs],
            "status": [CERTIFICATE_STATUSES.index(c.status) for c in certs],
            "valid_from": _deltas(_days(c.valid_from) for c in certs),
            "valid_to": [None if c.valid_to is None else _days(c.valid_to) - _days(c.valid_from)
                         for c in certs],
            "notes": [[i, None if c.status_since is None else _micros(c.status_since) // 1_000_000,
                       c.status_reason]
                      for i, c in enumerate(certs)
                      if c.status_since is not None or c.status_reason is not None],
        },
        "products": {
            "id": _deltas(p.id for p in products),
            "name": [p.name for p in products],
            "certificate": _deltas(p.certificate for p in products),
        },
        "batches": {
            "id": _deltas(b.id for b in batches),
            "gap": gaps,
            "size": sizes,
            "product": [b.product for b in batches],
            "key_id": [b.key_id for b in batches],
            "created_at": _deltas(_issue_second(b.created_at, revoked_at.get(b.key_id)) for b in batches),
            "voided": [[i, _micros(b.voided_at) // 1_000_000, b.void_reason]
                       for i, b in enumerate(batches) if b.voided_at is not None],
        },
        "voided_labels": {
            "serial": _deltas(v.serial for v in voided),
            "at": [_micros(v.voided_at) // 1_000_000 for v in voided],
            "reason": [v.reason for v in voided],
        },
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _signed_message(header: bytes, compressed: bytes) -> bytes:
    return BUNDLE_DOMAIN + header + compressed


def dump_bundle(data: BundleData, ring: KeyRing, at: dt.datetime | None = None) -> bytes:
    """Encode, compress and sign ``data`` with the ring's signing key at ``at`` (default now).

    The ring needs its passphrase. Raises :class:`~label_gen.NoSigningKey` or
    :class:`~label_gen.BadPassphrase` like :meth:`KeyRing.signer`.
    """
    record = ring.signing_record(at)
    private = ring._private_key(record)  # same package: the ring owns decryption
    compressed = zlib.compress(encode_body(data), 9)
    header = MAGIC + bytes((BUNDLE_VERSION, record.key_id))
    signature = private.sign(_signed_message(header, compressed))
    return header + signature + compressed


# --- decoding ----------------------------------------------------------------------------


def _int(value: Any) -> int:
    if type(value) is not int:
        raise TypeError("expected an integer")
    return value


def _ints(value: Any, length: int | None = None) -> list[int]:
    if not isinstance(value, list) or (length is not None and len(value) != length):
        raise TypeError("expected a list of integers of the right length")
    return [_int(v) for v in value]


def _strs(value: Any, length: int, optional: bool = False) -> list[Any]:
    if not isinstance(value, list) or len(value) != length:
        raise TypeError("expected a list of strings of the right length")
    for v in value:
        if not (isinstance(v, str) or (optional and v is None)):
            raise TypeError("expected a string")
    return value


def _opt_str(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _notes(value: Any, count: int) -> list[tuple[int, int | None, str | None]]:
    if not isinstance(value, list):
        raise TypeError("expected a list")
    out = []
    for item in value:
        if not isinstance(item, list) or len(item) != 3:
            raise TypeError("expected [index, time, text]")
        index = _int(item[0])
        if not 0 <= index < count:
            raise ValueError("index out of range")
        out.append((index, None if item[1] is None else _int(item[1]), _opt_str(item[2])))
    return out


def decode_body(body: bytes) -> BundleData:
    """Parse an uncompressed body; raises :class:`MalformedBundle` for anything unexpected."""
    try:
        return _decode_body(body)
    except MalformedBundle:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError,
            RecursionError, KeyRingError) as exc:
        raise MalformedBundle(f"the bundle body is not valid: {exc}") from exc


def _decode_body(body: bytes) -> BundleData:
    doc = json.loads(body.decode("utf-8"))
    if not isinstance(doc, dict) or doc.get("format") != "offline-bundle":
        raise MalformedBundle("not an offline bundle body")
    if doc.get("version") != BUNDLE_VERSION:
        raise MalformedBundle(f"unsupported bundle body version {doc.get('version')!r}")
    keys = records_from_public_key_set({"keys": doc["keys"]})
    programmes = _strs(doc["programmes"], len(doc["programmes"]))
    statuses = _strs(doc["statuses"], len(doc["statuses"]))
    if any(s not in CERTIFICATE_STATUSES for s in statuses):
        raise ValueError("unknown certificate status")

    c = doc["certificates"]
    numbers = _strs(c["number"], len(c["number"]))
    n = len(numbers)
    valid_from = _undeltas(_ints(c["valid_from"], n))
    valid_to_raw = c["valid_to"]
    if not isinstance(valid_to_raw, list) or len(valid_to_raw) != n:
        raise TypeError("certificates.valid_to has the wrong length")
    notes = {i: (since, reason) for i, since, reason in _notes(c["notes"], n)}
    certificates = []
    for i, (number, prog, status, vf, vt) in enumerate(zip(
            numbers, _ints(c["programme"], n), _ints(c["status"], n), valid_from, valid_to_raw)):
        since, reason = notes.get(i, (None, None))
        certificates.append(CertificateEntry(
            number=number, programme=programmes[prog], status=statuses[status],
            valid_from=_from_days(vf), valid_to=None if vt is None else _from_days(vf + _int(vt)),
            status_since=None if since is None else _from_micros(since * 1_000_000),
            status_reason=reason,
        ))

    p = doc["products"]
    names = _strs(p["name"], len(p["name"]))
    product_certs = _undeltas(_ints(p["certificate"], len(names)))
    if any(not 0 <= c < n for c in product_certs):
        raise ValueError("product references a missing certificate")
    products = [ProductEntry(id=i, name=name, certificate=c)
                for i, name, c in zip(_undeltas(_ints(p["id"], len(names))), names, product_certs)]

    b = doc["batches"]
    ids = _undeltas(_ints(b["id"]))
    m = len(ids)
    gaps, sizes = _ints(b["gap"], m), _ints(b["size"], m)
    prod_ix = _ints(b["product"], m)
    key_ids, created = _ints(b["key_id"], m), _undeltas(_ints(b["created_at"], m))
    voided_batches = {i: (at, reason) for i, at, reason in _notes(b["voided"], m)}
    batches, last = [], 0
    for i in range(m):
        if gaps[i] < 0 or sizes[i] < 1:
            raise ValueError("batch serial ranges must be ascending and non-empty")
        if not 0 <= prod_ix[i] < len(products):
            raise ValueError("batch references a missing product")
        first = last + gaps[i] + 1
        last = first + sizes[i] - 1
        at, reason = voided_batches.get(i, (None, None))
        batches.append(BatchEntry(
            id=ids[i], first_serial=first, last_serial=last, certificate=products[prod_ix[i]].certificate,
            product=prod_ix[i], key_id=key_ids[i], created_at=_from_micros(created[i] * 1_000_000),
            voided_at=None if at is None else _from_micros(at * 1_000_000), void_reason=reason,
        ))

    v = doc["voided_labels"]
    serials = _undeltas(_ints(v["serial"]))
    voided_at = _ints(v["at"], len(serials))
    reasons = _strs(v["reason"], len(serials), optional=True)
    voided_labels = [VoidedLabel(serial=s, voided_at=_from_micros(a * 1_000_000), reason=r)
                     for s, a, r in zip(serials, voided_at, reasons)]

    generated_at = _from_micros(_int(doc["generated_at"]))
    expires_at = _from_micros(_int(doc["expires_at"]))
    if expires_at <= generated_at:
        raise ValueError("the bundle expires before it was generated")
    return BundleData(
        generated_at=generated_at, expires_at=expires_at, keys=keys, certificates=certificates,
        products=products, batches=batches, voided_labels=voided_labels,
        issuer=_opt_str(doc.get("issuer")),
    )


def _decompress(compressed: bytes) -> bytes:
    decompressor = zlib.decompressobj()
    try:
        body = decompressor.decompress(compressed, MAX_BODY_BYTES)
    except zlib.error as exc:
        raise MalformedBundle(f"the bundle body does not decompress: {exc}") from exc
    if decompressor.unconsumed_tail:
        raise MalformedBundle(f"the bundle body exceeds {MAX_BODY_BYTES} bytes")
    if not decompressor.eof or decompressor.unused_data:
        raise MalformedBundle("the bundle body is truncated or has trailing data")
    return body


def load_public_key_set(text: str | bytes) -> list[KeyRecord]:
    """Verify-only key records from the JSON of ``/.well-known/label-keys.json``.

    Raises :class:`~label_gen.KeyRingError` when the text is not such a key set.
    """
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            raise ValueError('expected an object with a "keys" list')
        return records_from_public_key_set(data)
    except KeyRingError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError, RecursionError) as exc:
        raise KeyRingError(f"not a public label key set: {exc}") from exc


def _trusted_records(trusted: Iterable[KeyRecord] | Mapping[str, Any]) -> dict[int, KeyRecord]:
    if isinstance(trusted, Mapping):
        trusted = records_from_public_key_set(trusted)
    out: dict[int, KeyRecord] = {}
    for record in trusted:
        out[record.key_id] = dataclasses.replace(record, encrypted_private_key=None)
    return out


def _merge_keys(trusted: dict[int, KeyRecord], bundled: Iterable[KeyRecord]) -> list[KeyRecord]:
    """The trusted keys plus the bundle's (signed by a trusted key, so possibly newer).

    A key revoked in either list is revoked, from the earlier of the two times.
    """
    merged = dict(trusted)
    for record in bundled:
        known = merged.get(record.key_id)
        if known is None:
            merged[record.key_id] = record
            continue
        if known.public_key != record.public_key:
            raise BundleSignatureError(
                f"the bundle's key {record.kid} differs from the trusted key with that id",
                key_id=record.key_id)
        times = [t for t in (known.revoked_at, record.revoked_at) if t is not None]
        if times:
            merged[record.key_id] = dataclasses.replace(
                known, status=KeyStatus.REVOKED, revoked_at=min(times))
    return list(merged.values())


def load_bundle(data: bytes, trusted_keys: Iterable[KeyRecord] | Mapping[str, Any],
                at: dt.datetime | None = None) -> OfflineBundle:
    """Check and open a bundle with the issuer's trusted public keys.

    ``trusted_keys`` are key records or a public key set as served at
    ``/.well-known/label-keys.json``. Raises :class:`MalformedBundle` (not a bundle),
    :class:`BundleSignatureError` (signature fails, or the signing key is unknown or
    revoked) or :class:`BundleExpired` (expired at ``at``, default now).
    """
    when = _utc(at or dt.datetime.now(dt.timezone.utc))
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise MalformedBundle("a bundle is bytes")
    data = bytes(data)
    if len(data) < PREFIX_BYTES or data[:len(MAGIC)] != MAGIC:
        raise MalformedBundle("not an offline bundle (bad magic or too short)")
    version, key_id = data[len(MAGIC)], data[len(MAGIC) + 1]
    if version != BUNDLE_VERSION:
        raise MalformedBundle(f"unsupported bundle version {version}")
    header = data[:HEADER_BYTES]
    signature = data[HEADER_BYTES:PREFIX_BYTES]
    compressed = data[PREFIX_BYTES:]
    trusted = _trusted_records(trusted_keys)
    signer = trusted.get(key_id)
    if signer is None:
        raise BundleSignatureError(f"the bundle is signed with key {key_id}, which is not trusted",
                                   key_id=key_id)
    if signer.revoked_at is not None and signer.revoked_at <= when:
        raise BundleSignatureError(
            f"the bundle is signed with key {signer.kid}, revoked at {signer.revoked_at.isoformat()}",
            key_id=key_id)
    try:
        Ed25519PublicKey.from_public_bytes(signer.public_key).verify(
            signature, _signed_message(header, compressed))
    except InvalidSignature as exc:
        raise BundleSignatureError("the bundle's signature does not match: it was altered or "
                                   "not made by the issuer", key_id=key_id) from exc
    content = decode_body(_decompress(compressed))
    bundle = OfflineBundle(content, _merge_keys(trusted, content.keys), key_id)
    bundle.check_fresh(when)
    return bundle


# --- verification -----------------------------------------------------------------------


def effective_status(status: str, valid_to: dt.date | None, today: dt.date) -> str:
    """The certificate status on ``today`` (China date); same rule as the service."""
    if status in TERMINAL_STATUSES:
        return status
    if valid_to is not None and today > valid_to:
        return "expired"
    return status


def _day(moment: dt.datetime) -> str:
    return moment.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


def _reason(code: str, **params: Any) -> dict[str, Any]:
    text = REASON_TEXTS[code]
    try:
        msg = text.format(**params)
    except (KeyError, IndexError):
        msg = text
    return {"code": code, "message": msg}


class OfflineBundle:
    """A checked bundle: verifies scanned codes until it expires."""

    def __init__(self, data: BundleData, keys: Iterable[KeyRecord], signed_by: int) -> None:
        self.data = data
        self.signed_by = signed_by
        self._ring = KeyRing(keys)
        self._batches = list(data.batches)
        self._firsts = [b.first_serial for b in self._batches]
        self._voided = {v.serial: v for v in data.voided_labels}

    def __repr__(self) -> str:
        return (f"OfflineBundle(generated_at={self.generated_at.isoformat()}, "
                f"expires_at={self.expires_at.isoformat()}, batches={len(self._batches)})")

    @property
    def generated_at(self) -> dt.datetime:
        return self.data.generated_at

    @property
    def expires_at(self) -> dt.datetime:
        return self.data.expires_at

    def check_fresh(self, at: dt.datetime | None = None) -> None:
        """Raise :class:`BundleExpired` when the bundle has expired at ``at`` (default now)."""
        when = _utc(at or dt.datetime.now(dt.timezone.utc))
        if when >= self.expires_at:
            raise BundleExpired(
                f"the offline bundle expired at {self.expires_at.isoformat()}; fetch a new one",
                generated_at=self.generated_at, expires_at=self.expires_at)

    def find_batch(self, serial: int) -> BatchEntry | None:
        """The batch whose serial range holds ``serial``."""
        i = bisect.bisect_right(self._firsts, serial) - 1
        if i < 0 or self._batches[i].last_serial < serial:
            return None
        return self._batches[i]

    def verify(self, text: str, at: dt.datetime | None = None) -> OfflineVerdict:
        """The verdict for scanned ``text`` at ``at`` (default now).

        Raises :class:`BundleExpired` when the bundle has expired by then; every scanned
        text, however broken, gets a verdict.
        """
        when = _utc(at or dt.datetime.now(dt.timezone.utc))
        self.check_fresh(when)
        if not isinstance(text, str):
            text = ""
        if len(text) > MAX_INPUT_CHARS:
            return OfflineVerdict("malformed", reasons=[_reason("malformed", detail="input too long")])
        try:
            label = self._ring.verify(text, when)
        except MalformedCode as exc:
            return OfflineVerdict("malformed", reasons=[_reason("malformed", detail=str(exc))])
        except UnknownKey as exc:
            return OfflineVerdict("counterfeit", serial=exc.serial, reasons=[_reason("unknown_key")])
        except BadSignature as exc:
            return OfflineVerdict("counterfeit", serial=exc.serial, reasons=[_reason("bad_signature")])
        except RevokedKey as exc:
            serial, key_id = exc.label.serial, exc.label.key_id
            batch = self.find_batch(serial)
            if batch is None or batch.key_id != key_id or batch.created_at >= exc.revoked_at:
                return OfflineVerdict("counterfeit", serial=serial,
                                      reasons=[_reason("revoked_key", at=_day(exc.revoked_at))])
            return self._genuine(serial, key_id, batch, when)
        except LabelCodeError as exc:  # any future member of the family
            return OfflineVerdict("malformed", reasons=[_reason("malformed", detail=str(exc))])
        batch = self.find_batch(label.serial)
        if batch is None:
            return OfflineVerdict("counterfeit", serial=label.serial,
                                  reasons=[_reason("never_issued", serial=label.serial)])
        return self._genuine(label.serial, label.key_id, batch, when)

    def _genuine(self, serial: int, key_id: int, batch: BatchEntry, when: dt.datetime) -> OfflineVerdict:
        if batch.key_id != key_id:
            return OfflineVerdict("counterfeit", serial=serial, reasons=[_reason("key_mismatch")])
        cert = self.data.certificates[batch.certificate]
        product = self.data.products[batch.product]
        status = effective_status(cert.status, cert.valid_to, when.astimezone(CHINA_TZ).date())
        v = OfflineVerdict("authentic", serial=serial, batch_id=batch.id)
        v.certificate = {
            "number": cert.number, "programme": cert.programme, "status": status,
            "valid_from": cert.valid_from.isoformat(),
            "valid_to": cert.valid_to.isoformat() if cert.valid_to else None,
        }
        v.product = {"id": product.id, "name": product.name}
        v.reasons.append(_reason("genuine", issued=_day(batch.created_at)))
        voided = self._voided.get(serial)
        if voided is not None:
            v.verdict = "label_void"
            v.reasons = [_reason("label_voided", at=_day(voided.voided_at), reason=voided.reason or "")]
        elif batch.voided_at is not None:
            v.verdict = "label_void"
            v.reasons = [_reason("batch_voided", at=_day(batch.voided_at), reason=batch.void_reason or "")]
        if status != "valid":
            if v.verdict == "authentic":
                v.verdict = "certificate_invalid"
                v.reasons = []
            if status == "expired":
                assert cert.valid_to is not None
                v.reasons.append(_reason("certificate_expired", number=cert.number,
                                         valid_to=cert.valid_to.isoformat()))
            else:
                v.reasons.append(_reason(
                    f"certificate_{status}", number=cert.number,
                    since=_day(cert.status_since) if cert.status_since else "",
                    reason=cert.status_reason or ""))
        elif cert.valid_to is None:
            v.reasons.append(_reason("certificate_valid_long_term", number=cert.number))
        else:
            v.reasons.append(_reason("certificate_valid", number=cert.number,
                                     valid_to=cert.valid_to.isoformat()))
        return v


__all__ = [
    "BUNDLE_DOMAIN",
    "BUNDLE_VERSION",
    "BatchEntry",
    "BundleData",
    "CertificateEntry",
    "OfflineBundle",
    "OfflineVerdict",
    "ProductEntry",
    "VoidedLabel",
    "decode_body",
    "dump_bundle",
    "encode_body",
    "load_bundle",
    "load_public_key_set",
]
