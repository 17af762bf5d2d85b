"""Consumer write paths: scratch-off PIN checks and reports (JSON API and HTML forms)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for
from pydantic import ValidationError

from verify_service.api.common import doc, parse_body
from verify_service.api.public import china_time, client_info, lang_of_request
from verify_service.auth import public
from verify_service.errors import ServiceError, ValidationFailed
from verify_service.i18n import page_text
from verify_service.ratelimit import limiter
from verify_service.schemas import PinCheckIn, ReportIn, error_list
from verify_service.services import pins, reports

bp = Blueprint("consumer", __name__)


def _pin_limit() -> str:
    return str(current_app.config["RATE_LIMIT_PIN"])


def _report_limit() -> str:
    return str(current_app.config["RATE_LIMIT_REPORTS"])


@bp.post("/api/v1/verify-pin")
@public
@limiter.limit(_pin_limit)
@doc("Check a scratch-off PIN (manual query): first use is recorded, later uses say when it was first used",
     body=PinCheckIn, responses={200: "result: first_use | already_used | wrong_pin, with the verdict",
                                 429: "too many attempts"}, tag="public")
def verify_pin() -> Any:
    return pins.check(parse_body(PinCheckIn), client_info(), lang_of_request())


def _report_from_request() -> tuple[ReportIn, bytes | None]:
    photo = None
    if request.mimetype == "multipart/form-data" or request.mimetype == "application/x-www-form-urlencoded":
        fields = {k: v for k, v in request.form.items() if v.strip() and k in ReportIn.model_fields}
        try:
            body = ReportIn.model_validate(fields)
        except ValidationError as exc:
            problems = error_list(exc)
            raise ValidationFailed(f"{problems[0]['field']}: {problems[0]['message']}", details=problems) from None
        upload = request.files.get("photo")
        if upload is not None and upload.filename:
            photo = upload.stream.read(int(current_app.config["REPORT_PHOTO_MAX_BYTES"]) + 1)
    else:
        body = parse_body(ReportIn)
    return body, photo


@bp.post("/api/v1/reports")
@public
@limiter.limit(_report_limit)
@doc("Report a suspected fake (JSON, or multipart with an optional photo: JPEG/PNG/WebP up to 2 MiB)",
     body=ReportIn, responses={201: '{"id"}', 429: "too many reports"}, tag="public")
def create_report() -> Any:
    body, photo = _report_from_request()
    return reports.create_report(body, photo, client_info(body.lat, body.lon)), 201


# --- HTML forms (work without JavaScript) ------------------------------------------------


@bp.get("/check")
@public
def pin_form() -> Any:
    lang = lang_of_request()
    return render_template("check.html", t=page_text(lang), lang=lang, result=None, error=None,
                           serial=request.args.get("serial", ""))


@bp.post("/check")
@public
@limiter.limit(_pin_limit)
def pin_form_submit() -> Any:
    lang = lang_of_request()
    serial = request.form.get("serial", "").strip()
    try:
        body = PinCheckIn.model_validate({"serial": serial, "pin": request.form.get("pin", "")})
        result = pins.check(body, client_info(), lang)
    except ValidationError:
        return render_template("check.html", t=page_text(lang), lang=lang, result=None, serial=serial,
                               error=page_text(lang)["pin.invalid"]), 422
    except ServiceError as exc:
        return render_template("check.html", t=page_text(lang), lang=lang, result=None, serial=serial,
                               error=exc.message), exc.status
    v = result["verdict"]
    first = v["scans"].get("first_at") if v else None
    return render_template("check.html", t=page_text(lang), lang=lang, result=result, error=None, serial=serial,
                           v=v, first_scan=china_time(first) if first else None,
                           pin_first_used=china_time(result["first_used_at"]) if result["first_used_at"] else None)


@bp.post("/report")
@public
@limiter.limit(_report_limit)
def report_form_submit() -> Any:
    lang = lang_of_request()
    try:
        body, photo = _report_from_request()
        created = reports.create_report(body, photo, client_info(body.lat, body.lon))
    except ServiceError as exc:
        return render_template("report_done.html", t=page_text(lang), lang=lang, report_id=None,
                               error=exc.message, back=_back()), exc.status
    return render_template("report_done.html", t=page_text(lang), lang=lang, report_id=created["id"], error=None,
                           back=_back()), 201


def _back() -> str | None:
    """The scan page the report was sent from (only this site's own label pages)."""
    code = request.form.get("code", "").strip()
    return url_for("public.scan_page", code=code) if code.isdigit() and len(code) < 300 else None
