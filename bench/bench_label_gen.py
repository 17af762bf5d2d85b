"""Benchmark label_gen against plain baselines measured in the same run.

    python bench/bench_label_gen.py [--quick]

Prints, as ratios against the baseline of the same run:
  * signed labels/s and signed manifest rows/s vs raw Ed25519 signing (target >= 0.5)
  * SVG/s vs plain ``qrcode.make(url, image_factory=SvgPathImage)`` (target >= 5)
  * PDF sheet labels/s vs a naive reportlab canvas drawing one rect per module (target >= 3)
  * peak RSS of a 1,000,000-label manifest run written to /dev/null (target < 200 MB)
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import io
import os
import pathlib
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import qrcode  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
import qrcode.image.svg  # noqa: E402
from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.lib.units import mm  # noqa: E402
from reportlab.pdfgen import canvas  # noqa: E402

from label_gen import (  # noqa: E402
    KeyRing,
    QRRenderer,
    codec,
    generate_key_record,
    iter_labels,
    iter_manifest,
    iter_sheet_pdf,
)

BASE_URL = "https://gf.cn/L/"
PASSPHRASE = "bench"
T0 = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)


def rate(fn: Callable[[int], None], n: int) -> float:
    """Items per second for ``fn(n)``, best of three runs (machines are noisy)."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        fn(n)
        best = min(best, time.perf_counter() - start)
    return n / best


def line(name: str, ours: float, base: float, target: str) -> None:
    print(f"{name:<34} {ours:>12,.0f}/s  baseline {base:>10,.0f}/s  ratio {ours / base:6.2f}  (target {target})")


def bench_signing(ring: KeyRing, key: Ed25519PrivateKey, n: int) -> None:
    signer = ring.signer(at=T0)
    header = bytes((1, signer.key_id))

    def raw(count: int) -> None:
        sign, prefix = key.sign, codec.SIGNING_DOMAIN + header
        for serial in range(1, count + 1):
            sign(prefix + serial.to_bytes(5, "big"))

    def labels(count: int) -> None:
        collections.deque(iter_labels(ring, 1, count, BASE_URL, at=T0), maxlen=0)

    def manifest(count: int) -> None:
        for _chunk in iter_manifest(iter_labels(ring, 1, count, BASE_URL, at=T0)):
            pass

    # Raw signing is measured before and after, and the faster figure kept,
    # so CPU frequency drift cannot flatter the ratios.
    raw_before = rate(raw, n)
    labels_rate, manifest_rate = rate(labels, n), rate(manifest, n)
    raw_rate = max(raw_before, rate(raw, n))
    line("raw Ed25519 signatures", raw_rate, raw_rate, "baseline")
    line("signed labels", labels_rate, raw_rate, ">= 0.5")
    line("signed manifest rows", manifest_rate, raw_rate, ">= 0.5")


def bench_svg(urls: list[str]) -> None:
    def baseline(count: int) -> None:
        for url in urls[:count]:
            qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage).save(io.BytesIO())

    renderer = QRRenderer(BASE_URL)

    def ours(count: int) -> None:
        for url in urls[:count]:
            renderer.svg(url)

    base = rate(baseline, min(len(urls), 60))
    line("SVG", rate(ours, len(urls)), base, ">= 5")


def naive_pdf(labels: list, count: int, matrix_of: Callable[[str], list]) -> None:
    """Labels 25 mm apart, one ``canvas.rect`` per dark module."""
    pdf = canvas.Canvas(io.BytesIO(), pagesize=A4)
    per_row, per_page = 7, 70
    module = 14.5 * mm / 45
    for index, label in enumerate(labels[:count]):
        slot = index % per_page
        if index and slot == 0:
            pdf.showPage()
        x0 = 15 * mm + (slot % per_row) * 27 * mm
        y0 = 280 * mm - (slot // per_row) * 27 * mm
        for y, row in enumerate(matrix_of(label.url)):
            for x, dark in enumerate(row):
                if dark:
                    pdf.rect(x0 + x * module, y0 - y * module, module, module, stroke=0, fill=1)
        pdf.drawString(x0, y0 - 16 * mm, str(label.serial))
    pdf.save()


def bench_pdf(labels: list) -> None:
    def plain_matrix(url: str) -> list:
        qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
        qr.add_data(url)
        qr.make()
        return qr.modules

    renderer = QRRenderer(BASE_URL)

    def ours(count: int) -> None:
        for _chunk in iter_sheet_pdf(
            labels[:count], base_url=BASE_URL, label_format="round25",
            programme="green_food", certificate_number="LB-15-2501011234A",
        ):
            pass

    ours_rate = rate(ours, len(labels))
    line("PDF labels (vs plain qrcode+rects)", ours_rate,
         rate(lambda c: naive_pdf(labels, c, plain_matrix), min(len(labels), 60)), ">= 3")
    line("PDF labels (vs fast QR+rects)", ours_rate,
         rate(lambda c: naive_pdf(labels, c, renderer.matrix), len(labels)), "info: path alone")


MEMORY_SCRIPT = textwrap.dedent(
    """
    import datetime as dt, resource, sys, time
    sys.path.insert(0, {root!r})
    from label_gen import KeyRing, generate_key_record, iter_labels, write_manifest
    t0 = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    ring = KeyRing([generate_key_record("x", now=t0)], "x")
    start = time.perf_counter()
    with open("/dev/null", "w", encoding="utf-8", newline="") as out:
        write_manifest(out, iter_labels(ring, 1, {n}, "https://gf.cn/L/", pin_secret=b"s", at=t0), pins=True)
    print(time.perf_counter() - start)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    """
)


def bench_memory(n: int) -> None:
    script = MEMORY_SCRIPT.format(root=str(ROOT), n=n)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    seconds, max_rss_kib = result.stdout.split()
    print(
        f"manifest run of {n:,} labels with PINs to /dev/null: {float(seconds):.1f} s, "
        f"{n / float(seconds):,.0f} rows/s, peak RSS {int(max_rss_kib) / 1024:.0f} MB (target < 200 MB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller runs (about 20 s)")
    args = parser.parse_args()
    sign_n, svg_n, pdf_n, manifest_n = (
        (5_000, 200, 140, 100_000) if args.quick else (40_000, 1_000, 700, 1_000_000)
    )
    print(f"label_gen benchmark ({'quick' if args.quick else 'full'}), {os.cpu_count()} CPUs")
    key = Ed25519PrivateKey.generate()  # the ring's key, also used raw for the baseline
    ring = KeyRing([generate_key_record(PASSPHRASE, now=T0, private_key=key)], PASSPHRASE)
    bench_signing(ring, key, sign_n)
    labels = list(iter_labels(ring, 1, max(svg_n, pdf_n), BASE_URL, at=T0))
    bench_svg([label.url for label in labels[:svg_n]])
    bench_pdf(labels[:pdf_n])
    bench_memory(manifest_n)


if __name__ == "__main__":
    main()
