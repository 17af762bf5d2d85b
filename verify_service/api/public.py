"""Public routes: the consumer scan page, the verdict API and the public key set."""

from __future__ import annotations

from typing import Any, Mapping

from flask import Blueprint, jsonify, render_template, request

from verify_service.api.common import doc
from verify_service.auth import public
from verify_service.clock import CHINA_TZ
from verify_service.domain.client import ClientInfo, check_region, coarse_location, coarse_network, user_agent_family
from verify_service.domain.identifiers import PROVINCES
from verify_service.errors import ValidationFailed
from verify_service.i18n import negotiate_header, page_text
from verify_service.services import keys, verification

bp = Blueprint("public", __name__)


def client_of(remote_addr: str | None, user_agent: str | None, lat: Any = None, lon: Any = None,
              region: Any = None) -> ClientInfo:
    """What a scan keeps of its client, coarsened (position and region only as the user gave them)."""
    place = coarse_location(lat, lon) if lat is not None and lon is not None else None
    return ClientInfo(
        network=coarse_network(remote_addr), user_agent=user_agent_family(user_agent),
        latitude=place[0] if place else None, longitude=place[1] if place else None,
        region=check_region(region),
    )


def client_info(lat: Any = None, lon: Any = None) -> ClientInfo:
    return client_of(request.remote_addr, request.headers.get("User-Agent"), lat, lon)


def language(requested: str | None, accept_language: str | None) -> str:
    """The page language: ``lang`` asked for, else the ``Accept-Language`` header, else Chinese."""
    return negotiate_header(requested[:16] if requested else None, accept_language)


def lang_of_request() -> str:
    requested = request.args.get("lang") or (request.form.get("lang") if request.method == "POST" else None)
    return language(requested, request.headers.get("Accept-Language"))


_lang = lang_of_request


@bp.get("/")
@public
def home() -> Any:
    lang = lang_of_request()
    return render_template("home.html", t=page_text(lang), lang=lang)


@bp.get("/L/<path:code>")
@bp.get("/l/<path:code>")
@public
def scan_page(code: str) -> Any:
    lang = _lang()
    wants_json = request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"
    # region: the province the user chose on the page (consent)
    client = client_of(request.remote_addr, request.headers.get("User-Agent"), region=request.args.get("region"))
    region = client.region
    result = verification.verify_code(code, "api" if wants_json else "page", client, lang)
    if wants_json:
        return result.to_json()
    first = result.scans.get("first_at")
    return render_template(
        "scan.html", v=result.to_json(), t=page_text(lang), lang=lang, code=code,
        first_scan=china_time(first) if first else None, provinces=provinces(lang), region=region,
        has_pin=bool(result.context and result.context[0].pins),
    )


def provinces(lang: str) -> list[tuple[str, str]]:
    """(code, name) of every province, for the consented region pickers."""
    return [(code, names[0] if lang == "zh" else names[1]) for code, names in PROVINCES.items()]


def china_time(iso: str) -> str:
    import datetime as dt

    return dt.datetime.fromisoformat(iso).astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


@bp.get("/api/v1/verify")
@public
@doc("Verify a label code or URL; every call is recorded as a scan "
     "(query: code; with the user's consent lat/lon or region, a GB/T 2260 code prefix; lang)", tag="public")
def verify_api() -> Any:
    # Requests for this route are normally answered by verify_service.fast_verify, which calls
    # verdict_for_query without Flask's per-request machinery; this view serves the rest
    # (HEAD, and every request when the fast path is off).
    return verdict_for_query(request.args, request.remote_addr, request.headers.get("User-Agent"),
                             request.headers.get("Accept-Language"))


def verdict_for_query(args: Mapping[str, str], remote_addr: str | None, user_agent: str | None,
                      accept_language: str | None, record: bool = True) -> dict[str, Any]:
    """The verdict JSON of ``GET /api/v1/verify`` for its query arguments and client, the scan
    recorded (``record=False``: not recorded, for the benchmark that prices the write)."""
    # Only the parameters given: werkzeug's MultiDict.get raises and catches an exception for
    # each one missing, and most scans give only the code.
    query = {k: args[k] for k in _VERIFY_PARAMETERS if k in args}
    code = query.get("code")
    if code is None or not code.strip():
        raise ValidationFailed("query parameter code is required (a label code or its full URL)", code="code_required")
    client = client_of(remote_addr, user_agent, query.get("lat"), query.get("lon"), query.get("region"))
    return verification.verify_code(code, "api", client, language(query.get("lang"), accept_language),
                                    record).to_json()


_VERIFY_PARAMETERS = ("code", "lat", "lon", "region", "lang")


@bp.get("/.well-known/label-keys.json")
@public
@doc("The issuer's public label keys (key id, algorithm, public key, status, validity, revocation)", tag="public")
def label_keys() -> Any:
    resp = jsonify(keys.public_key_set())
    resp.headers["Cache-Control"] = "public, max-age=300"
    return resp
