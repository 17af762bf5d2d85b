"""QR rendering: exact round trips through a real decoder, symbol size, masks."""

from __future__ import annotations

import io

import pymupdf
import pytest
import zxingcpp
from PIL import Image

from label_gen import MAX_SERIAL, KeyRing, codec, render_png, render_svg
from label_gen.render import QRRenderer, dark_runs, qr_matrix, qr_segments, qr_version
from label_gen.keys import Signer

from .conftest import BASE_URL, LONG_BASE_URL, T0


def decode_png(data: bytes) -> list[zxingcpp.Result]:
    return zxingcpp.read_barcodes(Image.open(io.BytesIO(data)))


def decode_svg(svg: str) -> list[zxingcpp.Result]:
    doc = pymupdf.open(stream=svg.encode(), filetype="svg")
    pix = doc[0].get_pixmap(dpi=200)
    return zxingcpp.read_barcodes(Image.frombytes("RGB", (pix.width, pix.height), pix.samples))


@pytest.fixture(scope="module")
def signer(ring: KeyRing) -> Signer:
    return ring.signer(at=T0)


def test_base_urls_have_the_lengths_the_size_goal_names() -> None:
    assert len(codec.qr_base_url(BASE_URL)) == 16
    assert len(codec.qr_base_url(LONG_BASE_URL)) == 30


@pytest.mark.parametrize(
    ("base_url", "max_version"), [(BASE_URL, 5), (LONG_BASE_URL, 6)]
)
def test_symbol_version_for_max_serial(signer, base_url, max_version) -> None:
    url = codec.label_url(base_url, signer.sign(MAX_SERIAL))
    assert qr_version(url) <= max_version
    renderer = QRRenderer(base_url)
    assert renderer.version <= max_version
    (result,) = decode_png(renderer.png(url, scale=4))
    assert result.text == url
    assert result.extra["Version"] == str(renderer.version)
    assert result.extra["ECLevel"] == "M"


def test_segments_are_alphanumeric_then_numeric() -> None:
    url = "HTTPS://GF.CN/L/" + "7" * 169
    modes = [segment.mode for segment in qr_segments(url)]
    assert modes == [2, 1]  # MODE_ALPHA_NUM, MODE_NUMBER
    # Lower-case input would cost byte mode, which is why label_url upper-cases.
    assert [s.mode for s in qr_segments("https://gf.cn/l/" + "7" * 169)] == [4, 1]


@pytest.mark.parametrize("serial", [1, 999_999, MAX_SERIAL])
def test_png_and_svg_round_trip_exact_url(signer, serial) -> None:
    url = codec.label_url(BASE_URL, signer.sign(serial))
    renderer = QRRenderer(BASE_URL)
    (from_png,) = decode_png(renderer.png(url))
    assert from_png.text == url
    (from_svg,) = decode_svg(renderer.svg(url))
    assert from_svg.text == url


def test_plain_render_functions_round_trip(signer) -> None:
    url = codec.label_url(BASE_URL, signer.sign(5))
    assert decode_png(render_png(url))[0].text == url
    assert decode_svg(render_svg(url))[0].text == url


@pytest.mark.parametrize("mask", range(8))
def test_every_fixed_mask_decodes(signer, mask) -> None:
    url = codec.label_url(BASE_URL, signer.sign(1000 + mask))
    renderer = QRRenderer(BASE_URL, mask=mask)
    (result,) = decode_png(renderer.png(url, scale=4))
    assert result.text == url
    assert result.extra["DataMask"] == mask


def test_fast_path_matches_reference_matrix(signer) -> None:
    url = codec.label_url(BASE_URL, signer.sign(77))
    renderer = QRRenderer(BASE_URL)
    fast = [list(map(bool, row)) for row in renderer.matrix(url)]
    assert fast == qr_matrix(url, version=renderer.version, mask=renderer.mask)


def test_dark_runs_cover_exactly_the_dark_modules() -> None:
    matrix = qr_matrix("HTTPS://GF.CN/L/" + "3" * 169)
    covered = {(x + i, y) for x, y, w in dark_runs(matrix) for i in range(w)}
    dark = {(x, y) for y, row in enumerate(matrix) for x, m in enumerate(row) if m}
    assert covered == dark
