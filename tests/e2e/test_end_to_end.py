"""The product's main loop through a real gunicorn: order, print, scan, change, void, forge."""

from __future__ import annotations

import io
from typing import Any, Callable

import label_gen
import pymupdf
import zxingcpp
from PIL import Image

from tests.e2e.conftest import LiveServer
from tests.service.factories import certificate_body, enterprise_body


def _decode_pdf(pdf: bytes) -> list[str]:
    doc = pymupdf.open(stream=pdf, filetype="pdf")
    texts: list[str] = []
    for page in doc:
        pix = page.get_pixmap(dpi=400)
        img = Image.open(io.BytesIO(pix.tobytes("png")))
        texts += [r.text for r in zxingcpp.read_barcodes(img)]
    return texts


def test_order_print_scan_and_every_verdict(live_server: LiveServer, run: Callable[..., Any],
                                            make_token: Callable[..., str]) -> None:
    from verify_service.services import keys

    run(keys.create_key, "test", "admin")
    admin = {"Authorization": "Bearer " + make_token("admin")}
    regulator = {"Authorization": "Bearer " + make_token("regulator")}
    ent = enterprise_body()
    assert live_server.json("POST", "/api/v1/admin/enterprises", ent, admin)[0] == 201
    status, cert = live_server.json("POST", "/api/v1/admin/certificates",
                                    certificate_body(ent["uscc"], valid_from="2025-01-01", valid_to="2030-12-31"), admin)
    assert status == 201, cert
    enterprise = {"Authorization": "Bearer " + make_token("enterprise", ent["uscc"])}

    status, batch = live_server.json("POST", "/api/v1/enterprise/label-batches", {
        "certificate_number": cert["number"], "product_id": cert["products"][0]["id"], "quantity": 12,
        "label_format": "round25"}, enterprise)
    assert status == 201, batch

    status, headers, pdf = live_server.request("GET", f"/api/v1/enterprise/label-batches/{batch['id']}/sheets.pdf",
                                               headers=enterprise)
    assert status == 200 and headers["Content-Type"] == "application/pdf"
    urls = _decode_pdf(pdf)
    assert len(urls) == 12
    url = urls[0]
    assert url.startswith(live_server.base_url)

    status, v = live_server.json("GET", url)
    assert status == 200 and v["verdict"] == "authentic", v
    assert v["certificate"]["number"] == cert["number"]
    first_serial = v["serial"]
    assert batch["first_serial"] <= first_serial <= batch["last_serial"]

    # the human page, in Chinese by default
    status, _, html = live_server.request("GET", url)
    assert status == 200 and "正品标签" in html.decode()

    # suspending the certificate changes the verdict at the next scan
    status, _ = live_server.json("POST", f"/api/v1/admin/certificates/{cert['number']}/status",
                                 {"status": "suspended", "reason": "年检不合格"}, admin)
    assert status == 200
    assert live_server.json("GET", url)[1]["verdict"] == "certificate_invalid"
    live_server.json("POST", f"/api/v1/admin/certificates/{cert['number']}/status",
                     {"status": "valid", "reason": "整改完成"}, admin)
    assert live_server.json("GET", url)[1]["verdict"] == "authentic"

    # voiding the label
    status, _ = live_server.json("POST", f"/api/v1/regulator/labels/{first_serial}/void", {"reason": "卷标被盗"}, regulator)
    assert status == 200
    assert live_server.json("GET", url)[1]["verdict"] == "label_void"
    assert live_server.json("GET", urls[1])[1]["verdict"] == "authentic"

    # a label signed by another key ring
    other = label_gen.KeyRing([label_gen.generate_key_record("elsewhere")], "elsewhere")
    forged = label_gen.label_url(live_server.base_url, other.sign(first_serial))
    assert live_server.json("GET", forged)[1]["verdict"] == "counterfeit"

    # junk
    assert live_server.json("GET", "/L/this-is-not-a-label")[1]["verdict"] == "malformed"
    status, v = live_server.json("GET", "/api/v1/verify?code=%F0%9F%98%80garbage")
    assert status == 200 and v["verdict"] == "malformed"

    # every scan was recorded: five of the genuine label, and the forgery that claimed its serial
    status, detail = live_server.json("GET", f"/api/v1/regulator/labels/{first_serial}", headers=regulator)
    assert detail["scan_count"] == 5
    assert [s["verdict"] for s in detail["scans"]] == [
        "counterfeit", "label_void", "authentic", "certificate_invalid", "authentic", "authentic"]
    assert {s["channel"] for s in detail["scans"]} == {"api", "page"}
