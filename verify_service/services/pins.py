"""Scratch-off PINs: the manual query path for people who type instead of scanning.

A correct PIN proves the person holds the physical label.  The first use is recorded; later
uses say when it was first used (and count as a misuse signal).  Wrong PINs are limited per
serial (the label locks for a while) and per client (the rate limiter on the route).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import label_gen
from flask import current_app

from verify_service import clock
from verify_service import data
from verify_service.data import labels as label_data
from verify_service.domain.client import ClientInfo
from verify_service.errors import NotFound, ServiceError, ValidationFailed
from verify_service.schemas import PinCheckIn
from verify_service.services import keys, verification


class PinLocked(ServiceError):
    status = 429
    code = "pin_locked"


def check(body: PinCheckIn, client: ClientInfo, lang: str) -> dict[str, Any]:
    cfg = current_app.config
    if not cfg["PIN_SECRET"]:
        raise keys.KeyConfigurationError("PIN_SECRET is not set: PINs cannot be checked")
    batch = label_data.find_batch_context(body.serial)
    if batch is None:
        raise NotFound(f"no label with serial {body.serial}", code="label_not_found")
    if not batch.pins:
        raise ValidationFailed(f"label {body.serial} has no scratch-off PIN; scan its QR code instead", code="no_pin")
    now = clock.now()
    label = label_data.get_or_create_label(body.serial, batch.id)
    if label.pin_locked_until is not None and label.pin_locked_until > now:
        raise PinLocked(f"too many wrong PINs for label {body.serial}; try again after "
                        f"{label.pin_locked_until.astimezone(clock.CHINA_TZ):%H:%M}")
    if not label_gen.check_pin(str(cfg["PIN_SECRET"]).encode(), body.serial, body.pin):
        label.pin_failures += 1
        left = int(cfg["PIN_MAX_FAILURES"]) - label.pin_failures
        if left <= 0:
            label.pin_locked_until = now + dt.timedelta(minutes=int(cfg["PIN_LOCK_MINUTES"]))
            label.pin_failures = 0
            left = 0
        data.flush()
        return {"result": "wrong_pin", "serial": body.serial, "attempts_left": left, "verdict": None,
                "first_used_at": None}
    label.pin_failures = 0
    label.pin_use_count += 1
    first_use = label.pin_used_at is None
    if first_use:
        label.pin_used_at = now
    data.flush()
    v = verification.verify_serial(body.serial, "pin", client, lang)
    return {"result": "first_use" if first_use else "already_used", "serial": body.serial,
            "first_used_at": label.pin_used_at.isoformat() if label.pin_used_at else None,
            "uses": label.pin_use_count, "verdict": v.to_json()}
