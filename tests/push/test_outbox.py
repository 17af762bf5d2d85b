"""The outbox row commits with the business change, or not at all."""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable

import pytest
from sqlalchemy import func, select

from tests.service.factories import certificate_body, enterprise_body
from verify_service import db
from verify_service.push import outbox, platform
from verify_service.push.models import OutboxRecord
from verify_service.push.worker import Worker, WorkerSettings


def _records(app: Any) -> list[OutboxRecord]:
    with app.app_context():
        records = list(db.session().scalars(select(OutboxRecord).order_by(OutboxRecord.id)))
        db.session().expunge_all()  # keep their loaded state once the session closes
        return records


def test_rejected_request_writes_no_record_and_accepted_one_writes_it(
        app: Any, client: Any, admin_headers: dict[str, str]) -> None:
    ent = enterprise_body(address="黑龙江省五常市", contact_name="张三")
    bad = {**ent, "county_code": "12"}
    assert client.post("/api/v1/admin/enterprises", json=bad, headers=admin_headers).status_code == 422
    assert _records(app) == []

    r = client.post("/api/v1/admin/enterprises", json=ent, headers=admin_headers)
    assert r.status_code == 201
    [rec] = _records(app)
    assert (rec.kind, rec.key, rec.status, rec.record_schema) == ("enterprise.registered", ent["uscc"], "pending", platform.SCHEMA)
    assert rec.payload["entity"]["credit_code"] == ent["uscc"]
    assert rec.payload["entity"]["address"] == "黑龙江省五常市"

    # A conflict (409) after the service already wrote part of its work leaves nothing behind.
    assert client.post("/api/v1/admin/enterprises", json=ent, headers=admin_headers).status_code == 409
    assert len(_records(app)) == 1


def test_a_failing_unit_of_work_rolls_back_its_record(app: Any) -> None:
    with app.app_context():
        outbox.emit("fake.confirmed", "LB-03-2301231234A", {"fake": {"serial": "1"}})
        assert db.session().scalar(select(func.count()).select_from(OutboxRecord)) == 1
        db.rollback()
    assert _records(app) == []


def test_unknown_kind_is_a_programming_error(app: Any) -> None:
    with app.app_context(), pytest.raises(ValueError, match="unknown outbox record kind"):
        outbox.emit("label.printed", "x", {})


def test_certificate_lifecycle_emits_one_record_per_change(
        app: Any, client: Any, admin_headers: dict[str, str]) -> None:
    ent = enterprise_body()
    client.post("/api/v1/admin/enterprises", json=ent, headers=admin_headers)
    body = certificate_body(ent["uscc"])
    assert client.post("/api/v1/admin/certificates", json=body, headers=admin_headers).status_code == 201
    number = body["number"]
    for change in ({"status": "suspended", "reason": "抽检不合格"}, {"status": "valid", "reason": "整改完成"},
                   {"status": "valid", "reason": "续展", "valid_to": "2030-12-31"},
                   {"status": "revoked", "reason": "取消用标资格"}):
        r = client.post(f"/api/v1/admin/certificates/{number}/status", json=change, headers=admin_headers)
        assert r.status_code == 200, r.json
    # Not allowed any more: a 409 writes no record.
    r = client.post(f"/api/v1/admin/certificates/{number}/status", json={"status": "valid", "reason": "x"},
                    headers=admin_headers)
    assert r.status_code == 409
    kinds = [r.kind for r in _records(app)]
    assert kinds == ["enterprise.registered", "certificate.issued", "certificate.suspended",
                     "certificate.reinstated", "certificate.renewed", "certificate.revoked"]
    issued = _records(app)[1].payload["certification"]
    assert issued["certificate_no"] == number and issued["programme_name"] == "绿色食品"
    assert issued["products"][0]["name"] == "五常大米"
    renewed = _records(app)[4].payload["certification"]
    assert renewed["valid_to"] == "2030-12-31" and renewed["from_status"] == "valid"


def test_import_emits_for_created_and_updated_rows_only(app: Any, run: Callable[..., Any]) -> None:
    from verify_service.schemas import CertificateIn, EnterpriseIn
    from verify_service.services import registry

    ent = enterprise_body()
    cert = certificate_body(ent["uscc"])
    assert run(registry.upsert_enterprise, EnterpriseIn(**ent)) == "created"
    assert run(registry.upsert_certificate, CertificateIn(**cert), "cli") == "created"
    assert run(registry.upsert_enterprise, EnterpriseIn(**ent)) == "unchanged"
    assert run(registry.upsert_enterprise, EnterpriseIn(**{**ent, "name": "五常市稻香米业股份有限公司"})) == "updated"
    more = {**cert, "products": cert["products"] + [{"name": "五常糙米"}]}
    assert run(registry.upsert_certificate, CertificateIn(**more), "cli") == "updated"
    recs = _records(app)
    assert [r.kind for r in recs] == ["enterprise.registered", "certificate.issued", "enterprise.changed",
                                      "certificate.updated"]
    assert recs[2].payload["entity"]["name"] == "五常市稻香米业股份有限公司"
    assert [p["name"] for p in recs[3].payload["certification"]["products"]] == ["五常大米", "五常糙米"]


class _NullSender:
    def send(self, envelopes: Any) -> list[platform.RecordResult]:
        return [platform.RecordResult(e["idempotency_key"], True) for e in envelopes]


def test_expiry_sweep_emits_once_per_validity_end(app: Any, client: Any, admin_headers: dict[str, str], clock: Any) -> None:
    ent = enterprise_body()
    client.post("/api/v1/admin/enterprises", json=ent, headers=admin_headers)
    body = certificate_body(ent["uscc"], valid_from="2023-01-01", valid_to="2026-06-30")
    client.post("/api/v1/admin/certificates", json=body, headers=admin_headers)
    worker = Worker(app, _NullSender(), WorkerSettings())
    assert worker.sweep_expired() == 0  # still valid on 2026-06-15
    clock.set_date(dt.date(2026, 7, 1))
    assert worker.sweep_expired() == 1
    assert worker.sweep_expired() == 0
    [expired] = [r for r in _records(app) if r.kind == "certificate.expired"]
    assert expired.key == body["number"]
    assert expired.payload["certification"]["status"] == "expired"

    # Renewed after expiry, then expired again: reported again, once.
    r = client.post(f"/api/v1/admin/certificates/{body['number']}/status",
                    json={"status": "valid", "reason": "续展", "valid_to": "2029-06-30"}, headers=admin_headers)
    assert r.status_code == 200, r.json
    clock.set_date(dt.date(2029, 7, 1))
    assert worker.sweep_expired() == 1
    assert worker.sweep_expired() == 0
    assert [r.kind for r in _records(app)].count("certificate.expired") == 2


def test_builders_for_later_events_produce_records_the_platform_accepts(
        app: Any, simulator_url: str, clock: Any) -> None:
    from types import SimpleNamespace

    now = clock.now()
    ent = SimpleNamespace(uscc="91230184MA1B2C3D4E")
    batch = SimpleNamespace(id=7, enterprise=ent, certificate=SimpleNamespace(number="LB-03-2301231234A"),
                            product=SimpleNamespace(name="五常大米"), product_id=3, quantity=1000,
                            first_serial=1200001, last_serial=1201000, created_at=now,
                            voided_at=now, void_reason="卷标被盗")
    with app.app_context():
        recs = [
            outbox.emit("label_batch.issued", "7", platform.label_batch(batch, "HTTPS://GF.CN/L/")),  # type: ignore[arg-type]
            outbox.emit("label_batch.voided", "7", platform.label_batch_void(batch)),  # type: ignore[arg-type]
            outbox.emit("label.voided", "1200005", platform.label_void(1200005, batch, reason="误印", at=now)),  # type: ignore[arg-type]
            outbox.emit("fake.confirmed", "12", platform.fake_confirmed(
                case_id=12, at=now, description="假冒绿色食品标志", trace_code="1200009")),
            outbox.emit("clone_alert.raised", "1200010", platform.clone_alert(
                alert_id=5, serial=1200010, b=batch, reasons=["scanned in 3 provinces within 2 h"],  # type: ignore[arg-type]
                scan_count=14, at=now)),
        ]
        envelopes = [platform.envelope(r) for r in recs]
        db.commit()
    assert envelopes[0]["data"]["batch"]["trace_code_first"] == "1200001"
    client = platform.PlatformClient(simulator_url, app.config["PLATFORM_SECRET"])
    assert all(r.ok for r in client.send(envelopes))
    client.close()
