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


def test_keys_cli_lifecycle(app: Any, client: Any) -> None:
    cli = app.test_cli_runner()
    assert "no signing keys" in cli.invoke(args=["keys", "list"]).output
    assert cli.invoke(args=["keys", "create"]).exit_code == 0
    assert cli.invoke(args=["keys", "rotate"]).exit_code == 0
    out = cli.invoke(args=["keys", "list"]).output
    assert "1  retired" in out and "2  active" in out
    assert cli.invoke(args=["keys", "revoke", "1"]).exit_code == 0
    assert cli.invoke(args=["keys", "revoke", "1"]).exit_code == 1
    assert cli.invoke(args=["keys", "retire", "9"]).exit_code == 1
    served = {k["kid"]: k["status"] for k in client.get("/.well-known/label-keys.json").json["keys"]}
    assert served == {"1": "revoked", "2": "active"}


def test_keys_need_a_passphrase(app: Any) -> None:
    app.config["LABEL_KEY_PASSPHRASE"] = ""
    result = app.test_cli_runner().invoke(args=["keys", "create"])
    assert result.exit_code == 1 and "LABEL_KEY_PASSPHRASE" in result.output


def test_labels_issue_and_verify(app: Any, holder: Any, tmp_path: Any) -> None:
    import csv

    cli = app.test_cli_runner()
    result = cli.invoke(args=["labels", "issue", "--certificate", holder.number, "--product", str(holder.product_id),
                              "--quantity", "25", "--out", str(tmp_path), "--formats", "csv,pdf,svg", "--pins"])
    assert result.exit_code == 0, result.output
    manifest = next(tmp_path.glob("*manifest.csv"))
    rows = list(csv.DictReader(manifest.open(encoding="utf-8")))
    assert len(rows) == 25 and set(rows[0]) == {"serial", "url", "pin"}
    assert next(tmp_path.glob("*sheets.pdf")).read_bytes().startswith(b"%PDF")
    assert len(list(next(tmp_path.glob("*-svg")).glob("*.svg"))) == 25
    ok = cli.invoke(args=["labels", "verify", rows[0]["url"]])
    assert ok.exit_code == 0 and ok.stdout.strip() == "authentic"
    bad = cli.invoke(args=["labels", "verify", "hello"])
    assert bad.exit_code == 1 and bad.stdout.strip() == "malformed"
    refused = cli.invoke(args=["labels", "issue", "--certificate", holder.number, "--product", str(holder.product_id),
                               "--quantity", "5", "--out", str(tmp_path), "--formats", "docx"])
    assert refused.exit_code == 2


def test_demo_sample_labels_show_their_verdicts(app: Any) -> None:
    cli = app.test_cli_runner()
    out = cli.invoke(args=["demo", "--no-tokens"]).output
    samples = dict(line.removeprefix("sample label (").split("): ") for line in out.splitlines()
                   if line.startswith("sample label ("))
    assert set(samples) >= {"authentic", "label_void", "counterfeit", "certificate_invalid"}
    for expected, url in samples.items():
        got = cli.invoke(args=["labels", "verify", url]).stdout.strip()
        assert got == expected.split(" ")[0], (expected, got)
