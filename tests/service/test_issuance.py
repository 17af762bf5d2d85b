"""Ordering label batches: ownership, certificate status, caps, idempotency, downloads."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any, Callable

import pytest
from sqlalchemy import func, select

from verify_service.db import session
from verify_service.models import Label, LabelBatch


def test_order_batch_returns_serial_range(holder: Any, order: Callable[..., Any], run: Callable[..., Any]) -> None:
    r = order(holder, 250)
    assert r.status_code == 201, r.json
    b = r.json
    assert b["certificate_number"] == holder.number and b["product_id"] == holder.product_id
    assert b["quantity"] == 250 and b["last_serial"] - b["first_serial"] == 249
    r2 = order(holder, 5)
    assert r2.json["first_serial"] == b["last_serial"] + 1
    # issuing N labels writes one batch row and no label rows
    counts = run(lambda: (session().scalar(select(func.count()).select_from(LabelBatch)),
                          session().scalar(select(func.count()).select_from(Label))))
    assert counts == (2, 0)


def test_idempotency_key_returns_same_batch(holder: Any, order: Callable[..., Any]) -> None:
    first = order(holder, 10, headers={"Idempotency-Key": "order-42"})
    again = order(holder, 10, headers={"Idempotency-Key": "order-42"})
    assert first.status_code == 201 and again.status_code == 200
    assert again.json == first.json
    other = order(holder, 11, headers={"Idempotency-Key": "order-42"})
    assert other.status_code == 409 and other.json["error"]["code"] == "idempotency_key_reused"


def test_other_enterprises_certificate_is_refused(make_holder: Callable[..., Any], order: Callable[..., Any]) -> None:
    a, b = make_holder(), make_holder()
    intruder = type(a)(a.uscc, a.headers, b.certificate)
    r = order(intruder, 5)
    assert r.status_code == 403 and r.json["error"]["code"] == "not_your_certificate"


@pytest.mark.parametrize("status", ["suspended", "revoked", "cancelled"])
def test_only_valid_certificates(holder: Any, order: Callable[..., Any], client: Any,
                                 admin_headers: dict[str, str], status: str) -> None:
    client.post(f"/api/v1/admin/certificates/{holder.number}/status",
                json={"status": status, "reason": "test"}, headers=admin_headers)
    r = order(holder, 5)
    assert r.status_code == 409 and r.json["error"]["code"] == "certificate_not_valid"
    assert status in r.json["error"]["message"]


def test_expired_certificate_refused(make_holder: Callable[..., Any], order: Callable[..., Any]) -> None:
    h = make_holder(valid_from="2022-01-01", valid_to="2024-12-31")
    r = order(h, 5)
    assert r.status_code == 409 and "expired" in r.json["error"]["message"]


def test_yearly_cap_from_approved_output(make_holder: Callable[..., Any], order: Callable[..., Any]) -> None:
    h = make_holder(products=[{"name": "鲜鸡蛋", "approved_output": "0.01", "output_unit": "吨"}])
    # 0.01 t × 2000 labels per unit = 20 labels a year
    assert order(h, 15).status_code == 201
    r = order(h, 6)
    assert r.status_code == 422 and r.json["error"]["code"] == "yearly_cap_exceeded"
    assert r.json["error"]["details"] == {"cap": 20, "ordered": 15, "year": 2026}
    assert order(h, 5).status_code == 201


def test_per_batch_cap_and_bad_bodies(holder: Any, order: Callable[..., Any], client: Any, app: Any) -> None:
    app.config["LABELS_PER_BATCH_MAX"] = 100
    assert order(holder, 101).json["error"]["code"] == "batch_too_large"
    assert order(holder, 0).status_code == 422
    assert order(holder, 5, label_format="hexagon").json["error"]["code"] == "unknown_label_format"
    r = client.post("/api/v1/enterprise/label-batches", json={"certificate_number": holder.number,
                    "product_id": 999999, "quantity": 5}, headers=holder.headers)
    assert r.status_code == 422 and r.json["error"]["code"] == "product_not_on_certificate"
    r = client.post("/api/v1/enterprise/label-batches", json={"certificate_number": "LB-03-2301239999A",
                    "product_id": 1, "quantity": 5}, headers=holder.headers)
    assert r.status_code == 404


def test_gi_batches_only_for_authorised_users(client: Any, admin_headers: dict[str, str], make_holder: Callable[..., Any],
                                              order: Callable[..., Any]) -> None:
    assoc = make_holder(number="AGI01459", programme="gi", valid_to=None)
    user = make_holder()
    gi = type(user)(user.uscc, user.headers, assoc.certificate)
    r = order(gi, 5)
    assert r.status_code == 403 and r.json["error"]["code"] == "not_authorised_user"
    client.post("/api/v1/admin/certificates/AGI01459/gi-authorisations",
                json={"enterprise_uscc": user.uscc, "year": 2026, "quantity": "0.005"}, headers=admin_headers)
    assert order(gi, 10).status_code == 201
    assert order(gi, 1).json["error"]["code"] == "yearly_cap_exceeded"


def test_no_signing_key_is_503(client: Any, admin_headers: dict[str, str], make_token: Callable[..., str], run: Any) -> None:
    from tests.service.factories import certificate_body, enterprise_body

    ent = enterprise_body()
    client.post("/api/v1/admin/enterprises", json=ent, headers=admin_headers)
    cert = client.post("/api/v1/admin/certificates", json=certificate_body(ent["uscc"]), headers=admin_headers).json
    r = client.post("/api/v1/enterprise/label-batches", headers={"Authorization": "Bearer " + make_token("enterprise", ent["uscc"])},
                    json={"certificate_number": cert["number"], "product_id": cert["products"][0]["id"], "quantity": 1})
    assert r.status_code == 503 and r.json["error"]["code"] == "signing_unavailable"


def test_manifest_verifies_and_is_stable(holder: Any, order: Callable[..., Any], client: Any, run: Any) -> None:
    b = order(holder, 30, pins=True).json
    r = client.get(f"/api/v1/enterprise/label-batches/{b['id']}/manifest.csv", headers=holder.headers)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert [int(x["serial"]) for x in rows] == list(range(b["first_serial"], b["last_serial"] + 1))
    assert all(len(x["pin"]) == 6 for x in rows)
    again = client.get(f"/api/v1/enterprise/label-batches/{b['id']}/manifest.csv", headers=holder.headers)
    assert again.get_data() == r.get_data()
    v = client.get("/api/v1/verify", query_string={"code": rows[3]["url"]}).json
    assert v["verdict"] == "authentic" and v["serial"] == int(rows[3]["serial"])


def test_batches_are_private_to_their_enterprise(make_holder: Callable[..., Any], order: Callable[..., Any], client: Any) -> None:
    a, b = make_holder(), make_holder()
    batch = order(a, 3).json
    for suffix in ("", "/manifest.csv", "/sheets.pdf", "/labels.zip"):
        r = client.get(f"/api/v1/enterprise/label-batches/{batch['id']}{suffix}", headers=b.headers)
        assert r.status_code == 404, suffix
    assert client.get("/api/v1/enterprise/label-batches", headers=b.headers).json == {"batches": []}
    assert len(client.get("/api/v1/enterprise/label-batches", headers=a.headers).json["batches"]) == 1


def test_svg_zip_and_pdf(holder: Any, order: Callable[..., Any], client: Any) -> None:
    b = order(holder, 4, label_format="round20").json
    r = client.get(f"/api/v1/enterprise/label-batches/{b['id']}/labels.zip", headers=holder.headers)
    names = zipfile.ZipFile(io.BytesIO(r.get_data())).namelist()
    assert names == [f"{s}.svg" for s in range(b["first_serial"], b["last_serial"] + 1)]
    r = client.get(f"/api/v1/enterprise/label-batches/{b['id']}/sheets.pdf?format=rect40x25", headers=holder.headers)
    assert r.status_code == 200 and r.get_data().startswith(b"%PDF")
    r = client.get(f"/api/v1/enterprise/label-batches/{b['id']}/sheets.pdf?format=nope", headers=holder.headers)
    assert r.status_code == 422


def test_void_batch_blocks_download(holder: Any, order: Callable[..., Any], client: Any, make_token: Any) -> None:
    b = order(holder, 4).json
    reg = {"Authorization": "Bearer " + make_token("regulator")}
    r = client.post(f"/api/v1/regulator/label-batches/{b['id']}/void", json={"reason": "卷标被盗"}, headers=reg)
    assert r.status_code == 200 and r.json["voided_at"]
    r = client.get(f"/api/v1/enterprise/label-batches/{b['id']}/manifest.csv", headers=holder.headers)
    assert r.status_code == 409 and r.json["error"]["code"] == "batch_void"
    assert client.post(f"/api/v1/regulator/label-batches/{b['id']}/void", json={"reason": "x"}, headers=reg).status_code == 409


def test_rotated_key_still_prints_old_batch(holder: Any, order: Callable[..., Any], client: Any, run: Any) -> None:
    from verify_service.services import keys

    b = order(holder, 3).json
    before = client.get(f"/api/v1/enterprise/label-batches/{b['id']}/manifest.csv", headers=holder.headers).get_data()
    run(keys.rotate, "test", "admin")
    after = client.get(f"/api/v1/enterprise/label-batches/{b['id']}/manifest.csv", headers=holder.headers).get_data()
    assert before == after
    b2 = order(holder, 3).json
    assert b2["key_id"] != b["key_id"]
