"""The adapter to the national traceability platform: record kinds, payloads, signing, client.

The platform's real interface is not public.  Record fields follow NY/T 4712-2025 (entity
basics with the unified social credit code and the platform's entity code 主体码;
certification references; outbound batches whose codes are the trace codes).  Everything
that would change when the real interface is published is in this one module: the record
builders, the wire envelope, the request signature and the HTTP client.  The simulator
(:mod:`verify_service.push.simulator`) implements the server side of the same contract.

Wire contract (see docs/traceability-push.md):

* ``POST {PLATFORM_URL}/api/v1/records`` with ``{"records": [envelope, ...]}``; the answer is
  ``{"results": [{"idempotency_key", "status": "accepted"|"duplicate"|"rejected", ...}]}``.
* ``GET {PLATFORM_URL}/api/v1/records?after=SEQ&limit=N`` lists what the platform holds.
* Every request carries ``X-Timestamp`` (Unix seconds) and ``X-Signature: sha256=<hex>``, an
  HMAC-SHA256 under ``PLATFORM_SECRET`` of ``timestamp \\n METHOD \\n path?query \\n body``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import json
import time
import urllib.parse
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Sequence

if TYPE_CHECKING:
    from verify_service.models import Certificate, Enterprise, LabelBatch
    from verify_service.push.models import OutboxRecord

#: Version of the record payloads; bump it (and keep the old builders) when fields change.
SCHEMA = "nyt4712-2025/1"

PROGRAMME_NAMES = {"green_food": "绿色食品", "organic": "有机产品", "gi": "农产品地理标志"}

#: Every record kind the platform accepts, with what it reports.
KINDS: dict[str, str] = {
    "enterprise.registered": "an enterprise (entity) the platform must register; answered with its entity code",
    "enterprise.changed": "an enterprise's basic information changed",
    "certificate.issued": "a certificate (获证信息) with its products",
    "certificate.updated": "a certificate's dates, grade, issuer or products changed (registry import)",
    "certificate.renewed": "a certificate was renewed (续展): new valid_to",
    "certificate.suspended": "a certificate was suspended",
    "certificate.reinstated": "a suspended certificate is valid again",
    "certificate.revoked": "a certificate was revoked (取消用标资格)",
    "certificate.cancelled": "a certificate was cancelled",
    "certificate.expired": "a certificate's valid_to passed (reported once by the worker's sweep)",
    "label_batch.issued": "an outbound batch of labels: its serials are the trace codes",
    "label_batch.voided": "a whole label batch was voided",
    "label.voided": "one label (trace code) was voided",
    "fake.confirmed": "a regulator confirmed a counterfeit",
    "clone_alert.raised": "scan history shows copies of a genuine label (scan anomaly)",
}

#: Status-change actions of the registry and the record kind each one emits.
STATUS_ACTION_KINDS = {
    "renew": "certificate.renewed",
    "suspend": "certificate.suspended",
    "reinstate": "certificate.reinstated",
    "revoke": "certificate.revoked",
    "cancel": "certificate.cancelled",
}


# --- payloads built from domain objects --------------------------------------------------


def entity(e: "Enterprise") -> dict[str, Any]:
    """Entity basics (主体基本信息)."""
    return {
        "entity": {
            "credit_code": e.uscc,
            "entity_code": e.platform_entity_code,
            "name": e.name,
            "entity_type": "enterprise",
            "region_code": e.county_code,
            "address": e.address,
            "contact_name": e.contact_name,
            "contact_phone": e.contact_phone,
            "green_food_code": e.gf_code,
        }
    }


def certification(c: "Certificate") -> dict[str, Any]:
    """A certification reference with its products (the full current state)."""
    from sqlalchemy.orm import object_session

    session = object_session(c)
    if session is not None:
        # Products are added by certificate id, so an already loaded collection can be stale.
        session.expire(c, ["products"])
    return {
        "entity": _entity_ref(c.enterprise),
        "certification": {
            "certificate_no": c.number,
            "programme": c.programme,
            "programme_name": PROGRAMME_NAMES.get(c.programme, c.programme),
            "grade": c.grade,
            "issuer": c.issuer,
            "valid_from": _iso(c.valid_from),
            "valid_to": _iso(c.valid_to),
            "status": c.status,
            "products": [
                {"product_id": p.id, "name": p.name, "product_class": p.product_class,
                 "trademark": p.trademark, "approved_output": _num(p.approved_output),
                 "output_unit": p.output_unit}
                for p in c.products
            ],
        },
    }


def certification_status(c: "Certificate", *, from_status: str | None, to_status: str,
                         reason: str | None, at: dt.datetime) -> dict[str, Any]:
    """A status change of a certification (suspension, renewal, expiry, ...)."""
    return {
        "entity": _entity_ref(c.enterprise),
        "certification": {
            "certificate_no": c.number,
            "programme": c.programme,
            "from_status": from_status,
            "status": to_status,
            "valid_to": _iso(c.valid_to),
            "reason": reason,
            "changed_at": at.isoformat(),
        },
    }


def outbound_batch(*, batch_id: int | str, certificate_no: str, product_id: int, product_name: str,
                   quantity: int, first_serial: str, last_serial: str, credit_code: str,
                   url_prefix: str, issued_at: dt.datetime) -> dict[str, Any]:
    """An outbound batch (出库批次): the label serials are its trace codes.

    For ``label_batch.issued`` (see :func:`label_batch` for a batch row).
    """
    return {
        "entity": {"credit_code": credit_code},
        "batch": {
            "batch_no": str(batch_id), "certificate_no": certificate_no,
            "product_id": product_id, "product_name": product_name, "quantity": quantity,
            "trace_code_first": first_serial, "trace_code_last": last_serial,
            "trace_url_prefix": url_prefix, "issued_at": issued_at.isoformat(),
        },
    }


def label_batch(b: "LabelBatch", url_prefix: str) -> dict[str, Any]:
    """``label_batch.issued`` for a batch row: ``emit("label_batch.issued", str(b.id), label_batch(b, base_url))``."""
    return outbound_batch(
        batch_id=b.id, certificate_no=b.certificate.number, product_id=b.product_id,
        product_name=b.product.name, quantity=b.quantity, first_serial=str(b.first_serial),
        last_serial=str(b.last_serial), credit_code=b.enterprise.uscc, url_prefix=url_prefix,
        issued_at=b.created_at,
    )


def label_batch_void(b: "LabelBatch") -> dict[str, Any]:
    """``label_batch.voided``: every trace code of the batch is withdrawn."""
    return {
        "entity": {"credit_code": b.enterprise.uscc},
        "batch": {"batch_no": str(b.id), "certificate_no": b.certificate.number,
                  "trace_code_first": str(b.first_serial), "trace_code_last": str(b.last_serial),
                  "voided_at": b.voided_at.isoformat() if b.voided_at else None, "reason": b.void_reason},
    }


def label_void(serial: int, b: "LabelBatch", *, reason: str, at: dt.datetime) -> dict[str, Any]:
    """``label.voided``: one trace code withdrawn (stolen roll, misprint)."""
    return {
        "entity": {"credit_code": b.enterprise.uscc},
        "label": {"trace_code": str(serial), "batch_no": str(b.id), "certificate_no": b.certificate.number,
                  "voided_at": at.isoformat(), "reason": reason},
    }


def fake_confirmed(*, case_id: int | str, at: dt.datetime, description: str, trace_code: str | None = None,
                   certificate_no: str | None = None, credit_code: str | None = None,
                   region_code: str | None = None) -> dict[str, Any]:
    """``fake.confirmed``: a regulator confirmed a counterfeit (with whatever it names)."""
    return {
        "entity": {"credit_code": credit_code} if credit_code else None,
        "case": {"case_no": str(case_id), "trace_code": trace_code, "certificate_no": certificate_no,
                 "region_code": region_code, "description": description, "confirmed_at": at.isoformat()},
    }


def clone_alert(*, alert_id: int | str, serial: int, b: "LabelBatch", reasons: Sequence[str],
                scan_count: int, at: dt.datetime) -> dict[str, Any]:
    """``clone_alert.raised``: a genuine trace code's scans show copies (a scan anomaly)."""
    return {
        "entity": {"credit_code": b.enterprise.uscc},
        "alert": {"alert_no": str(alert_id), "trace_code": str(serial), "batch_no": str(b.id),
                  "certificate_no": b.certificate.number, "reasons": list(reasons),
                  "scan_count": scan_count, "raised_at": at.isoformat()},
    }


def _entity_ref(e: "Enterprise") -> dict[str, Any]:
    return {"credit_code": e.uscc, "entity_code": e.platform_entity_code, "name": e.name}


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


def _num(v: Decimal | None) -> str | None:
    return None if v is None else format(v.normalize(), "f")


# --- the wire envelope -------------------------------------------------------------------


def envelope(r: "OutboxRecord") -> dict[str, Any]:
    """What is sent for one outbox record."""
    return {
        "idempotency_key": r.idempotency_key,
        "kind": r.kind,
        "key": r.key,
        "schema": r.record_schema,
        "seq": r.id,
        "occurred_at": r.created_at.isoformat(),
        "data": r.payload,
    }


def payload_digest(data: Any) -> str:
    """SHA-256 of a payload's canonical JSON (how two copies of one change are recognised)."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- request signing ---------------------------------------------------------------------

#: Requests whose timestamp is further than this from the receiver's clock are refused.
REPLAY_WINDOW_SECONDS = 300


class SignatureInvalid(Exception):
    """A request's signature or timestamp does not check out (the message says which)."""


def signing_message(timestamp: str, method: str, target: str, body: bytes) -> bytes:
    return f"{timestamp}\n{method.upper()}\n{target}\n".encode() + body


def sign(secret: str, timestamp: str, method: str, target: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), signing_message(timestamp, method, target, body), hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signed_headers(secret: str, method: str, target: str, body: bytes, now: float | None = None) -> dict[str, str]:
    ts = str(int(now if now is not None else time.time()))
    return {"X-Timestamp": ts, "X-Signature": sign(secret, ts, method, target, body)}


def verify_signature(secret: str, headers: Mapping[str, str], method: str, target: str, body: bytes,
                     *, now: float | None = None, window: int = REPLAY_WINDOW_SECONDS) -> None:
    """Return if the request is authentic and fresh; raise SignatureInvalid otherwise."""
    ts = headers.get("X-Timestamp") or ""
    given = headers.get("X-Signature") or ""
    if not ts.isdigit():
        raise SignatureInvalid("missing or malformed X-Timestamp")
    now = time.time() if now is None else now
    if abs(now - int(ts)) > window:
        raise SignatureInvalid(f"timestamp outside the {window} s replay window")
    if not hmac.compare_digest(given, sign(secret, ts, method, target, body)):
        raise SignatureInvalid("bad signature")


# --- the client --------------------------------------------------------------------------


class PlatformUnavailable(Exception):
    """The batch's fate is unknown (network error, timeout, 5xx, refused signature): retry it."""


@dataclass(frozen=True)
class RecordResult:
    """The platform's answer for one record."""

    idempotency_key: str
    ok: bool
    entity_code: str | None = None
    error: str | None = None


@dataclass
class PlatformClient:
    """Sends batches over one kept-alive HTTP(S) connection (not thread-safe: one per worker)."""

    base_url: str
    secret: str
    timeout: float = 10.0
    _conn: http.client.HTTPConnection | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        parts = urllib.parse.urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"PLATFORM_URL must be an http(s) URL, not {self.base_url!r}")
        self._scheme, self._host, self._port = parts.scheme, parts.hostname, parts.port
        self._prefix = parts.path.rstrip("/")

    def send(self, envelopes: Sequence[Mapping[str, Any]]) -> list[RecordResult]:
        """Deliver a batch; one result per record, or PlatformUnavailable for the whole batch."""
        body = json.dumps({"records": list(envelopes)}, ensure_ascii=False, separators=(",", ":")).encode()
        status, data = self._request("POST", "/api/v1/records", body)
        if status >= 500 or status in (401, 403, 408, 429):
            raise PlatformUnavailable(f"HTTP {status}: {_error_text(data)}")
        if status >= 400:
            # The platform refused the request as a whole: it is the records' fault.
            message = f"HTTP {status}: {_error_text(data)}"
            return [RecordResult(str(e["idempotency_key"]), False, error=message) for e in envelopes]
        try:
            answers = {str(r["idempotency_key"]): r for r in json.loads(data)["results"]}
        except (ValueError, KeyError, TypeError) as exc:
            raise PlatformUnavailable(f"unreadable acknowledgement: {exc}") from exc
        results = []
        for e in envelopes:
            key = str(e["idempotency_key"])
            a = answers.get(key)
            if a is None:
                raise PlatformUnavailable(f"acknowledgement lacks record {key}")
            ok = a.get("status") in ("accepted", "duplicate")
            results.append(RecordResult(key, ok, a.get("entity_code"), None if ok else str(a.get("error") or a.get("status"))))
        return results

    def list_records(self, after: int = 0, page_size: int = 5000) -> Iterator[dict[str, Any]]:
        """Everything the platform holds, in its receiving order (for reconciliation)."""
        while True:
            query = urllib.parse.urlencode({"after": after, "limit": page_size})
            status, data = self._request("GET", f"/api/v1/records?{query}", b"")
            if status != 200:
                raise PlatformUnavailable(f"listing failed: HTTP {status}: {_error_text(data)}")
            page = json.loads(data)
            yield from page["records"]
            if not page["records"] or page.get("next") is None:
                return
            after = int(page["next"])

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _request(self, method: str, target: str, body: bytes) -> tuple[int, bytes]:
        path = self._prefix + target
        headers = {"Content-Type": "application/json", **signed_headers(self.secret, method, path, body)}
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(method, path, body=body or None, headers=headers)
                response = conn.getresponse()
                data = response.read()
                if response.will_close:
                    self.close()
                return response.status, data
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self.close()
                # A kept-alive connection the server has since closed: one fresh retry.  If the
                # server did get the batch, the idempotency keys absorb the second copy.
                if attempt == 2:
                    raise PlatformUnavailable(f"connection lost: {exc!r}") from exc
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                raise PlatformUnavailable(f"{type(exc).__name__}: {exc}") from exc
        raise AssertionError("unreachable")

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
            self._conn = cls(self._host, self._port, timeout=self.timeout)
        return self._conn


def _error_text(data: bytes) -> str:
    try:
        err = json.loads(data)["error"]
        return str(err.get("message") or err)
    except (ValueError, KeyError, TypeError, AttributeError):
        return data[:200].decode("utf-8", "replace")
