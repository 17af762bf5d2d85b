"""Offline verification: the bundle endpoint, online/offline verdict parity and `labels verify --offline`."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import label_gen
import pytest

from verify_service import create_app
from verify_service.services import keys

JUNK = ["hello", "https://example.com/", "L/abc", "0" * 169, "9" * 400, "😀" * 10,
        "https://gf.cn/L/" + "1" * 168, "x" * 5000, "%00", "<script>", "HTTPS://GF.CN/L/12345"]


def _codes(client: Any, holder: Any, batch: dict[str, Any]) -> list[str]:
    r = client.get(f"/api/v1/enterprise/label-batches/{batch['id']}/manifest.csv", headers=holder.headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    return [row["url"] for row in csv.DictReader(io.StringIO(r.get_data(as_text=True)))]


def _online(client: Any, code: str) -> dict[str, Any]:
    r = client.get("/api/v1/verify", query_string={"code": code, "lang": "en"})
    assert r.status_code == 200, r.json
    return dict(r.json)


@pytest.fixture
def registry(client: Any, make_holder: Callable[..., Any], order: Callable[..., Any], admin_headers: dict[str, str],
             make_token: Callable[..., str], run: Callable[..., Any], clock: Any) -> dict[str, Any]:
    """Several certificates and batches, every kind of genuine, void, invalid and forged code."""
    reg = {"Authorization": "Bearer " + make_token("regulator")}
    holders = {name: make_holder() for name in ("valid", "suspended", "revoked", "cancelled")}
    holders["expiring"] = make_holder(valid_to=clock.now().date().isoformat())  # the test's today in China
    codes: dict[str, list[str]] = {}

    def issue(name: str, quantity: int) -> dict[str, Any]:
        r = order(holders[name], quantity)
        assert r.status_code == 201, r.json
        codes.setdefault(name, []).extend(_codes(client, holders[name], r.json))
        return dict(r.json)

    # key 1 issues the first batches; then it is rotated out and revoked an hour later
    old_batch = issue("valid", 60)
    issue("suspended", 30)
    clock.advance(hours=1)
    old_key = run(keys.signing_ring).get_record(1)
    run(keys.rotate, "test", "admin")
    run(keys.revoke, old_key.kid, "test", "admin")
    keys.clear_cache()
    clock.advance(minutes=5)
    new_batch = issue("valid", 60)
    issue("revoked", 40)
    issue("cancelled", 30)
    issue("expiring", 40)
    void_batch = issue("valid", 20)
    for name, status in (("suspended", "suspended"), ("revoked", "revoked"), ("cancelled", "cancelled")):
        r = client.post(f"/api/v1/admin/certificates/{holders[name].number}/status",
                        json={"status": status, "reason": "抽检不合格"}, headers=admin_headers)
        assert r.status_code == 200, r.json
    for url in codes["valid"][:3] + codes["revoked"][:2] + codes["suspended"][:2]:
        serial = int(label_gen.parse(url).serial)
        assert client.post(f"/api/v1/regulator/labels/{serial}/void", json={"reason": "被盗"},
                           headers=reg).status_code == 200
    assert client.post(f"/api/v1/regulator/label-batches/{void_batch['id']}/void", json={"reason": "召回"},
                       headers=reg).status_code == 200

    ring = run(keys.signing_ring)
    revoked_signer = label_gen.Signer(old_key.key_id, ring._private_key(ring.get_record(old_key.key_id)))
    forger = label_gen.KeyRing([label_gen.generate_key_record("x", [0])], "x")
    stranger = label_gen.KeyRing([label_gen.generate_key_record("x", [99])], "x")
    genuine = [u for name in codes for u in codes[name]]
    forged = (
        [forger.sign(label_gen.parse(u).serial) for u in genuine[::10]]                # bad signature
        + [stranger.sign(label_gen.parse(u).serial) for u in genuine[::30]]            # unknown key
        + [ring.sign(s, clock.now()) for s in (1, 9_999_999, 99_999_999, 2**40 - 1)]   # never issued
        + [ring.sign(old_batch["first_serial"] + i, clock.now()) for i in range(3)]   # key mismatch
        + [revoked_signer.sign(new_batch["first_serial"] + i) for i in range(3)]      # after revocation
        + [revoked_signer.sign(s) for s in (5, 88_888_888)]                           # revoked, never issued
    )
    variants = [genuine[0].lower(), "  " + genuine[1] + "\n", genuine[2].split("/L/")[1], genuine[3] + "/"]
    return {"genuine": genuine, "all": genuine + forged + variants + JUNK, "holders": holders,
            "old_batch": old_batch}


def _bundle(client: Any) -> tuple[bytes, dict[str, Any]]:
    r = client.get("/api/v1/offline-bundle")
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.mimetype == "application/octet-stream" and "max-age" in r.headers["Cache-Control"]
    return r.data, dict(client.get("/.well-known/label-keys.json").json)


def test_online_offline_parity(client: Any, registry: dict[str, Any], clock: Any) -> None:
    data, key_set = _bundle(client)
    # move past midnight in China: the "expiring" certificate expires, the bundle (24 h) does not
    clock.advance(hours=13)
    keys.clear_cache()
    bundle = label_gen.load_bundle(data, key_set, clock.now())
    seen: Counter[str] = Counter()
    for code in registry["all"]:
        online = _online(client, code)
        offline = bundle.verify(code, clock.now())
        assert offline.verdict == online["verdict"], (code, online, offline)
        assert offline.serial == online["serial"], code
        assert [r["code"] for r in offline.reasons] == [r["code"] for r in online["reasons"]], (code, online, offline)
        if online["certificate"]:
            assert offline.certificate is not None
            for field in ("number", "programme", "status", "valid_from", "valid_to"):
                assert offline.certificate[field] == online["certificate"][field], (code, field)
            assert offline.product == {"id": online["product"]["id"], "name": online["product"]["name"]}
        seen[offline.verdict] += 1
        seen.update(f"{online['verdict']}:{r['code']}" for r in online["reasons"])
    assert len(registry["all"]) > 300
    assert set(seen) >= {"authentic", "certificate_invalid", "label_void", "counterfeit", "malformed"}
    for reason in ("certificate_invalid:certificate_expired", "certificate_invalid:certificate_suspended",
                   "certificate_invalid:certificate_revoked", "certificate_invalid:certificate_cancelled",
                   "label_void:label_voided", "label_void:batch_voided", "counterfeit:bad_signature",
                   "counterfeit:unknown_key", "counterfeit:never_issued", "counterfeit:key_mismatch",
                   "counterfeit:revoked_key", "authentic:genuine"):
        assert seen[reason], reason
    # key 1's own batch, issued before its revocation, still reads authentic offline
    old = [u for u in registry["genuine"]
           if registry["old_batch"]["first_serial"] <= label_gen.parse(u).serial <= registry["old_batch"]["last_serial"]]
    assert any(bundle.verify(u, clock.now()).verdict == "authentic" for u in old)


def test_bundle_is_signed_by_the_active_key_and_refused_when_tampered_or_expired(
        client: Any, registry: dict[str, Any], clock: Any, app: Any) -> None:
    data, key_set = _bundle(client)
    r = client.get("/api/v1/offline-bundle")
    assert r.headers["X-Bundle-Expires-At"] == (clock.now() + dt.timedelta(hours=24)).isoformat()
    assert data[5] == 2  # the key rotated in, not the revoked one
    tampered = bytearray(data)
    tampered[len(data) // 2] ^= 0x01
    with pytest.raises(label_gen.BundleSignatureError):
        label_gen.load_bundle(bytes(tampered), key_set, clock.now())
    clock.advance(hours=24)
    with pytest.raises(label_gen.BundleExpired):
        label_gen.load_bundle(data, key_set, clock.now())
    # the service's own keys are the default trust anchor on the issuer's machine
    from verify_service.services import offline

    clock.advance(hours=-1)
    with app.app_context():
        bundle = offline.open_bundle(data)
        assert bundle.verify(registry["genuine"][-1], clock.now()).verdict in ("authentic", "certificate_invalid")


def test_bundle_validity_is_configurable(app_config: dict[str, Any], signing_key: Any, clock: Any) -> None:
    app = create_app({**app_config, "OFFLINE_BUNDLE_HOURS": 2})
    r = app.test_client().get("/api/v1/offline-bundle")
    assert r.status_code == 200
    assert r.headers["X-Bundle-Expires-At"] == (clock.now() + dt.timedelta(hours=2)).isoformat()
    app.extensions["db"].engine.dispose()


def test_bundle_without_a_signing_key_is_a_clear_503(client: Any) -> None:
    r = client.get("/api/v1/offline-bundle")
    assert r.status_code == 503 and r.json["error"]["code"] == "signing_unavailable"


@pytest.fixture
def files(client: Any, registry: dict[str, Any], tmp_path: Path, clock: Any) -> dict[str, Any]:
    data, key_set = _bundle(client)
    bundle = tmp_path / "bundle.bin"
    bundle.write_bytes(data)
    key_file = tmp_path / "label-keys.json"
    key_file.write_text(json.dumps(key_set), encoding="utf-8")
    opened = label_gen.load_bundle(data, key_set, clock.now())
    authentic = next(u for u in registry["genuine"] if opened.verify(u, clock.now()).verdict == "authentic")
    return {"bundle": bundle, "keys": key_file, "authentic": authentic, "data": data, "tmp": tmp_path}


def test_cli_verify_offline(app: Any, files: dict[str, Any], app_config: dict[str, Any], clock: Any) -> None:
    # an application whose database cannot even be opened: --offline with --keys never touches it
    offline_app = create_app({**app_config, "DATABASE_URL": f"sqlite:///{files['tmp']}/missing/none.sqlite3"})
    cli = offline_app.test_cli_runner()
    args = ["--offline", str(files["bundle"]), "--keys", str(files["keys"])]

    result = cli.invoke(args=["labels", "verify", files["authentic"], *args])
    assert result.exit_code == 0 and result.stdout == "authentic\n", result.output
    assert "valid" in result.stderr

    forged = label_gen.KeyRing([label_gen.generate_key_record("x", [1])], "x").sign(10_000_001)
    result = cli.invoke(args=["labels", "verify", forged, *args])
    assert result.exit_code == 1 and result.stdout == "counterfeit\n" and "signature" in result.stderr

    result = cli.invoke(args=["labels", "verify", "not a code", *args])
    assert result.exit_code == 1 and result.stdout == "malformed\n"

    tampered = files["tmp"] / "tampered.bin"
    raw = bytearray(files["data"])
    raw[-10] ^= 0x20
    tampered.write_bytes(bytes(raw))
    result = cli.invoke(args=["labels", "verify", files["authentic"], "--offline", str(tampered),
                              "--keys", str(files["keys"])])
    assert result.exit_code == 2 and "bundle refused" in result.stderr and "Traceback" not in result.output

    result = cli.invoke(args=["labels", "verify", files["authentic"], "--offline", str(files["tmp"] / "nope.bin"),
                              "--keys", str(files["keys"])])
    assert result.exit_code == 2 and "cannot read" in result.stderr

    bad_keys = files["tmp"] / "bad-keys.json"
    bad_keys.write_text("[]", encoding="utf-8")
    result = cli.invoke(args=["labels", "verify", files["authentic"], "--offline", str(files["bundle"]),
                              "--keys", str(bad_keys)])
    assert result.exit_code == 2 and "key set" in result.stderr

    clock.advance(hours=25)
    result = cli.invoke(args=["labels", "verify", files["authentic"], *args])
    assert result.exit_code == 2 and "expired" in result.stderr and result.stdout == ""
    assert "Traceback" not in result.output
    offline_app.extensions["db"].engine.dispose()


def test_cli_verify_offline_trusts_the_services_own_keys_by_default(app: Any, files: dict[str, Any]) -> None:
    cli = app.test_cli_runner()
    result = cli.invoke(args=["labels", "verify", files["authentic"], "--offline", str(files["bundle"])])
    assert result.exit_code == 0 and result.stdout == "authentic\n", result.output
    assert cli.invoke(args=["labels", "verify", files["authentic"], "--keys", str(files["keys"])]).exit_code == 2
    assert "--keys" in cli.invoke(args=["labels", "verify", "--help"]).output
