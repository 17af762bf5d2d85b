"""Command-line contract: tokens printed once on the last line, demo data, db commands."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from verify_service.db import session
from verify_service.models import Certificate


def test_tokens_create_list_revoke(app: Any, client: Any) -> None:
    cli = app.test_cli_runner()
    result = cli.invoke(args=["tokens", "create", "--role", "admin", "--name", "ops"])
    assert result.exit_code == 0, result.output
    raw = result.output.strip().splitlines()[-1]
    assert raw.startswith("lvs_") and " " not in raw
    assert client.get("/api/v1/admin/audit-log", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    listing = cli.invoke(args=["tokens", "list"]).output
    assert "ops" in listing and raw not in listing and "active" in listing
    assert cli.invoke(args=["tokens", "revoke", "1"]).exit_code == 0
    assert "revoked" in cli.invoke(args=["tokens", "list"]).output
    assert client.get("/api/v1/admin/audit-log", headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    assert cli.invoke(args=["tokens", "revoke", "99"]).exit_code == 1


def test_enterprise_token_requires_enterprise(app: Any) -> None:
    cli = app.test_cli_runner()
    result = cli.invoke(args=["tokens", "create", "--role", "enterprise"])
    assert result.exit_code == 1 and "--enterprise" in result.output
    result = cli.invoke(args=["tokens", "create", "--role", "admin", "--expires", "tomorrow"])
    assert result.exit_code == 2


def test_demo_seeds_realistic_registry(app: Any, client: Any) -> None:
    cli = app.test_cli_runner()
    result = cli.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    admin = next(line.split()[-1] for line in lines if line.startswith("demo admin token"))
    enterprise = next(line.split()[-1] for line in lines if line.startswith("demo enterprise token"))
    with app.app_context():
        certs = session().scalars(select(Certificate)).all()
        numbers = [c.number for c in certs]
    assert len(certs) >= 100
    headers = {"Authorization": f"Bearer {admin}"}
    statuses = [client.get(f"/api/v1/admin/certificates/{n}", headers=headers).json for n in numbers]
    assert {s["status"] for s in statuses} == {"valid", "expired", "suspended", "revoked", "cancelled"}
    assert {s["programme"] for s in statuses} == {"green_food", "organic", "gi"}
    assert len({s["enterprise"]["uscc"] for s in statuses}) >= 60
    assert len({s["enterprise"]["county_code"][:2] for s in statuses}) >= 5
    import datetime as dt

    today = dt.date(2026, 6, 15)
    soon = [s for s in statuses if s["status"] == "valid" and s["valid_to"]
            and dt.date.fromisoformat(s["valid_to"]) <= today + dt.timedelta(days=60)]
    assert soon, "some certificates expire soon"
    assert any(s["fee_waiver"] for s in statuses)
    r = client.get("/api/v1/enterprise/certificates", headers={"Authorization": f"Bearer {enterprise}"})
    assert r.status_code == 200 and r.json["certificates"]
    again = cli.invoke(args=["demo", "--no-tokens"])
    assert again.exit_code == 0 and "not seeded again" in again.output


def test_demo_is_deterministic(app: Any) -> None:
    cli = app.test_cli_runner()
    cli.invoke(args=["demo", "--no-tokens"])
    with app.app_context():
        first = sorted(session().scalars(select(Certificate.number)).all())
    from tests.conftest import empty_tables

    empty_tables(app.config["DATABASE_URL"])
    cli.invoke(args=["demo", "--no-tokens"])
    with app.app_context():
        second = sorted(session().scalars(select(Certificate.number)).all())
    assert first == second


def test_db_current_and_check(app: Any) -> None:
    cli = app.test_cli_runner()
    out = cli.invoke(args=["db", "current"]).output
    assert "current: " in out and out.split()[1] == out.split()[3]
    result = cli.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output
