"""Misuse signals at scan time, and the alerts they raise (see domain/signals.py for the rules)."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from flask import current_app

from verify_service import clock
from verify_service.data import fraud as fraud_data
from verify_service.data import labels as label_data
from verify_service.data import scan_path
from verify_service.domain import signals as rules
from verify_service.domain.client import ClientInfo
from verify_service.errors import Conflict, NotFound, ValidationFailed
from verify_service.i18n import message, signal_message
from verify_service.models import Alert
from verify_service.push import outbox, platform
from verify_service.services import audit

#: How far back the travel signal looks for located scans.
HISTORY_DAYS = 30


_THRESHOLD_KEYS = ("CLONE_WINDOW_HOURS", "CLONE_PARTIES", "CLONE_SAME_PARTY_MINUTES", "CLONE_MAX_SPEED_KMH",
                   "CLONE_MIN_TRAVEL_KM", "SHELF_LIFE_GRACE_DAYS", "CLONE_THRESHOLD")


def thresholds() -> rules.Thresholds:
    config = current_app.config
    return _thresholds(tuple(config[k] for k in _THRESHOLD_KEYS))


@functools.lru_cache(maxsize=16)  # built once per setting, not on every scan
def _thresholds(values: tuple[Any, ...]) -> rules.Thresholds:
    return rules.Thresholds.from_config(dict(zip(_THRESHOLD_KEYS, values)))


def apply_signals(v: Any, client: ClientInfo, now: dt.datetime, lang: str) -> None:
    """Evaluate a genuine label's signals (the current scan included), add them to the
    verdict's reasons, make it ``suspected_clone`` past the threshold and raise an alert."""
    batch, state = v.context
    t = thresholds()
    current = rules.ScanFact(now, client.network, client.user_agent, client.latitude, client.longitude, client.region)
    history: list[rules.ScanFact] = []
    previous_scans = state.scan_count
    # Most labels are scanned once or twice: only read their history when it could matter.
    if previous_scans + 1 >= t.parties or (previous_scans and (client.latitude is not None or client.region)):
        since = now - dt.timedelta(days=HISTORY_DAYS)
        if state.alert_status == "dismissed" and state.alert_updated_at is not None:
            # a regulator cleared what came before
            since = max(since, state.alert_updated_at + dt.timedelta(microseconds=1))
        history = [rules.ScanFact(s.at, s.network, s.user_agent, s.latitude, s.longitude, s.region)
                   for s in scan_path.recent_scans(v.serial, since)]
    found = rules.evaluate(
        history + [current],
        rules.BatchFacts(batch.created_at, batch.sales_region, batch.shelf_life_days, batch.release_date),
        now, clock.today_in_china(now), state.pin_use_count, state.pin_used_at, t)
    total = rules.score(found)
    v.reasons += [{"code": s.code, "message": signal_message(s.code, lang, s.evidence), "evidence": s.evidence}
                  for s in found]
    alert_id, alert_status = state.alert_id, state.alert_status
    if total >= t.threshold:
        alert = _raise_alert(fraud_data.find_alert(v.serial), v, found, total, now)
        alert_id, alert_status = alert.id, alert.status
    if alert_id is not None and alert_status in ("open", "confirmed"):
        v.reasons.insert(0, {"code": "alert_open", "message": message("alert_open", lang, alert_id=alert_id)})
        if v.verdict == "authentic":
            v.verdict = "suspected_clone"


def _raise_alert(alert: Alert | None, v: Any, found: list[rules.Signal], total: float, now: dt.datetime) -> Alert:
    signals = [s.to_json() for s in found]
    batch = label_data.find_batch_context(v.serial)
    cert = batch.certificate
    if alert is None:
        alert = fraud_data.add(Alert(
            serial=v.serial, batch_id=batch.id, certificate_id=cert.id, enterprise_id=batch.enterprise_id,
            province=batch.enterprise.county_code[:2], programme=cert.programme, score=total, signals=signals,
            status="open", raised_at=now, updated_at=now,
        ))
    elif alert.status == "dismissed":
        alert.status, alert.score, alert.signals, alert.updated_at = "open", total, signals, now
        alert.raised_at = now
    else:
        if total >= alert.score:
            alert.score, alert.signals = total, signals
        alert.updated_at = now
        fraud_data.flush()
        return alert
    fraud_data.flush()
    outbox.emit("clone_alert.raised", str(alert.id), platform.clone_alert(
        alert_id=alert.id, serial=v.serial, b=batch, reasons=[s.code for s in found],
        scan_count=v.context[1].scan_count + 1, at=now))
    return alert


ALERT_STATUSES = ("open", "confirmed", "dismissed")


def list_alerts(**filters: Any) -> list[dict[str, Any]]:
    if filters.get("status") and filters["status"] not in ALERT_STATUSES:
        raise ValidationFailed(f"status must be one of {', '.join(ALERT_STATUSES)}")
    return [alert_view(a) for a in fraud_data.list_alerts(**filters)]


def alert_view(a: Alert) -> dict[str, Any]:
    return {
        "id": a.id, "serial": a.serial, "batch_id": a.batch_id, "status": a.status, "score": a.score,
        "province": a.province, "programme": a.programme,
        "certificate_number": a.certificate.number, "enterprise": {"uscc": a.enterprise.uscc, "name": a.enterprise.name},
        "signals": a.signals, "raised_at": a.raised_at.isoformat(), "updated_at": a.updated_at.isoformat(),
        "closed_by": a.closed_by, "note": a.note,
    }


def close_alert(alert_id: int, status: str, note: str, actor: str, role: str) -> dict[str, Any]:
    """A regulator confirms (the label is copied) or dismisses (a false alarm) an alert."""
    alert = fraud_data.get_alert(alert_id)
    if alert is None:
        raise NotFound(f"no alert {alert_id}", code="alert_not_found")
    if status not in ("confirmed", "dismissed"):
        raise ValidationFailed("status must be confirmed or dismissed")
    if alert.status != "open":
        raise Conflict(f"alert {alert_id} is already {alert.status}", code="illegal_transition")
    now = clock.now()
    alert.status, alert.note, alert.closed_by, alert.updated_at = status, note, actor, now
    fraud_data.flush()
    audit.record(actor, role, f"alert.{status}", "alert", str(alert_id), serial=alert.serial, note=note)
    return alert_view(alert)
