"""``GET /api/v1/verify`` answered in front of Flask: the same responses as the Flask route,
the same unit of work, errors and metrics, and every other request left to Flask."""

from __future__ import annotations

import csv
import io
import json
import logging
from typing import Any, Callable, Iterator

import label_gen
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from verify_service import create_app
from verify_service.db import session
from verify_service.fast_verify import FastVerify
from verify_service.models import Scan
from verify_service.services import verification


@pytest.fixture
def urls(holder: Any, order: Callable[..., Any], client: Any) -> list[str]:
    b = order(holder, 3).json
    r = client.get(f"/api/v1/enterprise/label-batches/{b['id']}/manifest.csv", headers=holder.headers)
    return [row["url"] for row in csv.DictReader(io.StringIO(r.get_data(as_text=True)))]


@pytest.fixture
def flask_only(app_config: dict[str, Any]) -> Iterator[Any]:
    """The same service with the scan API served by its Flask route."""
    plain = create_app({**app_config, "VERIFY_FAST_PATH": False})
    assert not isinstance(plain.wsgi_app, FastVerify)
    yield plain.test_client()
    plain.extensions["db"].engine.dispose()


def _forged(serial: int) -> str:
    return label_gen.KeyRing([label_gen.generate_key_record("x", [0])], "x").sign(serial)


def _cases(urls: list[str]) -> list[tuple[dict[str, str], dict[str, str]]]:
    return [
        ({"code": urls[0]}, {}),
        ({"code": urls[0], "lang": "en"}, {}),
        ({"code": urls[1]}, {"Accept-Language": "en-US,en;q=0.9"}),
        ({"code": "  " + urls[1].lower() + " "}, {}),
        ({"code": urls[2], "lat": "31.234", "lon": "121.47", "region": "31"},
         {"User-Agent": "Mozilla/5.0 (iPhone) MicroMessenger/8.0"}),
        ({"code": urls[2], "lat": "north", "lon": "1e999", "region": "../../x"}, {}),
        ({"code": "12345"}, {}),
        ({"code": "x" * 5000}, {}),
        ({"code": "%ff%fe"}, {"Accept-Language": "zh-CN"}),
        ({}, {}),
        ({"code": "   "}, {"Accept-Language": "en"}),
    ]


def _without_scans(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "scans"}


def test_same_answers_as_the_flask_route(client: Any, flask_only: Any, urls: list[str]) -> None:
    cases = _cases(urls) + [({"code": _forged(10_000_001)}, {})]
    for query, headers in cases:
        fast = client.get("/api/v1/verify", query_string=query, headers=headers)
        plain = flask_only.get("/api/v1/verify", query_string=query, headers=headers)
        assert (fast.status_code, fast.content_type) == (plain.status_code, plain.content_type), query
        assert fast.headers["Content-Length"] == str(len(fast.data))
        if fast.status_code != 200 or fast.json["scans"]["count"] is None:
            assert fast.data == plain.data, query  # byte for byte, errors included
            continue
        assert _without_scans(fast.json) == _without_scans(plain.json), query
        # both were recorded as scans of the same label, the fast one first
        assert plain.json["scans"]["count"] == fast.json["scans"]["count"] + 1
        assert fast.data.endswith(b"}\n") and b'": ' not in fast.data  # the app's compact JSON


def test_missing_code_is_a_422_json_error(client: Any) -> None:
    r = client.get("/api/v1/verify")
    assert r.status_code == 422
    assert r.json == {"error": {"code": "code_required",
                                "message": "query parameter code is required (a label code or its full URL)"}}


def test_the_scan_api_skips_flask_request_handling(app: Any, client: Any, urls: list[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def no_flask(*_: Any) -> Any:
        raise AssertionError("Flask's request handling ran")

    monkeypatch.setattr(app, "full_dispatch_request", no_flask)
    assert client.get("/api/v1/verify", query_string={"code": urls[0]}).json["verdict"] == "authentic"
    monkeypatch.undo()
    # other methods and paths are Flask's
    assert client.head("/api/v1/verify", query_string={"code": urls[0]}).status_code == 200
    post = client.post("/api/v1/verify", query_string={"code": urls[0]})
    assert post.status_code == 405 and post.json["error"]["code"] == "method_not_allowed"
    assert client.get("/api/v1/verify/", query_string={"code": urls[0]}).status_code == 404


def test_scans_and_alerts_are_committed(app: Any, client: Any, urls: list[str], run: Callable[..., Any],
                                        clock: Any) -> None:
    # Five parties scanning one label within the clone window: the fifth scan raises an alert,
    # written through the request's session, which the fast path commits.
    for i in range(5):
        v = client.get("/api/v1/verify", query_string={"code": urls[0]},
                       environ_base={"REMOTE_ADDR": f"10.{i}.7.9" if i % 2 else f"203.0.{i}.5"}).json
        clock.advance(hours=8)
    assert v["verdict"] == "suspected_clone" and v["reasons"][0]["code"] == "alert_open"
    assert v["scans"]["count"] == 5
    assert run(lambda: session().scalar(select(func.count()).select_from(Scan))) == 5
    later = client.get("/api/v1/verify", query_string={"code": urls[0]}).json  # the alert was committed
    assert later["verdict"] == "suspected_clone" and later["scans"]["count"] == 6


def test_an_unexpected_error_is_a_500_without_a_trace_and_writes_nothing(
        client: Any, urls: list[str], run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(verification, "verify_code", broken)
    with caplog.at_level(logging.ERROR, logger="verify_service.fast_verify"):
        r = client.get("/api/v1/verify", query_string={"code": urls[0]})
    assert r.status_code == 500
    assert r.json == {"error": {"code": "internal_error", "message": "internal error; the request was not applied"}}
    assert b"secret" not in r.data and "secret internals" in caplog.text
    assert run(lambda: session().scalar(select(func.count()).select_from(Scan))) == 0


def _requests_counted(status: str) -> float:
    value = REGISTRY.get_sample_value("labels_http_requests_total",
                                      {"method": "GET", "endpoint": "public.verify_api", "status": status})
    return value or 0.0


def test_requests_are_counted_under_the_route_endpoint(client: Any, urls: list[str]) -> None:
    ok, refused = _requests_counted("200"), _requests_counted("422")
    client.get("/api/v1/verify", query_string={"code": urls[0]})
    client.get("/api/v1/verify")
    assert (_requests_counted("200"), _requests_counted("422")) == (ok + 1, refused + 1)
    text = client.get("/metrics").get_data(as_text=True)
    assert 'labels_http_request_duration_seconds_count{endpoint="public.verify_api"}' in text


def test_not_installed_when_every_route_is_rate_limited(app_config: dict[str, Any]) -> None:
    limited = create_app({**app_config, "RATELIMIT_DEFAULT": "1000 per second"})
    assert not isinstance(limited.wsgi_app, FastVerify)
    limited.extensions["db"].engine.dispose()


def test_json_encoding_follows_the_app_provider(app: Any) -> None:
    fast = app.wsgi_app
    assert isinstance(fast, FastVerify)
    body = {"verdict": "authentic", "product": {"name": "五常大米"}}
    with app.test_request_context():
        expected = app.json.response(body).get_data()
    assert fast.encode(body) == expected
    assert json.loads(fast.encode(body)) == body


def test_a_clients_own_method_makes_no_new_series(client: Any) -> None:
    def counted(method: str) -> float:
        return REGISTRY.get_sample_value("labels_http_requests_total",
                                         {"method": method, "endpoint": "unmatched", "status": "405"}) or 0.0

    before, deletes = counted("other"), counted("DELETE")
    for method in ("PROPFIND", "X-SCAN-1", "X-SCAN-2", "DELETE"):
        assert client.open("/api/v1/verify", method=method).status_code == 405
    assert counted("other") == before + 3 and counted("DELETE") == deletes + 1
    assert counted("PROPFIND") == counted("X-SCAN-1") == 0.0


def test_series_are_kept_apart_by_status(client: Any, urls: list[str]) -> None:
    ok, refused = _requests_counted("200"), _requests_counted("422")
    for _ in range(2):
        client.get("/api/v1/verify", query_string={"code": urls[0]})
    client.get("/api/v1/verify")
    assert (_requests_counted("200"), _requests_counted("422")) == (ok + 2, refused + 1)


def test_an_unrecorded_verdict_writes_nothing(app: Any, client: Any, urls: list[str], run: Callable[..., Any]) -> None:
    """What the benchmark's "unrecorded" part serves: the same verdict, and no scan stored."""
    from verify_service.api.public import verdict_for_query

    with app.app_context():
        v = verdict_for_query({"code": urls[0]}, "127.0.0.1", None, None, record=False)
    assert v["verdict"] == "authentic" and v["scans"] == {"count": None, "first_at": None}
    assert run(lambda: session().scalar(select(func.count()).select_from(Scan))) == 0
    recorded = client.get("/api/v1/verify", query_string={"code": urls[0]}).json
    assert {k: recorded[k] for k in recorded if k != "scans"} == {k: v[k] for k in v if k != "scans"}
    assert recorded["scans"]["count"] == 1
