"""The consumer scan page in a real browser at phone size, served by a real gunicorn.

Every verdict is opened in Chinese (the default), with ``?lang=en`` and with an English
Accept-Language header. Each view must name the verdict, colour the banner, fit a 390 px
screen without sideways scrolling, load nothing but its own HTML and stylesheet, and work
with JavaScript turned off. Screenshots go to ``screenshots/`` for a human to look at.
"""

from __future__ import annotations

import csv
import io
import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import label_gen
import pytest

from verify_service.services import verification

from tests.conftest import empty_tables
from tests.e2e.conftest import LiveServer, start_gunicorn, stop
from tests.service.factories import certificate_body, enterprise_body

from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, SCREENSHOTS, require_browser

sync_api: Any = require_browser()

HEADINGS = {
    "authentic": ("正品标签", "Genuine label"),
    "certificate_invalid": ("证书无效", "Certificate not valid"),
    "label_void": ("标签已作废", "Label voided"),
    "suspected_clone": ("疑似复制标签", "Possibly copied label"),
    "counterfeit": ("假冒标签", "Counterfeit label"),
    "malformed": ("无法识别", "Not recognised"),
}
#: The banner colour of each verdict (scan.css), as the browser computes it.
BANNER_COLOURS = {
    "authentic": "rgb(29, 122, 58)",
    "certificate_invalid": "rgb(161, 92, 0)",
    "suspected_clone": "rgb(161, 92, 0)",
    "label_void": "rgb(179, 38, 30)",
    "counterfeit": "rgb(179, 38, 30)",
    "malformed": "rgb(85, 85, 85)",
}
#: How each language mode is asked for: (query string, browser locale → Accept-Language).
#: The secrets of the shared ``app_config`` fixture, so both processes read the same keys.
MODULE_CONFIG = {
    "TESTING": True,
    "LABEL_KEY_PASSPHRASE": "test passphrase",
    "PIN_SECRET": "test pin secret",
    "SECRET_KEY": "test secret",
}
LANGUAGE_MODES = {
    "zh": ("", "zh-CN"),
    "en": ("?lang=en", "zh-CN"),
    "en-header": ("", "en-US"),
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class Issued:
    """Two certificates of one enterprise, each with a printed batch, and the tokens to change them."""

    uscc: str
    enterprise_name: str
    certificate: str
    product: str
    codes: list[str]
    serials: list[int]
    #: a second certificate's labels, for suspending without touching the first
    other_certificate: str
    other_codes: list[str]
    other_serials: list[int]
    admin: dict[str, str]
    regulator: dict[str, str]
    client: Any
    signing_ring: Any


def _order(client: Any, admin: dict[str, str], holder: dict[str, str], uscc: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
    r = client.post("/api/v1/admin/certificates", headers=admin,
                    json=certificate_body(uscc, valid_from="2025-01-01", valid_to="2029-12-31"))
    assert r.status_code == 201, r.json
    cert = r.json
    r = client.post("/api/v1/enterprise/label-batches", headers=holder, json={
        "certificate_number": cert["number"], "product_id": cert["products"][0]["id"], "quantity": 6})
    assert r.status_code == 201, r.json
    r = client.get(f"/api/v1/enterprise/label-batches/{r.json['id']}/manifest.csv", headers=holder)
    return cert, list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))


@pytest.fixture(scope="module")
def issued(database_url: str) -> Iterator[Issued]:
    """One application and one gunicorn for the whole module, on the shared test database.

    Each test uses its own labels, so the order tests run in does not matter. The app runs on
    the real clock, as gunicorn does, so the certificates are valid for years around today.
    """
    from verify_service import create_app, db
    from verify_service.services import keys, tokens

    application = create_app(MODULE_CONFIG | {"DATABASE_URL": database_url})
    client = application.test_client()

    def run(fn: Callable[..., Any], *args: Any) -> Any:
        with application.app_context():
            result = fn(*args)
            db.commit()
            return result

    def bearer(role: str, uscc: str | None = None) -> dict[str, str]:
        return {"Authorization": "Bearer " + run(tokens.create_token, f"browser-{role}", role, uscc)[0]}

    try:
        run(keys.create_key, "test", "admin")
        admin = bearer("admin")
        ent = enterprise_body()
        assert client.post("/api/v1/admin/enterprises", json=ent, headers=admin).status_code == 201
        holder = bearer("enterprise", ent["uscc"])
        cert, rows = _order(client, admin, holder, ent["uscc"])
        other_cert, other_rows = _order(client, admin, holder, ent["uscc"])
        yield Issued(
            uscc=ent["uscc"], enterprise_name=ent["name"], certificate=cert["number"],
            product=cert["products"][0]["name"],
            codes=[row["url"].rsplit("/", 1)[1] for row in rows], serials=[int(row["serial"]) for row in rows],
            other_certificate=other_cert["number"],
            other_codes=[row["url"].rsplit("/", 1)[1] for row in other_rows],
            other_serials=[int(row["serial"]) for row in other_rows],
            admin=admin, regulator=bearer("regulator"), client=client, signing_ring=run(keys.signing_ring),
        )
    finally:
        application.extensions["db"].engine.dispose()
        empty_tables(database_url)


@pytest.fixture(scope="module")
def server(issued: Issued, database_url: str) -> Iterator[LiveServer]:
    live = start_gunicorn(database_url, MODULE_CONFIG)
    yield live
    stop(live)


@dataclass
class View:
    heading: str
    body_class: str
    banner_colour: str
    text: str
    scroll_width: int
    inner_width: int
    requests: list[str]
    #: elements sticking out past the phone's width (tag.class and right edge), for the failure message
    too_wide: list[str]


TOO_WIDE_JS = """width => [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > width + 0.5)
    .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + (e.id ? '#' + e.id : '')
              + ' right=' + Math.round(e.getBoundingClientRect().right))"""


def open_page(browser: Any, url: str, lang_mode: str, screenshot: str | None = None,
              javascript: bool = True) -> View:
    """Open ``url`` in a fresh phone-sized context and read what a person would see."""
    query, locale = LANGUAGE_MODES[lang_mode]
    context = browser.new_context(**PHONE, locale=locale, java_script_enabled=javascript)
    try:
        page = context.new_page()
        requests: list[str] = []
        page.on("request", lambda req: requests.append(req.url))
        response = page.goto(url + query, wait_until="load")
        assert response is not None and response.status == 200, url
        # Measured by the browser itself (works with page JavaScript off: evaluate runs in
        # an isolated world).
        view = View(
            heading=page.locator("h1").inner_text().strip(),
            body_class=page.locator("body").get_attribute("class") or "",
            banner_colour=page.locator(".banner").evaluate("e => getComputedStyle(e).backgroundColor"),
            text=page.locator("body").inner_text(),
            scroll_width=page.evaluate("document.documentElement.scrollWidth"),
            inner_width=page.evaluate("window.innerWidth"),
            requests=requests,
            too_wide=page.evaluate(TOO_WIDE_JS, PHONE["viewport"]["width"]),
        )
        if screenshot:
            SCREENSHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / screenshot), full_page=True)
        return view
    finally:
        context.close()


def check_view(view: View, verdict: str, lang_mode: str, server: LiveServer, path: str) -> None:
    zh, en = HEADINGS[verdict]
    assert view.heading == (zh if lang_mode == "zh" else en), view.text
    assert view.body_class == f"verdict-{verdict}"
    assert view.banner_colour == BANNER_COLOURS[verdict], "scan.css did not style the banner"
    # On a phone an overflowing page widens the layout viewport itself, so innerWidth grows too.
    assert view.scroll_width <= view.inner_width == PHONE["viewport"]["width"], (
        f"sideways scrolling: page {view.scroll_width}px wide; too wide: {view.too_wide}")
    origin = urllib.parse.urlsplit(server.url)
    for url in view.requests:
        assert urllib.parse.urlsplit(url)[:2] == origin[:2], f"third-party request {url}"
    paths = sorted(urllib.parse.urlsplit(u).path for u in view.requests)
    assert paths == sorted([urllib.parse.urlsplit(server.url + path).path, "/static/scan.css"]), view.requests
    if lang_mode == "zh":
        assert "English" in view.text and "12315" in view.text
    else:
        assert "中文" in view.text and "hotline" in view.text


def check_details(view: View, issued: Issued, serial: int) -> None:
    for text in (issued.product, issued.enterprise_name, issued.uscc, issued.certificate, str(serial)):
        assert text in view.text, f"{text!r} missing from the page"


def scan_every_language(browser: Any, server: LiveServer, code: str, verdict: str) -> list[View]:
    """zh, ?lang=en, Accept-Language: en, in that order (three scans of the code)."""
    path = "/L/" + code
    views = []
    for mode in LANGUAGE_MODES:
        shot = f"scan-{verdict}-{mode}.png" if mode != "en-header" else None
        view = open_page(browser, server.url + path, mode, screenshot=shot)
        check_view(view, verdict, mode, server, path)
        views.append(view)
    return views


# Label use: codes[0] authentic and repeat scans, codes[1] /l/ route, codes[2] voided,
# codes[3] its untouched neighbour, codes[4] the clone pattern, codes[5] no JavaScript;
# other_codes[0] under the suspended certificate.

def test_authentic(browser: Any, server: LiveServer, issued: Issued) -> None:
    zh, en, en_header = scan_every_language(browser, server, issued.codes[0], "authentic")
    for view in (zh, en, en_header):
        check_details(view, issued, issued.serials[0])
    assert "这是此标签的首次查询" in zh.text and "绿色食品" in zh.text and "有效" in zh.text
    assert "This label has been checked 2 times, first on" in en.text and "Green Food" in en.text
    assert "许可使用绿色食品标志" in zh.text and "(Trademark: 稻香牌)" in en.text
    assert "This label has been checked 3 times" in en_header.text
    # the repeat-scan wording, which a shopper reads to spot a label copied onto many packs
    again = open_page(browser, server.url + "/L/" + issued.codes[0], "zh", screenshot="scan-authentic-zh-repeat.png")
    assert re.search(r"此标签已被查询 4 次，首次查询于 \d{4}-\d\d-\d\d \d\d:\d\d", again.text), again.text
    # the lower-case route a scanner may produce
    assert open_page(browser, server.url + "/l/" + issued.codes[1], "zh").heading == "正品标签"


def test_certificate_invalid(browser: Any, server: LiveServer, issued: Issued) -> None:
    r = issued.client.post(f"/api/v1/admin/certificates/{issued.other_certificate}/status",
                           json={"status": "suspended", "reason": "抽检不合格"}, headers=issued.admin)
    assert r.status_code == 200, r.json
    zh, en, _ = scan_every_language(browser, server, issued.other_codes[0], "certificate_invalid")
    for view in (zh, en):
        assert issued.other_certificate in view.text and issued.product in view.text
        assert str(issued.other_serials[0]) in view.text
    assert "暂停" in zh.text and "抽检不合格" in zh.text
    # the mark's licence sentence must not reassure a shopper about a suspended certificate
    assert "许可使用绿色食品标志" not in zh.text and "under licence" not in en.text
    assert "suspended" in en.text


def test_label_void(browser: Any, server: LiveServer, issued: Issued) -> None:
    r = issued.client.post(f"/api/v1/regulator/labels/{issued.serials[2]}/void", json={"reason": "卷标被盗"},
                           headers=issued.regulator)
    assert r.status_code == 200, r.json
    zh, en, _ = scan_every_language(browser, server, issued.codes[2], "label_void")
    check_details(zh, issued, issued.serials[2])
    assert "卷标被盗" in zh.text and "作废" in zh.text
    assert "voided" in en.text
    # its neighbour on the roll is untouched
    assert open_page(browser, server.url + "/L/" + issued.codes[3], "zh").heading == "正品标签"


def test_counterfeit_other_key(browser: Any, server: LiveServer, issued: Issued) -> None:
    other = label_gen.KeyRing([label_gen.generate_key_record("forger")], "forger")
    zh, en, _ = scan_every_language(browser, server, other.sign(issued.serials[0]), "counterfeit")
    assert "12315" in zh.text and issued.certificate not in zh.text and issued.enterprise_name not in zh.text
    assert "not issued by the certifying centre" in en.text


def test_counterfeit_never_issued(browser: Any, server: LiveServer, issued: Issued) -> None:
    zh, en, _ = scan_every_language(browser, server, issued.signing_ring.sign(999_999_999), "counterfeit")
    assert "999999999" in zh.text and "从未被签发" in zh.text
    assert "never issued" in en.text


@pytest.mark.parametrize("junk", ["this-is-not-a-label", "1" * 400, "%E4%BD%A0%E5%A5%BD-" + "x" * 200])
def test_malformed(browser: Any, server: LiveServer, issued: Issued, junk: str) -> None:
    zh, en, _ = scan_every_language(browser, server, junk, "malformed")
    assert "这不是本系统的标签码" in zh.text and issued.certificate not in zh.text
    assert "not a label code of this system" in en.text


def test_suspected_clone(browser: Any, server: LiveServer, issued: Issued) -> None:
    services = Path(verification.__file__).parent
    if not any('"suspected_clone"' in f.read_text(encoding="utf-8").replace("VERDICTS = (", "")
               for f in services.glob("*.py") if f.name != "verification.py"):
        pytest.skip("no clone detection yet: nothing in verify_service/services returns suspected_clone")
    # One printed label scanned by many parties (distinct networks, far apart) within minutes:
    # what a photocopied label looks like.
    code = issued.codes[4]
    for i in range(8):
        issued.client.get("/api/v1/verify", query_string={"code": code, "lat": 22 + 3 * i, "lon": 100 + 3 * i},
                          environ_base={"REMOTE_ADDR": f"203.0.{10 + i}.7"},
                          headers={"User-Agent": f"Mozilla/5.0 (Linux; Android 1{i})"})
    verdict = issued.client.get("/api/v1/verify", query_string={"code": code}).json["verdict"]
    assert verdict == "suspected_clone", "eight parties far apart within minutes should flag a clone"
    zh, en, _ = scan_every_language(browser, server, code, "suspected_clone")
    check_details(zh, issued, issued.serials[4])
    assert "可能已被复制" in zh.text and "may have been copied" in en.text


def test_works_without_javascript(browser: Any, server: LiveServer, issued: Issued) -> None:
    view = open_page(browser, server.url + "/L/" + issued.codes[5], "zh", javascript=False,
                     screenshot="scan-authentic-zh-nojs.png")
    check_view(view, "authentic", "zh", server, "/L/" + issued.codes[5])
    check_details(view, issued, issued.serials[5])
