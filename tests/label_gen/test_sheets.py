"""PDF sheets: every label on a rasterized page decodes to its exact URL."""

from __future__ import annotations

import itertools
import tracemalloc

import pymupdf
import pytest
import zxingcpp
from PIL import Image

from label_gen import LABEL_FORMATS, LayoutError, iter_labels, iter_sheet_pdf, plan_layout
from label_gen.sheets import MIN_MODULE_MM, PROGRAMME_MARKS

from .conftest import BASE_URL, LONG_BASE_URL, T0

PIN_SECRET = b"test pin secret"
CERT = "LB-15-2501011234A"


def sheet_pdf(labels, label_format: str, *, programme: str = "green_food", pins: bool = True) -> bytes:
    return b"".join(
        iter_sheet_pdf(
            labels,
            base_url=BASE_URL,
            label_format=label_format,
            programme=programme,
            certificate_number=CERT,
            pins=pins,
        )
    )


@pytest.mark.parametrize(
    ("label_format", "programme"),
    [
        ("round20", "gi"),
        ("round25", "green_food"),
        ("round30", "organic"),
        ("rect40x25", "gi"),
        ("rect50x30", "green_food"),
    ],
)
def test_one_page_per_format_decodes_to_every_exact_url(ring, label_format, programme) -> None:
    layout = plan_layout(
        label_format, BASE_URL, programme=programme, certificate_number=CERT, pins=True
    )
    assert layout.module_mm >= MIN_MODULE_MM
    first = 500_000
    labels = list(
        iter_labels(
            ring, first, first + layout.labels_per_page - 1, BASE_URL, pin_secret=PIN_SECRET, at=T0
        )
    )
    doc = pymupdf.open(stream=sheet_pdf(labels, label_format, programme=programme), filetype="pdf")
    assert doc.page_count == 1
    page = doc[0]
    pix = page.get_pixmap(dpi=300)
    image = Image.frombytes("RGB", (pix.width, pix.height), pix.samples)
    decoded = [r.text for r in zxingcpp.read_barcodes(image)]
    assert sorted(decoded) == sorted(label.url for label in labels)

    text = page.get_text()
    assert PROGRAMME_MARKS[programme] in text
    assert CERT in text
    for label in (labels[0], labels[-1]):
        assert str(label.serial) in text
        assert label.pin is not None and label.pin in text
    assert "page 1" in text


def test_pages_and_page_numbers(ring) -> None:
    layout = plan_layout("rect50x30", BASE_URL, programme="organic", certificate_number=CERT)
    count = layout.labels_per_page * 2 + 3
    labels = iter_labels(ring, 1, count, BASE_URL, at=T0)
    doc = pymupdf.open(stream=sheet_pdf(labels, "rect50x30", pins=False), filetype="pdf")
    assert doc.page_count == 3
    assert "page 3" in doc[2].get_text()
    assert f"{count - 2}-{count}" in doc[2].get_text()


def test_layout_refuses_modules_below_minimum() -> None:
    # A 30-character base URL needs QR version 6: 49 modules with quiet zone
    # do not fit 11.4 mm at 0.25 mm each.
    with pytest.raises(LayoutError, match="below the 0.25 mm minimum"):
        plan_layout("round20", LONG_BASE_URL, programme="gi", certificate_number=CERT)
    # The same base URL is fine on a larger label.
    assert plan_layout("round25", LONG_BASE_URL, programme="gi", certificate_number=CERT).version == 6
    # And the refusal comes before any byte is produced.
    with pytest.raises(LayoutError):
        iter_sheet_pdf(
            [], base_url=LONG_BASE_URL, label_format="round20", programme="gi",
            certificate_number=CERT,
        )


def test_layout_refuses_text_too_small_and_bad_inputs() -> None:
    with pytest.raises(LayoutError, match="certificate"):
        plan_layout("round20", BASE_URL, programme="gi", certificate_number="X" * 60)
    with pytest.raises(LayoutError, match="programme"):
        plan_layout("round25", BASE_URL, programme="halal", certificate_number=CERT)
    with pytest.raises(LayoutError, match="format"):
        plan_layout("hexagon", BASE_URL, programme="gi", certificate_number=CERT)


def test_pins_on_requires_a_pin_per_label(ring) -> None:
    labels = iter_labels(ring, 1, 3, BASE_URL, at=T0)
    with pytest.raises(ValueError, match="no PIN"):
        sheet_pdf(labels, "round25", pins=True)


def test_streams_lazily_page_by_page(ring) -> None:
    layout = plan_layout("rect50x30", BASE_URL, programme="gi", certificate_number=CERT)
    consumed = 0

    def counted():
        nonlocal consumed
        for label in iter_labels(ring, 1, 10_000, BASE_URL, at=T0):
            consumed += 1
            yield label

    chunks = iter_sheet_pdf(
        counted(), base_url=BASE_URL, label_format="rect50x30", programme="gi",
        certificate_number=CERT,
    )
    # Header, catalog and six font/resource objects, then the first page.
    list(itertools.islice(chunks, 9))
    assert consumed == layout.labels_per_page


def _peak_bytes(ring, pages: int) -> int:
    per_page = plan_layout("rect50x30", BASE_URL, programme="gi", certificate_number=CERT).labels_per_page
    tracemalloc.start()
    try:
        for chunk in iter_sheet_pdf(
            iter_labels(ring, 1, pages * per_page, BASE_URL, at=T0),
            base_url=BASE_URL, label_format="rect50x30", programme="gi", certificate_number=CERT,
        ):
            del chunk
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_pages(ring) -> None:
    small, large = _peak_bytes(ring, 2), _peak_bytes(ring, 12)
    # Six times the pages; the peak may only wobble (a few offsets per page).
    assert large < small * 1.5 + 64_000, (small, large)


def test_all_formats_fit_a4() -> None:
    for name in LABEL_FORMATS:
        layout = plan_layout(name, BASE_URL, programme="gi", certificate_number=CERT, pins=True)
        assert layout.columns >= 2 and layout.rows >= 2
