"""The scan page's PIN and report forms in a real browser (no JavaScript needed), both languages."""

from __future__ import annotations

import csv
import io
from typing import Any, Callable, Iterator

import pytest

from tests.e2e.conftest import LiveServer
from tests.service.factories import certificate_body, enterprise_body

from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, SCREENSHOTS, require_browser

sync_api: Any = require_browser()


@pytest.fixture
def page(live_server: LiveServer) -> Iterator[Any]:
    SCREENSHOTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(java_script_enabled=False, locale="zh-CN", **PHONE)
        yield context.new_page()
        browser.close()


def _labels(live_server: LiveServer, run: Callable[..., Any], make_token: Callable[..., str]) -> list[dict[str, str]]:
    from verify_service.services import keys

    run(keys.create_key, "test", "admin")
    admin = {"Authorization": "Bearer " + make_token("admin")}
    ent = enterprise_body()
    live_server.json("POST", "/api/v1/admin/enterprises", ent, admin)
    cert = live_server.json("POST", "/api/v1/admin/certificates",
                            certificate_body(ent["uscc"], valid_from="2025-01-01", valid_to="2030-12-31"), admin)[1]
    headers = {"Authorization": "Bearer " + make_token("enterprise", ent["uscc"])}
    batch = live_server.json("POST", "/api/v1/enterprise/label-batches", {
        "certificate_number": cert["number"], "product_id": cert["products"][0]["id"], "quantity": 3, "pins": True},
        headers)[1]
    _, _, raw = live_server.request("GET", f"/api/v1/enterprise/label-batches/{batch['id']}/manifest.csv", headers=headers)
    return list(csv.DictReader(io.StringIO(raw.decode())))


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_pin_form_in_both_languages(live_server: LiveServer, run: Callable[..., Any],
                                    make_token: Callable[..., str], page: Any) -> None:
    labels = _labels(live_server, run, make_token)
    code = labels[0]["url"].split("/L/")[1]
    page.goto(f"{live_server.url}/L/{code}")
    assert page.locator("#pin h2").inner_text() == "刮码查询"
    page.fill("#pin-input", labels[0]["pin"])
    page.click("#pin button")
    assert "这是此验证码的首次使用" in page.locator(".pin-result").inner_text()
    assert page.locator(".banner h1").inner_text() == "正品标签"
    _shot(page, "pin-first_use-zh")

    page.goto(f"{live_server.url}/L/{code}?lang=en")
    page.fill("#pin-input", labels[0]["pin"])
    page.click("#pin button")
    assert "already used" in page.locator(".pin-result").inner_text()
    assert page.locator(".banner h1").inner_text() == "Possibly copied label"
    _shot(page, "pin-already_used-en")

    page.goto(f"{live_server.url}/check")
    page.fill("#serial", labels[1]["serial"])
    page.fill("#pin-input", "000000" if labels[1]["pin"] != "000000" else "111111")
    page.click("#pin button")
    assert "验证码不正确" in page.locator(".pin-result").inner_text()
    _shot(page, "pin-wrong-zh")
    page.goto(f"{live_server.url}/check?lang=en")
    page.fill("#serial", labels[1]["serial"])
    page.fill("#pin-input", labels[1]["pin"])
    page.click("#pin button")
    assert "first use" in page.locator(".pin-result").inner_text()
    _shot(page, "pin-first_use-en")


def test_report_form_in_both_languages(live_server: LiveServer, run: Callable[..., Any],
                                       make_token: Callable[..., str], page: Any) -> None:
    labels = _labels(live_server, run, make_token)
    code = labels[2]["url"].split("/L/")[1]
    for lang, query, done in (("zh", "", "举报已收到"), ("en", "?lang=en", "Report received")):
        page.goto(f"{live_server.url}/L/{code}{query}")
        page.fill("#report-text", "超市货架上的大米标签是复印的" if lang == "zh" else "The label looks photocopied")
        page.select_option("#report-region", "31")
        page.fill("#report-contact", "138****0000")
        page.click("#report button")
        assert done in page.locator(".report-done").inner_text()
        _shot(page, f"report-done-{lang}")
    regulator = {"Authorization": "Bearer " + make_token("regulator")}
    reports = live_server.json("GET", "/api/v1/regulator/reports", headers=regulator)[1]["reports"]
    assert len(reports) == 2 and {r["province"] for r in reports} == {"31"}
    assert all(r["serial"] == int(labels[2]["serial"]) for r in reports)
