"""Print-ready A4 PDF sheets of adhesive labels, streamed page by page.

Each label carries its QR code (with quiet zone), the printed serial, the
programme mark, the certificate number and, when PINs are on, a dashed
scratch-off field holding the PIN. Cut guides outline every label and each page
carries a footer with its number and serial range.

Why a small PDF writer of our own: reportlab's ``Canvas`` keeps every finished
page in memory until ``save()``, so a million-label run would grow without
bound. Here each page is compressed and written the moment it is full; only
the byte offsets of its two objects are kept for the cross-reference table
(16 bytes a page). reportlab still supplies what it is good at: the font
metrics used for layout, and the Adobe CID font ``STSong-Light`` for Chinese,
which every PDF reader provides, so nothing is embedded or downloaded.

All drawing happens in millimetres: each page starts by scaling user space.
"""

from __future__ import annotations

import array
import dataclasses
import math
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO, Literal

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont

from label_gen import codec
from label_gen.bulk import Label
from label_gen.exc import LayoutError
from label_gen.render import QUIET_ZONE, QRRenderer, dark_runs

#: Smallest QR module we print: below this, phone cameras at arm's length and
#: ordinary thermal-transfer printers (300 dpi ≈ 0.085 mm a dot) lose the code.
MIN_MODULE_MM = 0.25
#: Smallest text height: about 2.5 pt, still legible under a loupe for inspectors.
MIN_FONT_MM = 0.9

PROGRAMME_MARKS = {
    "green_food": "绿色食品",
    "organic": "有机产品",
    "gi": "农产品地理标志",
}

_CJK_FONT = "STSong-Light"
if _CJK_FONT not in pdfmetrics.getRegisteredFontNames():
    pdfmetrics.registerFont(UnicodeCIDFont(_CJK_FONT))

_PT_PER_MM = 72 / 25.4
_PAGE_W_MM = A4[0] / _PT_PER_MM
_PAGE_H_MM = A4[1] / _PT_PER_MM
_PAGE_MARGIN_MM = 10.0
_FOOTER_MM = 6.0
# Kappa for drawing a circle with four Bezier curves.
_KAPPA = 0.5522847498


@dataclasses.dataclass(frozen=True, slots=True)
class LabelFormat:
    """A die-cut label shape and the space reserved for its QR (quiet zone included)."""

    name: str
    shape: Literal["round", "rect"]
    width_mm: float
    height_mm: float
    qr_box_mm: float
    gap_mm: float = 3.0


LABEL_FORMATS: dict[str, LabelFormat] = {
    f.name: f
    for f in (
        LabelFormat("round20", "round", 20, 20, qr_box_mm=11.4),
        LabelFormat("round25", "round", 25, 25, qr_box_mm=14.5),
        LabelFormat("round30", "round", 30, 30, qr_box_mm=18.0),
        LabelFormat("rect40x25", "rect", 40, 25, qr_box_mm=23.0),
        LabelFormat("rect50x30", "rect", 50, 30, qr_box_mm=28.0),
    )
}

# Text placement: (font resource, reportlab font name, is CJK).
_HELV, _HELV_BOLD, _SONG = "/F1", "/F2", "/F3"
_RL_NAMES = {_HELV: "Helvetica", _HELV_BOLD: "Helvetica-Bold", _SONG: _CJK_FONT}
# Fraction of the font size below the baseline (descenders).
_DESCENT = 0.2


def _text_width(text: str, font: str, size: float) -> float:
    return pdfmetrics.stringWidth(text, _RL_NAMES[font], size)


def _font_for(text: str) -> str:
    # Helvetica (WinAnsi) for plain ASCII; anything else goes to the CID font.
    return _HELV if text.isascii() else _SONG


def _pdf_text(text: str, font: str) -> str:
    if font == _SONG:
        try:
            return "<" + text.encode("utf-16-be").hex() + ">"
        except UnicodeEncodeError as exc:  # lone surrogates
            raise LayoutError(f"cannot print {text!r}") from exc
    if any(c < " " or c > "~" for c in text):
        raise LayoutError(f"cannot print {text!r}")
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return f"({escaped})"


def _f(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


@dataclasses.dataclass(frozen=True, slots=True)
class _Line:
    """A text slot in label-local coordinates (origin at the label centre, mm)."""

    kind: str  # "programme", "certificate", "serial", "pin"
    x_center: float
    baseline: float
    size: float
    box: tuple[float, float, float, float] | None = None  # PIN field x, y, w, h


@dataclasses.dataclass(frozen=True, slots=True)
class SheetLayout:
    """Everything about a sheet that does not change from label to label."""

    label_format: LabelFormat
    version: int
    module_mm: float
    columns: int
    rows: int
    origin: tuple[float, float]  # centre of the top-left label, mm from bottom-left
    qr_top_left: tuple[float, float]  # label-local, mm
    lines: tuple[_Line, ...]
    programme: str
    certificate_number: str
    pins: bool

    @property
    def labels_per_page(self) -> int:
        return self.columns * self.rows


def _fit_size(
    width_of: Callable[[float], float],
    available: Callable[[float], float],
    max_size: float,
) -> float:
    """Largest size ≤ max_size whose width fits the width available at that size."""
    if width_of(max_size) <= available(max_size):
        return max_size
    low, high = 0.0, max_size
    for _ in range(40):
        mid = (low + high) / 2
        if width_of(mid) <= available(mid):
            low = mid
        else:
            high = mid
    return low


def _pin_width(size: float) -> float:
    return _text_width("8" * 6, _HELV_BOLD, size * 0.72) + 0.8


def plan_layout(
    label_format: str | LabelFormat,
    base_url: str,
    *,
    programme: str,
    certificate_number: str,
    pins: bool = False,
) -> SheetLayout:
    """Work out a sheet layout, or raise :class:`LayoutError` if it cannot print well.

    Call this before streaming a response: every refusal (QR modules smaller
    than :data:`MIN_MODULE_MM`, text that would print smaller than
    :data:`MIN_FONT_MM`, unknown programme or format) happens here.
    """
    fmt = LABEL_FORMATS.get(label_format) if isinstance(label_format, str) else label_format
    if fmt is None:
        raise LayoutError(
            f"unknown label format {label_format!r}; choose from {sorted(LABEL_FORMATS)}"
        )
    if programme not in PROGRAMME_MARKS:
        raise LayoutError(f"unknown programme {programme!r}")
    mark = PROGRAMME_MARKS[programme]
    certificate_number = certificate_number.strip()
    if not certificate_number:
        raise LayoutError("a certificate number is required on every label")
    _pdf_text(certificate_number, _font_for(certificate_number))

    version = QRRenderer(base_url).version
    modules = version * 4 + 17 + 2 * QUIET_ZONE
    module_mm = fmt.qr_box_mm / modules
    if module_mm < MIN_MODULE_MM - 1e-9:
        raise LayoutError(
            f"{fmt.name}: a version {version} QR ({modules} modules with quiet zone) "
            f"in {fmt.qr_box_mm} mm prints {module_mm:.3f} mm modules, below the "
            f"{MIN_MODULE_MM} mm minimum; use a larger label or a shorter base URL"
        )
    serial_sample = "8" * len(str(codec.MAX_SERIAL))
    cert_font = _font_for(certificate_number)

    if fmt.shape == "round":
        lines = _plan_round(fmt, mark, certificate_number, cert_font, serial_sample, pins)
        box_half = fmt.qr_box_mm / 2
        qr_top_left = (-box_half + QUIET_ZONE * module_mm, box_half - QUIET_ZONE * module_mm)
    else:
        lines = _plan_rect(fmt, mark, certificate_number, cert_font, serial_sample, pins)
        left = -fmt.width_mm / 2 + (fmt.height_mm - fmt.qr_box_mm) / 2
        qr_top_left = (left + QUIET_ZONE * module_mm, fmt.qr_box_mm / 2 - QUIET_ZONE * module_mm)

    pitch_x, pitch_y = fmt.width_mm + fmt.gap_mm, fmt.height_mm + fmt.gap_mm
    usable_w = _PAGE_W_MM - 2 * _PAGE_MARGIN_MM
    usable_h = _PAGE_H_MM - 2 * _PAGE_MARGIN_MM - _FOOTER_MM
    columns = int((usable_w + fmt.gap_mm) // pitch_x)
    rows = int((usable_h + fmt.gap_mm) // pitch_y)
    if columns < 1 or rows < 1:
        raise LayoutError(f"{fmt.name} labels do not fit on A4")
    grid_w = columns * pitch_x - fmt.gap_mm
    grid_h = rows * pitch_y - fmt.gap_mm
    left = (_PAGE_W_MM - grid_w) / 2
    top = _PAGE_H_MM - _PAGE_MARGIN_MM - (usable_h - grid_h) / 2
    origin = (left + fmt.width_mm / 2, top - fmt.height_mm / 2)
    return SheetLayout(
        label_format=fmt,
        version=version,
        module_mm=module_mm,
        columns=columns,
        rows=rows,
        origin=origin,
        qr_top_left=qr_top_left,
        lines=tuple(lines),
        programme=programme,
        certificate_number=certificate_number,
        pins=pins,
    )


def _check_size(fmt: LabelFormat, kind: str, size: float) -> None:
    if size < MIN_FONT_MM:
        raise LayoutError(
            f"{fmt.name}: the {kind} would print {size:.2f} mm high, below "
            f"{MIN_FONT_MM} mm; use a larger label"
        )


def _plan_round(
    fmt: LabelFormat,
    mark: str,
    certificate: str,
    cert_font: str,
    serial_sample: str,
    pins: bool,
) -> list[_Line]:
    # Text sits in the two circular segments above and below the QR, each line
    # as large as the chord at its outer edge allows.
    radius = fmt.width_mm / 2 - 0.6  # keep clear of the die line
    gap = 0.15
    start = fmt.qr_box_mm / 2 + 0.1

    def chord(distance: float) -> float:
        return 2 * math.sqrt(max(radius**2 - distance**2, 0.0))

    def stack(
        items: list[tuple[str, Callable[[float], float], float]], sign: int
    ) -> list[_Line]:
        placed, near = [], start
        for kind, width_of, max_size in items:
            inner = near
            size = _fit_size(width_of, lambda s, d=inner: chord(d + s), max_size)
            _check_size(fmt, kind, size)
            low_edge = near if sign > 0 else -(near + size)
            box = None
            if kind == "pin":
                w = width_of(size)
                box = (-w / 2, low_edge, w, size)
                baseline = low_edge + size * 0.22
            else:
                baseline = low_edge + size * _DESCENT
            placed.append(_Line(kind, 0.0, baseline, size, box))
            near += size + gap
        return placed

    d = fmt.width_mm
    top = stack(
        [
            ("certificate", lambda s: _text_width(certificate, cert_font, s), 0.07 * d),
            ("programme", lambda s: _text_width(mark, _SONG, s), 0.09 * d),
        ],
        +1,
    )
    bottom_items: list[tuple[str, Callable[[float], float], float]] = [
        ("serial", lambda s: _text_width(serial_sample, _HELV_BOLD, s), 0.075 * d)
    ]
    if pins:
        bottom_items.append(("pin", _pin_width, 0.08 * d))
    return top + stack(bottom_items, -1)


def _plan_rect(
    fmt: LabelFormat,
    mark: str,
    certificate: str,
    cert_font: str,
    serial_sample: str,
    pins: bool,
) -> list[_Line]:
    # Text column to the right of the QR, lines from the top down.
    margin = (fmt.height_mm - fmt.qr_box_mm) / 2
    x0 = -fmt.width_mm / 2 + margin + fmt.qr_box_mm + 0.3
    x1 = fmt.width_mm / 2 - 1.0
    width = x1 - x0
    items: list[tuple[str, Callable[[float], float], float]] = [
        ("programme", lambda s: _text_width(mark, _SONG, s), 0.12 * fmt.height_mm),
        ("certificate", lambda s: _text_width(certificate, cert_font, s), 0.08 * fmt.height_mm),
        ("serial", lambda s: _text_width(serial_sample, _HELV_BOLD, s), 0.08 * fmt.height_mm),
    ]
    if pins:
        items.append(("pin", _pin_width, 0.12 * fmt.height_mm))
    sizes = []
    for kind, width_of, max_size in items:
        size = _fit_size(width_of, lambda s: width, max_size)
        _check_size(fmt, kind, size)
        sizes.append(size)
    gap = 0.8
    total = sum(sizes) + gap * (len(sizes) - 1)
    available = fmt.qr_box_mm - 2 * QUIET_ZONE * 0.2
    if total > available:
        raise LayoutError(f"{fmt.name}: label text does not fit beside the QR")
    centre_x = (x0 + x1) / 2
    y = total / 2
    lines = []
    for (kind, width_of, _max), size in zip(items, sizes, strict=True):
        low = y - size
        box = None
        if kind == "pin":
            w = width_of(size)
            box = (centre_x - w / 2, low, w, size)
            baseline = low + size * 0.22
        else:
            baseline = low + size * _DESCENT
        lines.append(_Line(kind, centre_x, baseline, size, box))
        y = low - gap
    return lines


def _centred_text(text: str, font: str, size: float, x_center: float, baseline: float) -> str:
    x = x_center - _text_width(text, font, size) / 2
    return f"BT {font} {_f(size)} Tf {_f(x)} {_f(baseline)} Td {_pdf_text(text, font)} Tj ET\n"


def _circle(radius: float) -> str:
    k = radius * _KAPPA
    r = radius
    return (
        f"{_f(r)} 0 m {_f(r)} {_f(k)} {_f(k)} {_f(r)} 0 {_f(r)} c "
        f"{_f(-k)} {_f(r)} {_f(-r)} {_f(k)} {_f(-r)} 0 c "
        f"{_f(-r)} {_f(-k)} {_f(-k)} {_f(-r)} 0 {_f(-r)} c "
        f"{_f(k)} {_f(-r)} {_f(r)} {_f(-k)} {_f(r)} 0 c S\n"
    )


def _static_block(layout: SheetLayout) -> str:
    """Drawing shared by every label of a run, in label-local coordinates."""
    fmt = layout.label_format
    # Cut guide: a hairline on the die line, light grey so a slight
    # misregistration does not leave a dark edge on the finished label.
    parts = ["0.6 G 0.07 w "]
    if fmt.shape == "round":
        parts.append(_circle(fmt.width_mm / 2))
    else:
        parts.append(
            f"{_f(-fmt.width_mm / 2)} {_f(-fmt.height_mm / 2)} "
            f"{_f(fmt.width_mm)} {_f(fmt.height_mm)} re S\n"
        )
    parts.append("0 g 0 G\n")
    for line in layout.lines:
        if line.kind == "programme":
            mark = PROGRAMME_MARKS[layout.programme]
            parts.append(_centred_text(mark, _SONG, line.size, line.x_center, line.baseline))
        elif line.kind == "certificate":
            cert = layout.certificate_number
            parts.append(
                _centred_text(cert, _font_for(cert), line.size, line.x_center, line.baseline)
            )
        elif line.kind == "pin" and line.box is not None:
            x, y, w, h = line.box
            # Dashed outline marks where the scratch-off coating goes.
            parts.append(
                f"[0.4 0.25] 0 d 0.08 w {_f(x)} {_f(y)} {_f(w)} {_f(h)} re S [] 0 d\n"
            )
    return "".join(parts)


def _qr_ops(matrix: object, layout: SheetLayout) -> str:
    # One path for the whole symbol, in module units: integer coordinates keep
    # the content stream short and formatting cheap.
    m = layout.module_mm
    x, y = layout.qr_top_left
    rects = " ".join(f"{rx} {ry} {w} 1 re" for rx, ry, w in dark_runs(matrix))  # type: ignore[arg-type]
    return f"q {_f(m)} 0 0 {_f(-m)} {_f(x)} {_f(y)} cm {rects} f Q\n"


def _label_ops(label: Label, layout: SheetLayout, renderer: QRRenderer, static: str) -> str:
    parts = [static, _qr_ops(renderer.matrix(label.url), layout)]
    for line in layout.lines:
        if line.kind == "serial":
            parts.append(
                _centred_text(str(label.serial), _HELV_BOLD, line.size, line.x_center, line.baseline)
            )
        elif line.kind == "pin":
            if label.pin is None:
                raise ValueError(f"label {label.serial} has no PIN but the sheet prints PINs")
            parts.append(
                _centred_text(
                    label.pin, _HELV_BOLD, line.size * 0.72, line.x_center, line.baseline
                )
            )
    return "".join(parts)


_FONT_OBJECTS = {
    3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    4: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
    5: b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
    b"/DescendantFonts [6 0 R] >>",
    6: b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
    b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 0 >> "
    b"/FontDescriptor 7 0 R /DW 1000 >>",
    7: b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 "
    b"/FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 752 /Descent -271 "
    b"/CapHeight 737 /StemV 58 >>",
    8: b"<< /Font << /F1 3 0 R /F2 4 0 R /F3 5 0 R >> /ProcSet [/PDF /Text] >>",
}
_FIRST_PAGE_OBJECT = 9


class _PdfStream:
    """Writes numbered objects in order and remembers only their offsets."""

    def __init__(self) -> None:
        self.position = 0
        self.offsets: dict[int, int] = {}
        self.page_offsets = array.array("Q")  # content, page, content, page, ...

    def emit(self, data: bytes) -> bytes:
        self.position += len(data)
        return data

    def obj(self, number: int, body: bytes) -> bytes:
        if number >= _FIRST_PAGE_OBJECT:
            self.page_offsets.append(self.position)
        else:
            self.offsets[number] = self.position
        return self.emit(b"%d 0 obj\n%s\nendobj\n" % (number, body))

    def stream_obj(self, number: int, content: bytes) -> bytes:
        data = zlib.compress(content, 6)
        head = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data)
        return self.obj(number, head + data + b"\nendstream")


def iter_sheet_pdf(
    labels: Iterable[Label],
    *,
    base_url: str,
    label_format: str | LabelFormat,
    programme: str,
    certificate_number: str,
    pins: bool = False,
    layout: SheetLayout | None = None,
) -> Iterator[bytes]:
    """Stream a PDF of label sheets as byte chunks, one chunk per page (plus head and tail).

    ``labels`` is consumed lazily; memory stays flat however long it is. The
    layout is checked before this returns, so a :class:`LayoutError` is raised
    here rather than halfway through a streamed response.
    """
    if layout is None:
        layout = plan_layout(
            label_format,
            base_url,
            programme=programme,
            certificate_number=certificate_number,
            pins=pins,
        )
    renderer = QRRenderer(base_url, version=layout.version)
    return _generate(labels, layout, renderer)


def _generate(labels: Iterable[Label], layout: SheetLayout, renderer: QRRenderer) -> Iterator[bytes]:
    pdf = _PdfStream()
    # The binary comment line tells transfer tools the file is not text.
    yield pdf.emit(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    yield pdf.obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    for number, body in _FONT_OBJECTS.items():
        yield pdf.obj(number, body)

    static = _static_block(layout)
    scale = f"{_f(_PT_PER_MM)} 0 0 {_f(_PT_PER_MM)} 0 0 cm\n"
    per_page = layout.labels_per_page
    page_w, page_h = A4
    page_no = 0
    iterator = iter(labels)
    exhausted = False
    while not exhausted:
        parts = [scale]
        first = last = None
        for slot in range(per_page):
            label = next(iterator, None)
            if label is None:
                exhausted = True
                break
            first = label.serial if first is None else first
            last = label.serial
            row, column = divmod(slot, layout.columns)
            cx = layout.origin[0] + column * (layout.label_format.width_mm + layout.label_format.gap_mm)
            cy = layout.origin[1] - row * (layout.label_format.height_mm + layout.label_format.gap_mm)
            parts.append(f"q 1 0 0 1 {_f(cx)} {_f(cy)} cm\n")
            parts.append(_label_ops(label, layout, renderer, static))
            parts.append("Q\n")
        if first is None and page_no > 0:
            break
        page_no += 1
        footer = f"{layout.certificate_number}  {first}-{last}  page {page_no}" if first else "no labels"
        parts.append(_centred_text(footer, _HELV, 2.5, _PAGE_W_MM / 2, _PAGE_MARGIN_MM / 2))
        content_no = _FIRST_PAGE_OBJECT + 2 * (page_no - 1)
        chunk = pdf.stream_obj(content_no, "".join(parts).encode("latin-1"))
        chunk += pdf.obj(
            content_no + 1,
            b"<< /Type /Page /Parent 2 0 R /Resources 8 0 R /MediaBox [0 0 %s %s] "
            b"/Contents %d 0 R >>"
            % (_f(page_w).encode(), _f(page_h).encode(), content_no),
        )
        yield chunk

    kids = b" ".join(b"%d 0 R" % (_FIRST_PAGE_OBJECT + 2 * i + 1) for i in range(page_no))
    yield pdf.obj(2, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, page_no))
    info_no = _FIRST_PAGE_OBJECT + 2 * page_no
    pdf.offsets[info_no] = pdf.position
    yield pdf.emit(b"%d 0 obj\n<< /Producer (label_gen) >>\nendobj\n" % info_no)
    xref_at = pdf.position
    entries = [b"0000000000 65535 f \n"]
    entries += [b"%010d 00000 n \n" % pdf.offsets[n] for n in range(1, _FIRST_PAGE_OBJECT)]
    entries += [b"%010d 00000 n \n" % off for off in pdf.page_offsets]
    entries.append(b"%010d 00000 n \n" % pdf.offsets[info_no])
    yield pdf.emit(
        b"xref\n0 %d\n%s" % (info_no + 1, b"".join(entries))
        + b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
        % (info_no + 1, info_no, xref_at)
    )


def write_sheet_pdf(
    out: BinaryIO,
    labels: Iterable[Label],
    *,
    base_url: str,
    label_format: str | LabelFormat,
    programme: str,
    certificate_number: str,
    pins: bool = False,
) -> int:
    """Write the PDF from :func:`iter_sheet_pdf` to a binary file; returns bytes written."""
    written = 0
    chunks = iter_sheet_pdf(
        labels,
        base_url=base_url,
        label_format=label_format,
        programme=programme,
        certificate_number=certificate_number,
        pins=pins,
    )
    for chunk in chunks:
        out.write(chunk)
        written += len(chunk)
    return written
