from __future__ import annotations

from typing import Any

from tests.service.factories import certificate_body, enterprise_body


def _setup(client: Any, headers: dict[str, str], **cert: Any) -> dict[str, Any]:
    ent = enterprise_body()
    r = client.post("/api/v1/admin/enterprises", json=ent, headers=headers)
    assert r.status_code == 201, r.json
    r = client.post("/api/v1/admin/certificates", json=certificate_body(ent["uscc"], **cert), headers=headers)
    assert r.status_code == 201, r.json
    return r.json


def test_register_enterprise_and_issue_certificate(client: Any, admin_headers: dict[str, str]) -> None:
    cert = _setup(client, admin_headers)
    assert cert["status"] == "valid"
    assert cert["mark"] == "绿色食品"
    assert cert["grade"] == "A"
    assert cert["products"][0]["name"] == "五常大米"
    assert isinstance(cert["products"][0]["id"], int)
    assert cert["products"][0]["approved_output"] == "500"
    r = client.get(f"/api/v1/admin/certificates/{cert['number']}", headers=admin_headers)
    assert r.status_code == 200
    assert [e["action"] for e in r.json["status_history"]] == ["issue"]


def test_default_validity_by_programme(client: Any, admin_headers: dict[str, str]) -> None:
    ent = enterprise_body()
    client.post("/api/v1/admin/enterprises", json=ent, headers=admin_headers)
    body = certificate_body(ent["uscc"], valid_from="2026-03-01")
    del body["valid_to"]
    assert client.post("/api/v1/admin/certificates", json=body, headers=admin_headers).json["valid_to"] == "2029-02-28"
    body = certificate_body(ent["uscc"], number="110OP2600321", programme="organic", valid_from="2026-03-01")
    del body["valid_to"]
    assert client.post("/api/v1/admin/certificates", json=body, headers=admin_headers).json["valid_to"] == "2027-02-28"
    body = certificate_body(ent["uscc"], number="AGI01459", programme="gi", valid_from="2015-03-01")
    del body["valid_to"]
    r = client.post("/api/v1/admin/certificates", json=body, headers=admin_headers)
    assert r.json["valid_to"] is None and r.json["status"] == "valid"


def test_bad_credit_code_is_422_with_field(client: Any, admin_headers: dict[str, str]) -> None:
    body = enterprise_body(uscc="91350100M000100Y44")
    r = client.post("/api/v1/admin/enterprises", json=body, headers=admin_headers)
    assert r.status_code == 422
    assert r.json["error"]["code"] == "validation_failed"
    assert r.json["error"]["details"][0]["field"] == "uscc"
    assert "check character" in r.json["error"]["message"]


def test_bad_certificate_number_rejected(client: Any, admin_headers: dict[str, str]) -> None:
    ent = enterprise_body()
    client.post("/api/v1/admin/enterprises", json=ent, headers=admin_headers)
    r = client.post("/api/v1/admin/certificates", json=certificate_body(ent["uscc"], number="LB-03-2313231234A"),
                    headers=admin_headers)
    assert r.status_code == 422 and "month 13" in r.json["error"]["message"]
    r = client.post("/api/v1/admin/certificates",
                    json=certificate_body(ent["uscc"], number="AGI1459", programme="gi"), headers=admin_headers)
    assert r.status_code == 422 and "AGI" in r.json["error"]["message"]


def test_duplicate_enterprise_and_certificate_are_409(client: Any, admin_headers: dict[str, str]) -> None:
    ent = enterprise_body()
    assert client.post("/api/v1/admin/enterprises", json=ent, headers=admin_headers).status_code == 201
    r = client.post("/api/v1/admin/enterprises", json=ent, headers=admin_headers)
    assert r.status_code == 409 and r.json["error"]["code"] == "enterprise_exists"
    body = certificate_body(ent["uscc"])
    assert client.post("/api/v1/admin/certificates", json=body, headers=admin_headers).status_code == 201
    assert client.post("/api/v1/admin/certificates", json=body, headers=admin_headers).status_code == 409


def test_certificate_for_unknown_enterprise_is_404(client: Any, admin_headers: dict[str, str]) -> None:
    from tests.service.factories import uscc

    r = client.post("/api/v1/admin/certificates", json=certificate_body(uscc()), headers=admin_headers)
    assert r.status_code == 404 and r.json["error"]["code"] == "enterprise_not_found"


def test_malformed_bodies_are_clear_4xx(client: Any, admin_headers: dict[str, str]) -> None:
    url = "/api/v1/admin/enterprises"
    r = client.post(url, data="{not json", headers={**admin_headers, "Content-Type": "application/json"})
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_json"
    r = client.post(url, data="x=1", headers=admin_headers)
    assert r.status_code == 422 and r.json["error"]["code"] == "not_json"
    r = client.post(url, json=[1, 2], headers=admin_headers)
    assert r.status_code == 422
    r = client.post(url, json={**enterprise_body(), "surprise": 1}, headers=admin_headers)
    assert r.status_code == 422 and r.json["error"]["details"][0]["field"] == "surprise"
    r = client.post(url, json={"uscc": None, "name": 5, "county_code": []}, headers=admin_headers)
    assert r.status_code == 422 and len(r.json["error"]["details"]) == 3


def test_fee_waiver_shown_for_poverty_exit_county(client: Any, admin_headers: dict[str, str]) -> None:
    ent = enterprise_body(county_code="522632", poverty_exit_date="2020-11-23")
    client.post("/api/v1/admin/enterprises", json=ent, headers=admin_headers)
    r = client.post("/api/v1/admin/certificates", json=certificate_body(ent["uscc"]), headers=admin_headers)
    assert r.json["fee_waiver"] == {"poverty_exit_date": "2020-11-23", "until": "2025-11-23", "active": False}
    ent2 = enterprise_body(county_code="522632", poverty_exit_date="2022-01-10")
    client.post("/api/v1/admin/enterprises", json=ent2, headers=admin_headers)
    r = client.post("/api/v1/admin/certificates", json=certificate_body(ent2["uscc"]), headers=admin_headers)
    assert r.json["fee_waiver"]["active"] is True


def test_patch_enterprise_and_audit_log(client: Any, admin_headers: dict[str, str]) -> None:
    ent = enterprise_body()
    client.post("/api/v1/admin/enterprises", json=ent, headers=admin_headers)
    r = client.patch(f"/api/v1/admin/enterprises/{ent['uscc']}", json={"name": "五常市新名称米业有限公司"},
                     headers=admin_headers)
    assert r.status_code == 200 and r.json["name"] == "五常市新名称米业有限公司"
    log = client.get("/api/v1/admin/audit-log", headers=admin_headers).json["entries"]
    assert [e["action"] for e in log] == ["enterprise.update", "enterprise.register"]
    assert log[0]["detail"] == {"changed": ["name"]}
    assert log[0]["actor"].startswith("admin:")


def test_gi_authorised_users(client: Any, admin_headers: dict[str, str]) -> None:
    holder = enterprise_body(name="五常市大米协会")
    user = enterprise_body()
    for e in (holder, user):
        client.post("/api/v1/admin/enterprises", json=e, headers=admin_headers)
    body = certificate_body(holder["uscc"], number="AGI01459", programme="gi", valid_to=None)
    client.post("/api/v1/admin/certificates", json=body, headers=admin_headers)
    r = client.post("/api/v1/admin/certificates/AGI01459/gi-authorisations",
                    json={"enterprise_uscc": user["uscc"], "year": 2026, "quantity": 300, "scope": "五常市"},
                    headers=admin_headers)
    assert r.status_code == 201 and r.json["quantity"] == "300" and r.json["unit"] == "吨"
    detail = client.get("/api/v1/admin/certificates/AGI01459", headers=admin_headers).json
    assert detail["gi_authorisations"][0]["enterprise_uscc"] == user["uscc"]
