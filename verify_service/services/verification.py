"""Verify a scanned code: signature, issuance, voiding, live certificate status, scan history.

A forged label is a result, not an error: every input gets exactly one verdict.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Any

import label_gen

from verify_service import clock
from verify_service.data import scan_path
from verify_service.data.scan_writer import ScanNotRecorded
from verify_service.domain import certificates as cert_rules
from verify_service.domain.client import ClientInfo
from verify_service.errors import Unavailable
from verify_service.i18n import message
from verify_service.services import fraud, keys
from verify_service.services.registry import PROGRAMME_MARKS

#: Most serious first (DESIGN: counterfeit > label_void > certificate_invalid > suspected_clone > authentic).
VERDICTS = ("counterfeit", "label_void", "certificate_invalid", "suspected_clone", "authentic", "malformed")
MAX_INPUT_CHARS = 2048


@dataclass
class Verdict:
    verdict: str
    serial: int | None = None
    reasons: list[dict[str, Any]] = field(default_factory=list)
    certificate: dict[str, Any] | None = None
    product: dict[str, Any] | None = None
    enterprise: dict[str, Any] | None = None
    scans: dict[str, Any] = field(default_factory=lambda: {"count": None, "first_at": None})
    batch_id: int | None = None
    #: the batch and per-label row of a genuine label (for the misuse signals)
    context: Any = None

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict, "serial": self.serial, "reasons": self.reasons,
            "certificate": self.certificate, "product": self.product, "enterprise": self.enterprise,
            "scans": self.scans,
        }


def reason(code: str, lang: str, **params: Any) -> dict[str, Any]:
    return {"code": code, "message": message(code, lang, **params)}


def verify_code(text: str, channel: str, client: ClientInfo | None = None, lang: str = "zh",
                record: bool = True) -> Verdict:
    """The verdict for scanned ``text`` (a URL or a bare code), recorded as a scan."""
    now = clock.now()
    client = client or ClientInfo()
    result = _evaluate(text if isinstance(text, str) else "", now, lang)
    if result.context is not None and result.verdict in ("authentic", "certificate_invalid"):
        fraud.apply_signals(result, client, now, lang)
    if record:
        _record(result, channel, client, now)
    return result


def verify_serial(serial: int, channel: str, client: ClientInfo, lang: str) -> Verdict:
    """The verdict for a label identified by its serial and proven by its PIN (no code to check)."""
    now = clock.now()
    batch = scan_path.batch_for_serial(serial)
    if batch is None:
        return Verdict("counterfeit", serial=serial, reasons=[reason("never_issued", lang, serial=serial)])
    result = _genuine(serial, batch.key_id, batch, now, lang)
    if result.context is not None and result.verdict in ("authentic", "certificate_invalid"):
        fraud.apply_signals(result, client, now, lang)
    _record(result, channel, client, now)
    return result


def warm_up() -> None:
    """Load the batch cache, which the first scan would load. (Not the key ring: it is cached
    for a while, and a key made between a worker's start and its first scan must verify.)"""
    scan_path.load_batches()


def _evaluate(text: str, now: dt.datetime, lang: str) -> Verdict:
    if len(text) > MAX_INPUT_CHARS:
        return Verdict("malformed", reasons=[reason("malformed", lang, detail="input too long")])
    ring = keys.verifying_ring()
    try:
        verified = ring.verify(text, now)
    except label_gen.MalformedCode as exc:
        return Verdict("malformed", reasons=[reason("malformed", lang, detail=malformed_detail(exc, lang))])
    except label_gen.UnknownKey as exc:
        return Verdict("counterfeit", serial=exc.serial, reasons=[reason("unknown_key", lang)])
    except label_gen.BadSignature as exc:
        return Verdict("counterfeit", serial=exc.serial, reasons=[reason("bad_signature", lang)])
    except label_gen.RevokedKey as exc:
        label = exc.label
        batch = scan_path.batch_for_serial(label.serial)
        if batch is None or batch.key_id != label.key_id or batch.created_at >= exc.revoked_at:
            return Verdict("counterfeit", serial=label.serial,
                           reasons=[reason("revoked_key", lang, at=_day(exc.revoked_at))])
        return _genuine(label.serial, label.key_id, batch, now, lang)
    except label_gen.LabelCodeError as exc:  # any future member of the family
        return Verdict("malformed", reasons=[reason("malformed", lang, detail=malformed_detail(exc, lang))])
    batch = scan_path.batch_for_serial(verified.serial)
    if batch is None:
        return Verdict("counterfeit", serial=verified.serial,
                       reasons=[reason("never_issued", lang, serial=verified.serial)])
    return _genuine(verified.serial, verified.key_id, batch, now, lang)


def malformed_detail(exc: Exception, lang: str) -> str:
    """label_gen's English diagnosis, or a plain Chinese one on Chinese pages."""
    return str(exc) if lang == "en" else "无法从中读出标签码"


def _genuine(serial: int, key_id: int, batch: scan_path.BatchInfo, now: dt.datetime, lang: str) -> Verdict:
    if batch.key_id != key_id:
        return Verdict("counterfeit", serial=serial, reasons=[reason("key_mismatch", lang)])
    state = scan_path.live_state(batch.id, serial)
    today = clock.today_in_china(now)
    status = cert_rules.effective_status(state.certificate_status, state.valid_to, today)
    number = batch.certificate_number
    v = Verdict("authentic", serial=serial, batch_id=batch.id, context=(batch, state))
    v.certificate = {
        "number": number, "programme": batch.programme, "mark": PROGRAMME_MARKS[batch.programme],
        "status": status, "valid_from": batch.valid_from.isoformat(),
        "valid_to": state.valid_to.isoformat() if state.valid_to else None, "issuer": batch.issuer,
    }
    v.product = {"id": batch.product_id, "name": batch.product_name, "trademark": batch.trademark,
                 "product_class": batch.product_class}
    v.enterprise = {"name": batch.enterprise_name, "uscc": batch.enterprise_uscc, "gf_code": batch.gf_code,
                    "county_code": batch.county_code}
    v.reasons.append(reason("genuine", lang, issued=_day(batch.created_at)))
    if state.label_voided_at is not None:
        v.verdict = "label_void"
        v.reasons = [reason("label_voided", lang, at=_day(state.label_voided_at), reason=state.label_void_reason or "")]
    elif state.batch_voided_at is not None:
        v.verdict = "label_void"
        v.reasons = [reason("batch_voided", lang, at=_day(state.batch_voided_at), reason=state.batch_void_reason or "")]
    if status != "valid":
        if v.verdict == "authentic":
            v.verdict = "certificate_invalid"
            v.reasons = []
        v.reasons.append(_certificate_reason(batch, state, status, lang))
    elif state.valid_to is None:
        v.reasons.append(reason("certificate_valid_long_term", lang, number=number))
    else:
        v.reasons.append(reason("certificate_valid", lang, number=number, valid_to=state.valid_to.isoformat()))
    return v


def _certificate_reason(batch: scan_path.BatchInfo, state: scan_path.LiveState, status: str,
                        lang: str) -> dict[str, Any]:
    number = batch.certificate_number
    if status == "expired":
        assert state.valid_to is not None
        return reason("certificate_expired", lang, number=number, valid_to=state.valid_to.isoformat())
    event = scan_path.latest_status_event(batch.certificate_id)
    return reason(f"certificate_{status}", lang, number=number,
                  since=_day(event.at) if event else "", reason=event.reason if event else "")


def _record(v: Verdict, channel: str, client: ClientInfo, now: dt.datetime) -> None:
    """Commit the scan before the verdict is answered; a genuine label's result shows its count."""
    try:
        counted = scan_path.record_scan(_scan_row(v, channel, client, now))
    except ScanNotRecorded as exc:
        raise Unavailable("the scan could not be recorded; please scan again", code="scan_not_recorded") from exc
    if counted is not None:
        v.scans = {"count": counted[0], "first_at": counted[1].isoformat()}


def _scan_row(v: Verdict, channel: str, client: ClientInfo, now: dt.datetime) -> dict[str, Any]:
    return {
        "serial": v.serial if v.serial is not None and v.serial <= label_gen.MAX_SERIAL else None,
        "batch_id": v.batch_id, "at": now, "verdict": v.verdict, "channel": channel,
        "network": client.network, "user_agent": client.user_agent,
        "latitude": client.latitude, "longitude": client.longitude, "region": client.region,
    }


@functools.lru_cache(maxsize=65536)  # every genuine scan shows its batch's issue time
def _day(moment: dt.datetime) -> str:
    return moment.astimezone(clock.CHINA_TZ).strftime("%Y-%m-%d %H:%M")
