"""Clone and misuse signals, scratch-off PINs, reports and the regulator's workflow."""

from __future__ import annotations

import csv
import io
from typing import Any, Callable

import pytest


@pytest.fixture
def batch(holder: Any, order: Callable[..., Any], client: Any) -> dict[str, Any]:
    b = order(holder, 10, pins=True).json
    r = client.get(f"/api/v1/enterprise/label-batches/{b['id']}/manifest.csv", headers=holder.headers)
    b["labels"] = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    return b


@pytest.fixture
def regulator(make_token: Callable[..., str]) -> dict[str, str]:
    return {"Authorization": "Bearer " + make_token("regulator")}


def scan(client: Any, url: str, network: str, ua: str = "Mozilla/5.0 (iPhone) MicroMessenger/8.0", **q: Any) -> Any:
    r = client.get("/api/v1/verify", query_string={"code": url, **q}, headers={"User-Agent": ua},
                   environ_base={"REMOTE_ADDR": network})
    assert r.status_code == 200
    return r.json


def test_photocopy_scanned_from_six_networks_in_two_days(client: Any, batch: dict[str, Any], clock: Any,
                                                         regulator: dict[str, str]) -> None:
    url = batch["labels"][0]["url"]
    verdicts = []
    for i in range(6):
        verdicts.append(scan(client, url, f"10.{i}.7.9" if i % 2 else f"203.0.{i}.5")["verdict"])
        clock.advance(hours=8)
    assert verdicts[:4] == ["authentic"] * 4
    assert verdicts[4:] == ["suspected_clone", "suspected_clone"]
    v = scan(client, url, "198.51.100.1", lang="en")
    assert v["verdict"] == "suspected_clone"
    codes = [r["code"] for r in v["reasons"]]
    assert codes[0] == "alert_open" and "many_parties" in codes
    evidence = next(r for r in v["reasons"] if r["code"] == "many_parties")["evidence"]
    assert evidence["parties"] >= 5 and len(evidence["networks"]) >= 5
    alerts = client.get("/api/v1/regulator/alerts", headers=regulator).json["alerts"]
    assert len(alerts) == 1 and alerts[0]["serial"] == int(batch["labels"][0]["serial"])
    assert alerts[0]["signals"][0]["code"] == "many_parties" and alerts[0]["status"] == "open"
    assert alerts[0]["province"] == "23" and alerts[0]["programme"] == "green_food"


def test_household_scanning_five_times_stays_authentic(client: Any, batch: dict[str, Any], clock: Any) -> None:
    url = batch["labels"][1]["url"]
    for _ in range(5):
        assert scan(client, url, "192.0.2.44")["verdict"] == "authentic"
        clock.advance(hours=3)


def test_phone_on_changing_mobile_addresses_is_one_party(client: Any, batch: dict[str, Any], clock: Any) -> None:
    url = batch["labels"][1]["url"]
    for i in range(6):
        assert scan(client, url, f"100.64.{i}.4", ua="Mozilla/5.0 (Linux; Android 14)")["verdict"] == "authentic"
        clock.advance(minutes=5)


def test_shop_prescan_then_buyer(client: Any, batch: dict[str, Any], clock: Any) -> None:
    url = batch["labels"][2]["url"]
    assert scan(client, url, "192.0.2.10", ua="Mozilla/5.0 (Windows NT 10.0)")["verdict"] == "authentic"
    clock.advance(hours=20)
    v = scan(client, url, "198.51.100.20")
    assert v["verdict"] == "authentic" and v["scans"]["count"] == 2


def test_implausible_travel(client: Any, batch: dict[str, Any], clock: Any) -> None:
    url = batch["labels"][3]["url"]
    assert scan(client, url, "192.0.2.1", lat="45.75", lon="126.63")["verdict"] == "authentic"  # Harbin
    clock.advance(hours=1)
    v = scan(client, url, "198.51.100.2", lat="31.23", lon="121.47")  # Shanghai, 1,700 km later
    assert v["verdict"] == "suspected_clone"
    travel = next(r for r in v["reasons"] if r["code"] == "implausible_travel")
    assert travel["evidence"]["km"] > 1500 and travel["evidence"]["kmh"] > 1000


def test_out_of_region_shelf_life_and_release(holder: Any, order: Callable[..., Any], client: Any, clock: Any) -> None:
    b = order(holder, 3, sales_region="23", shelf_life_days=30, release_date="2026-06-20").json
    rows = list(csv.DictReader(io.StringIO(client.get(
        f"/api/v1/enterprise/label-batches/{b['id']}/manifest.csv", headers=holder.headers).get_data(as_text=True))))
    v = scan(client, rows[0]["url"], "192.0.2.1")
    assert v["verdict"] == "authentic" and [r["code"] for r in v["reasons"]][-1] == "before_release"
    clock.advance(days=10)
    v = scan(client, rows[1]["url"], "192.0.2.1", region="31")
    assert v["verdict"] == "authentic" and "out_of_region" in [r["code"] for r in v["reasons"]]
    clock.advance(days=60)
    v = scan(client, rows[2]["url"], "192.0.2.1", region="31")
    assert v["verdict"] == "suspected_clone"
    assert {"out_of_region", "past_shelf_life"} <= {r["code"] for r in v["reasons"]}


def test_dismissed_alert_clears_the_verdict(client: Any, batch: dict[str, Any], clock: Any,
                                            regulator: dict[str, str], make_token: Callable[..., str]) -> None:
    url = batch["labels"][4]["url"]
    for i in range(5):
        scan(client, url, f"{20 + i}.0.1.5")
    assert scan(client, url, "29.0.1.5")["verdict"] == "suspected_clone"
    alert = client.get("/api/v1/regulator/alerts", headers=regulator).json["alerts"][0]
    r = client.patch(f"/api/v1/regulator/alerts/{alert['id']}", json={"status": "dismissed", "note": "展销会现场扫码"},
                     headers=regulator)
    assert r.status_code == 200 and r.json["status"] == "dismissed"
    clock.advance(minutes=1)
    assert scan(client, url, "29.0.1.5")["verdict"] == "authentic"
    assert client.patch(f"/api/v1/regulator/alerts/{alert['id']}", json={"status": "confirmed", "note": "x"},
                        headers=regulator).status_code == 409


# --- PINs ---------------------------------------------------------------------------------

def _pin(client: Any, serial: Any, pin: str, addr: str = "192.0.2.50") -> Any:
    return client.post("/api/v1/verify-pin", json={"serial": int(serial), "pin": pin},
                       environ_base={"REMOTE_ADDR": addr})


def test_pin_first_use_then_reuse(client: Any, batch: dict[str, Any], clock: Any) -> None:
    label = batch["labels"][5]
    r = _pin(client, label["serial"], label["pin"])
    assert r.status_code == 200 and r.json["result"] == "first_use" and r.json["verdict"]["verdict"] == "authentic"
    first = r.json["first_used_at"]
    clock.advance(days=2)
    r = _pin(client, label["serial"], label["pin"], addr="198.51.100.7")
    assert r.json["result"] == "already_used" and r.json["first_used_at"] == first and r.json["uses"] == 2
    assert r.json["verdict"]["verdict"] == "suspected_clone"
    assert "pin_reused" in [x["code"] for x in r.json["verdict"]["reasons"]]


def test_wrong_pins_lock_the_serial(client: Any, batch: dict[str, Any], clock: Any, app: Any) -> None:
    label = batch["labels"][6]
    wrong = "000000" if label["pin"] != "000000" else "111111"
    lefts = [_pin(client, label["serial"], wrong, addr=f"192.0.2.{i}").json["attempts_left"] for i in range(5)]
    assert lefts == [4, 3, 2, 1, 0]
    r = _pin(client, label["serial"], label["pin"], addr="192.0.2.99")
    assert r.status_code == 429 and r.json["error"]["code"] == "pin_locked"
    clock.advance(minutes=61)
    assert _pin(client, label["serial"], label["pin"]).json["result"] == "first_use"


def test_pin_rate_limit_per_client(client: Any, batch: dict[str, Any], app: Any) -> None:
    app.config["PIN_MAX_FAILURES"] = 1000
    label = batch["labels"][7]
    statuses = [_pin(client, label["serial"], "123456", addr="192.0.2.200").status_code for _ in range(11)]
    assert statuses[:10] == [200] * 10 and statuses[10] == 429
    assert _pin(client, label["serial"], "123456", addr="192.0.2.201").status_code == 200


def test_rate_limit_headers_only_where_a_limit_is_declared(client: Any, batch: dict[str, Any]) -> None:
    label = batch["labels"][8]
    r = _pin(client, label["serial"], "123456", addr="192.0.2.210")
    assert r.headers["X-RateLimit-Limit"] == "10" and r.headers["X-RateLimit-Remaining"] == "9"
    v = client.get("/api/v1/verify", query_string={"code": label["url"]})
    assert v.status_code == 200 and "X-RateLimit-Limit" not in v.headers


def test_pin_errors(client: Any, batch: dict[str, Any], holder: Any, order: Callable[..., Any]) -> None:
    assert _pin(client, 5, "123456").status_code == 404
    no_pins = order(holder, 2).json
    r = _pin(client, no_pins["first_serial"], "123456")
    assert r.status_code == 422 and r.json["error"]["code"] == "no_pin"
    assert client.post("/api/v1/verify-pin", json={"serial": "abc", "pin": "12"}).status_code == 422


def test_pin_form_page(client: Any, batch: dict[str, Any]) -> None:
    label = batch["labels"][8]
    page = client.get("/check?serial=" + label["serial"]).get_data(as_text=True)
    assert "刮码查询" in page and f'value="{label["serial"]}"' in page
    r = client.post("/check", data={"serial": label["serial"], "pin": label["pin"]})
    assert r.status_code == 200 and "首次使用" in r.get_data(as_text=True) and "正品标签" in r.get_data(as_text=True)
    r = client.post("/check?lang=en", data={"serial": label["serial"], "pin": label["pin"]})
    assert "already used" in r.get_data(as_text=True)
    r = client.post("/check", data={"serial": "x", "pin": "1"})
    assert r.status_code == 422 and "请输入" in r.get_data(as_text=True)


# --- reports and the case workflow ---------------------------------------------------------

def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


PNG = _png()


def test_report_links_to_label_and_case_workflow(client: Any, batch: dict[str, Any], regulator: dict[str, str],
                                                 app: Any, run: Any) -> None:
    url = batch["labels"][0]["url"]
    r = client.post("/api/v1/reports", json={"code": url, "text": "超市里同一编号的标签贴在普通大米上", "region": "3101",
                                              "contact": "138****0000"})
    assert r.status_code == 201 and isinstance(r.json["id"], int)
    rid = r.json["id"]
    rep = client.get(f"/api/v1/regulator/reports/{rid}", headers=regulator).json
    assert rep["serial"] == int(batch["labels"][0]["serial"]) and rep["certificate_number"] == batch["certificate_number"]
    assert rep["status"] == "open" and rep["province"] == "31"

    def patch(body: dict[str, Any]) -> Any:
        return client.patch(f"/api/v1/regulator/reports/{rid}", json=body, headers=regulator)

    assert patch({"status": "confirmed_fake"}).status_code == 409  # must be investigated first
    assert patch({"status": "investigating", "note": "已派执法人员"}).status_code == 200
    assert patch({"note": "现场取证完成"}).json["status"] == "investigating"
    done = patch({"status": "confirmed_fake", "note": "确认假冒"})
    assert done.status_code == 200
    assert [(h["from_status"], h["to_status"]) for h in done.json["history"]] == [
        (None, "open"), ("open", "investigating"), ("investigating", "investigating"),
        ("investigating", "confirmed_fake")]
    assert patch({"status": "dismissed"}).status_code == 409
    assert patch({}).status_code == 422
    log = client.get("/api/v1/regulator/audit-log", headers=regulator).json["entries"]
    assert [e["action"] for e in log[:3]] == ["report.confirmed_fake", "report.note", "report.investigating"]
    from verify_service.push.models import OutboxRecord
    from sqlalchemy import select
    from verify_service.db import session
    kinds = run(lambda: [r.kind for r in session().scalars(select(OutboxRecord))])
    assert "fake.confirmed" in kinds


def test_report_with_photo_and_bad_photos(client: Any, regulator: dict[str, str]) -> None:
    r = client.post("/api/v1/reports", data={"text": "无证书却印绿色食品标志", "photo": (io.BytesIO(PNG), "a.png")},
                    content_type="multipart/form-data")
    assert r.status_code == 201
    photo = client.get(f"/api/v1/regulator/reports/{r.json['id']}/photo", headers=regulator)
    assert photo.status_code == 200 and photo.mimetype == "image/png" and photo.get_data() == PNG
    bad = client.post("/api/v1/reports", data={"text": "x", "photo": (io.BytesIO(b"<html>"), "a.png")},
                      content_type="multipart/form-data", environ_base={"REMOTE_ADDR": "192.0.2.9"})
    assert bad.status_code == 422 and bad.json["error"]["code"] == "photo_type"
    fake_png = client.post("/api/v1/reports", data={"text": "x", "photo": (io.BytesIO(PNG[:20] + b"junk"), "a.png")},
                           content_type="multipart/form-data", environ_base={"REMOTE_ADDR": "192.0.2.9"})
    assert fake_png.status_code == 422 and fake_png.json["error"]["code"] == "photo_unreadable"
    big = client.post("/api/v1/reports", data={"text": "x", "photo": (io.BytesIO(PNG + b"0" * 3_000_000), "a.png")},
                      content_type="multipart/form-data", environ_base={"REMOTE_ADDR": "192.0.2.10"})
    assert big.status_code == 422 and big.json["error"]["code"] == "photo_too_large"
    assert client.post("/api/v1/reports", json={"text": ""}).status_code == 422


def test_reports_are_rate_limited(client: Any) -> None:
    codes = [client.post("/api/v1/reports", json={"text": f"第{i}次"}, environ_base={"REMOTE_ADDR": "192.0.2.77"}).status_code
             for i in range(6)]
    assert codes == [201] * 5 + [429]


def test_report_form_page(client: Any, batch: dict[str, Any]) -> None:
    url = batch["labels"][9]["url"]
    page = client.get("/L/" + url.split("/L/")[1]).get_data(as_text=True)
    assert 'id="report"' in page and 'id="pin"' in page
    r = client.post("/report", data={"code": url, "text": "包装破损"}, content_type="multipart/form-data")
    assert r.status_code == 201 and "举报已收到" in r.get_data(as_text=True)
    r = client.post("/report?lang=en", data={"code": url, "text": ""}, content_type="multipart/form-data")
    assert r.status_code == 422 and "not sent" in r.get_data(as_text=True)


def test_void_is_audited(client: Any, batch: dict[str, Any], regulator: dict[str, str]) -> None:
    serial = batch["labels"][0]["serial"]
    client.post(f"/api/v1/regulator/labels/{serial}/void", json={"reason": "被盗"}, headers=regulator)
    client.post(f"/api/v1/regulator/label-batches/{batch['id']}/void", json={"reason": "召回"}, headers=regulator)
    log = client.get("/api/v1/regulator/audit-log", headers=regulator).json["entries"]
    assert [(e["action"], e["target_id"]) for e in log[:2]] == [("batch.void", str(batch["id"])), ("label.void", serial)]
    assert all(e["actor"].startswith("regulator:") for e in log[:2])


def test_risk_ranking(client: Any, batch: dict[str, Any], regulator: dict[str, str], make_holder: Callable[..., Any],
                      admin_headers: dict[str, str]) -> None:
    url = batch["labels"][0]["url"]
    for i in range(6):
        scan(client, url, f"{20 + i}.0.1.5")
    rid = client.post("/api/v1/reports", json={"code": url, "text": "假冒"}).json["id"]
    client.patch(f"/api/v1/regulator/reports/{rid}", json={"status": "investigating"}, headers=regulator)
    client.patch(f"/api/v1/regulator/reports/{rid}", json={"status": "confirmed_fake"}, headers=regulator)
    client.post(f"/api/v1/admin/certificates/{batch['certificate_number']}/status",
                json={"status": "suspended", "reason": "x"}, headers=admin_headers)
    scan(client, batch["labels"][1]["url"], "192.0.2.1")
    rows = client.get("/api/v1/regulator/risk/certificates", headers=regulator).json["rows"]
    assert rows[0]["certificate_number"] == batch["certificate_number"] and rows[0]["rank"] == 1
    assert rows[0]["confirmed_fakes"] == 1 and rows[0]["alerts"] == 1 and rows[0]["invalid_scans"] == 1
    assert rows[0]["score"] == 5 + 3 + 1 + 0.2 and len(rows[0]["reasons"]) == 4
    ent = client.get("/api/v1/regulator/risk/enterprises?format=csv", headers=regulator)
    assert ent.mimetype == "text/csv"
    lines = ent.get_data(as_text=True).splitlines()
    assert lines[0].startswith("rank,score,certificates,enterprise_uscc") and len(lines) == 2
    assert client.get("/api/v1/regulator/risk/products", headers=regulator).status_code == 404
