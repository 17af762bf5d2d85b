"""Every /api/v1 route declares its access rule; tokens are checked with the JSON error shape."""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable

import pytest

from tests.service.factories import enterprise_body
from verify_service.auth import access_rule_of


def _api_rules(app: Any) -> list[Any]:
    return [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/")]


def test_every_api_route_declares_an_access_rule(app: Any) -> None:
    rules = _api_rules(app)
    assert len(rules) >= 8
    missing = [r.rule for r in rules if access_rule_of(app.view_functions[r.endpoint]) is None]
    assert missing == []


def test_route_without_rule_is_denied(app: Any) -> None:
    @app.get("/api/v1/undeclared")
    def undeclared() -> Any:
        return {"ok": True}

    r = app.test_client().get("/api/v1/undeclared")
    assert r.status_code == 403 and r.json["error"]["code"] == "no_access_rule"


def _assert_error(r: Any, status: int) -> None:
    assert r.status_code == status
    assert set(r.json) == {"error"}
    assert isinstance(r.json["error"]["code"], str) and isinstance(r.json["error"]["message"], str)
    assert "Traceback" not in r.get_data(as_text=True)


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer ", "Basic abc", "Bearer lvs_not-a-real-token", "Bearer " + "x" * 5000])
def test_missing_or_invalid_token_is_401(client: Any, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    r = client.get("/api/v1/enterprise/certificates", headers=headers)
    _assert_error(r, 401)
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_wrong_role_is_403(client: Any, make_token: Callable[..., str]) -> None:
    regulator = {"Authorization": "Bearer " + make_token("regulator")}
    _assert_error(client.post("/api/v1/admin/enterprises", json=enterprise_body(), headers=regulator), 403)
    admin = {"Authorization": "Bearer " + make_token("admin")}
    _assert_error(client.get("/api/v1/enterprise/certificates", headers=admin), 403)


def test_revoked_and_expired_tokens_are_401(client: Any, app: Any, run: Callable[..., Any], clock: Any,
                                             make_token: Callable[..., str]) -> None:
    from verify_service.services import tokens

    raw = make_token("admin")
    headers = {"Authorization": "Bearer " + raw}
    assert client.get("/api/v1/admin/audit-log", headers=headers).status_code == 200
    token_id = run(tokens.list_tokens)[0]["id"]
    run(tokens.revoke_token, token_id)
    _assert_error(client.get("/api/v1/admin/audit-log", headers=headers), 401)

    short = make_token("admin", expires_at=clock.now() + dt.timedelta(hours=1))
    headers = {"Authorization": "Bearer " + short}
    assert client.get("/api/v1/admin/audit-log", headers=headers).status_code == 200
    clock.advance(hours=2)
    _assert_error(client.get("/api/v1/admin/audit-log", headers=headers), 401)


def test_tokens_are_stored_hashed(app: Any, run: Callable[..., Any], make_token: Callable[..., str]) -> None:
    from sqlalchemy import select

    from verify_service.db import session
    from verify_service.models import ApiToken

    raw = make_token("regulator")
    stored = run(lambda: session().scalars(select(ApiToken)).one())
    assert raw not in (stored.token_hash, stored.prefix) and len(stored.token_hash) == 64
    assert raw.startswith(stored.prefix)


def test_enterprise_token_sees_only_its_own_certificates(client: Any, admin_headers: dict[str, str],
                                                         make_token: Callable[..., str]) -> None:
    from tests.service.factories import certificate_body

    mine, other = enterprise_body(), enterprise_body()
    for e in (mine, other):
        client.post("/api/v1/admin/enterprises", json=e, headers=admin_headers)
    c1 = certificate_body(mine["uscc"])
    c2 = certificate_body(other["uscc"])
    for c in (c1, c2):
        assert client.post("/api/v1/admin/certificates", json=c, headers=admin_headers).status_code == 201
    headers = {"Authorization": "Bearer " + make_token("enterprise", mine["uscc"])}
    r = client.get("/api/v1/enterprise/certificates", headers=headers)
    assert r.status_code == 200
    certs = r.json["certificates"]
    assert [c["number"] for c in certs] == [c1["number"]]
    assert set(certs[0]) >= {"number", "programme", "status", "valid_to", "products"}
    assert set(certs[0]["products"][0]) >= {"id", "name"}


def test_enterprise_token_needs_known_enterprise(run: Callable[..., Any]) -> None:
    from verify_service.errors import NotFound, ValidationFailed
    from verify_service.services import tokens

    with pytest.raises(ValidationFailed):
        run(tokens.create_token, "x", "enterprise", None)
    with pytest.raises(NotFound):
        run(tokens.create_token, "x", "enterprise", enterprise_body()["uscc"])
    with pytest.raises(ValidationFailed):
        run(tokens.create_token, "x", "superuser", None)
