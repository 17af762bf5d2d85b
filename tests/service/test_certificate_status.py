"""Certificate status: every transition, legal and illegal, and expiry from the date."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.service.factories import certificate_body, enterprise_body
from verify_service.domain.certificates import effective_status


@pytest.fixture
def cert(client: Any, admin_headers: dict[str, str]) -> str:
    ent = enterprise_body()
    client.post("/api/v1/admin/enterprises", json=ent, headers=admin_headers)
    body = certificate_body(ent["uscc"], valid_from="2025-01-01", valid_to="2027-12-31")
    assert client.post("/api/v1/admin/certificates", json=body, headers=admin_headers).status_code == 201
    return str(body["number"])


def _set(client: Any, headers: dict[str, str], number: str, status: str, **extra: Any) -> Any:
    return client.post(f"/api/v1/admin/certificates/{number}/status",
                       json={"status": status, "reason": "测试原因", **extra}, headers=headers)


def _status(client: Any, headers: dict[str, str], number: str) -> str:
    return str(client.get(f"/api/v1/admin/certificates/{number}", headers=headers).json["status"])


# (path of statuses to reach first, requested status, expected HTTP status, resulting status)
CASES = [
    ([], "suspended", 200, "suspended"),
    ([], "revoked", 200, "revoked"),
    ([], "cancelled", 200, "cancelled"),
    ([], "valid", 200, "valid"),  # renew a valid certificate
    (["suspended"], "valid", 200, "valid"),  # reinstate
    (["suspended"], "revoked", 200, "revoked"),
    (["suspended"], "cancelled", 200, "cancelled"),
    (["suspended"], "suspended", 409, "suspended"),
    (["revoked"], "valid", 409, "revoked"),
    (["revoked"], "suspended", 409, "revoked"),
    (["revoked"], "cancelled", 409, "revoked"),
    (["revoked"], "revoked", 409, "revoked"),
    (["cancelled"], "valid", 409, "cancelled"),
    (["cancelled"], "suspended", 409, "cancelled"),
    (["cancelled"], "revoked", 409, "cancelled"),
    ([], "expired", 409, "valid"),
    ([], "frozen", 409, "valid"),
]


@pytest.mark.parametrize("path,target,http,result", CASES)
def test_transitions(client: Any, admin_headers: dict[str, str], cert: str,
                     path: list[str], target: str, http: int, result: str) -> None:
    for step in path:
        assert _set(client, admin_headers, cert, step).status_code == 200
    r = _set(client, admin_headers, cert, target)
    assert r.status_code == http, r.json
    if http == 409:
        assert r.json["error"]["code"] == "illegal_transition"
        assert r.json["error"]["message"]
    assert _status(client, admin_headers, cert) == result


def test_history_records_who_when_why(client: Any, admin_headers: dict[str, str], cert: str) -> None:
    _set(client, admin_headers, cert, "suspended")
    _set(client, admin_headers, cert, "valid")
    history = client.get(f"/api/v1/admin/certificates/{cert}", headers=admin_headers).json["status_history"]
    assert [(h["action"], h["from_status"], h["to_status"]) for h in history] == [
        ("issue", None, "valid"), ("suspend", "valid", "suspended"), ("reinstate", "suspended", "valid")]
    assert all(h["actor"].startswith("admin:") and h["at"] for h in history)
    assert history[1]["reason"] == "测试原因"


def test_illegal_transition_writes_nothing(client: Any, admin_headers: dict[str, str], cert: str) -> None:
    _set(client, admin_headers, cert, "revoked")
    before = client.get(f"/api/v1/admin/certificates/{cert}", headers=admin_headers).json
    assert _set(client, admin_headers, cert, "valid").status_code == 409
    after = client.get(f"/api/v1/admin/certificates/{cert}", headers=admin_headers).json
    assert before == after


def test_expired_appears_the_day_after_valid_to(client: Any, admin_headers: dict[str, str], cert: str, clock: Any) -> None:
    clock.set_date(dt.date(2027, 12, 31))
    assert _status(client, admin_headers, cert) == "valid"
    clock.set_date(dt.date(2028, 1, 1))
    assert _status(client, admin_headers, cert) == "expired"


def test_expiry_uses_china_date(client: Any, admin_headers: dict[str, str], cert: str, clock: Any) -> None:
    # 2027-12-31 16:30 UTC is already 2028-01-01 00:30 in China.
    clock.at = dt.datetime(2027, 12, 31, 16, 30, tzinfo=dt.timezone.utc)
    assert _status(client, admin_headers, cert) == "expired"


def test_renew_expired_certificate(client: Any, admin_headers: dict[str, str], cert: str, clock: Any) -> None:
    clock.set_date(dt.date(2028, 2, 1))
    assert _status(client, admin_headers, cert) == "expired"
    assert _set(client, admin_headers, cert, "suspended").status_code == 409
    r = _set(client, admin_headers, cert, "valid")
    assert r.status_code == 200
    assert r.json["status"] == "valid" and r.json["valid_to"] == "2030-12-31"
    assert r.json["status_history"][-1]["action"] == "renew"


def test_renew_with_explicit_date_must_extend(client: Any, admin_headers: dict[str, str], cert: str) -> None:
    r = _set(client, admin_headers, cert, "valid", valid_to="2027-06-01")
    assert r.status_code == 422
    r = _set(client, admin_headers, cert, "valid", valid_to="2030-12-31")
    assert r.status_code == 200 and r.json["valid_to"] == "2030-12-31"
    assert _set(client, admin_headers, cert, "suspended", valid_to="2031-01-01").status_code == 422


def test_suspended_cannot_be_renewed_before_reinstated(client: Any, admin_headers: dict[str, str], cert: str) -> None:
    _set(client, admin_headers, cert, "suspended")
    r = _set(client, admin_headers, cert, "valid", valid_to="2030-12-31")
    assert r.status_code == 409 and "reinstated" in r.json["error"]["message"]


def test_status_change_needs_a_reason(client: Any, admin_headers: dict[str, str], cert: str) -> None:
    r = client.post(f"/api/v1/admin/certificates/{cert}/status", json={"status": "suspended"}, headers=admin_headers)
    assert r.status_code == 422 and r.json["error"]["details"][0]["field"] == "reason"
    r = client.post("/api/v1/admin/certificates/LB-03-2301239999A/status",
                    json={"status": "suspended", "reason": "x"}, headers=admin_headers)
    assert r.status_code == 404


@pytest.mark.parametrize("stored,valid_to,today,expected", [
    ("valid", dt.date(2026, 1, 1), dt.date(2026, 1, 1), "valid"),
    ("valid", dt.date(2026, 1, 1), dt.date(2026, 1, 2), "expired"),
    ("suspended", dt.date(2026, 1, 1), dt.date(2026, 1, 2), "expired"),
    ("revoked", dt.date(2026, 1, 1), dt.date(2026, 1, 2), "revoked"),
    ("cancelled", dt.date(2026, 1, 1), dt.date(2025, 1, 2), "cancelled"),
    ("valid", None, dt.date(2099, 1, 1), "valid"),
])
def test_effective_status(stored: str, valid_to: dt.date | None, today: dt.date, expected: str) -> None:
    assert effective_status(stored, valid_to, today) == expected
