"""QR codes for label URLs: segment choice, matrices, SVG and PNG.

The URL prefix goes in an alphanumeric segment and the code in a numeric one;
that is what keeps a label QR at version 5 (see docs/label-codes.md).

For bulk runs use :class:`QRRenderer`: it fixes the symbol version and mask
once. ``qrcode`` otherwise tries every version and builds and scores all eight
masks for each symbol, which is where nearly all of its time goes.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Sequence

import qrcode
import qrcode.constants
import qrcode.util
from PIL import Image

from label_gen import codec

Matrix = Sequence[Sequence[bool]]

ERROR_CORRECTION = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}
#: ISO/IEC 18004 asks for a four-module quiet zone around the symbol.
QUIET_ZONE = 4

_TRAILING_DIGITS_RE = re.compile(r"(.*?)([0-9]+)", re.ASCII | re.DOTALL)
_DARK_RUN_RE = re.compile(rb"\x01+")


def qr_segments(text: str) -> list[qrcode.util.QRData]:
    """Split a label URL into QR segments: prefix (alphanumeric or byte) + digits.

    Text without trailing digits becomes one segment in the densest mode that fits.
    """
    match = _TRAILING_DIGITS_RE.fullmatch(text)
    if match is None:
        return [qrcode.util.QRData(text)]
    prefix, digits = match.groups()
    segments = []
    if prefix:
        mode = (
            qrcode.util.MODE_ALPHA_NUM
            if codec.is_qr_alphanumeric(prefix)
            else qrcode.util.MODE_8BIT_BYTE
        )
        segments.append(qrcode.util.QRData(prefix.encode("utf-8"), mode=mode))
    segments.append(qrcode.util.QRData(digits, mode=qrcode.util.MODE_NUMBER))
    return segments


def _build(
    text: str, version: int | None, mask: int | None, error_correction: str
) -> qrcode.QRCode:
    qr = qrcode.QRCode(
        version=version,
        error_correction=ERROR_CORRECTION[error_correction],
        mask_pattern=mask,
        border=0,
    )
    for segment in qr_segments(text):
        qr.add_data(segment)
    qr.make(fit=version is None)
    return qr


def qr_matrix(
    text: str,
    *,
    version: int | None = None,
    mask: int | None = None,
    error_correction: str = "M",
) -> list[list[bool]]:
    """The QR module matrix for ``text`` (no quiet zone), True = dark."""
    return [list(map(bool, row)) for row in _build(text, version, mask, error_correction).modules]


def qr_version(text: str, error_correction: str = "M") -> int:
    """The smallest QR version that holds ``text`` with our segmentation."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECTION[error_correction])
    for segment in qr_segments(text):
        qr.add_data(segment)
    return qr.best_fit()


def dark_runs(matrix: Matrix) -> list[tuple[int, int, int]]:
    """Horizontal runs of dark modules as ``(x, y, length)``.

    Drawing runs instead of single modules cuts the number of shapes roughly
    in half and lets SVG and PDF draw a whole symbol as one path.
    """
    runs = []
    for y, row in enumerate(matrix):
        for m in _DARK_RUN_RE.finditer(bytes(row)):
            runs.append((m.start(), y, m.end() - m.start()))
    return runs


def matrix_to_svg(
    matrix: Matrix, *, border: int = QUIET_ZONE, module_size: float = 0.5, unit: str = "mm"
) -> str:
    """An SVG document drawing the symbol as one path on a white quiet zone."""
    size = len(matrix) + 2 * border
    path = "".join(
        f"M{x + border} {y + border}h{w}v1h-{w}z" for x, y, w in dark_runs(matrix)
    )
    extent = f"{size * module_size:g}{unit}"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{extent}" height="{extent}" '
        f'viewBox="0 0 {size} {size}" shape-rendering="crispEdges">'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path fill="#000" d="{path}"/></svg>\n'
    )


def matrix_to_png(matrix: Matrix, *, border: int = QUIET_ZONE, scale: int = 8) -> bytes:
    """A 1-bit PNG of the symbol, ``scale`` pixels per module."""
    n = len(matrix)
    size = n + 2 * border
    blank = b"\xff" * size
    side = b"\xff" * border
    rows = [blank] * border
    for row in matrix:
        rows.append(side + bytes(0 if m else 255 for m in row) + side)
    rows.extend([blank] * border)
    image = Image.frombytes("L", (size, size), b"".join(rows))
    image = image.resize((size * scale, size * scale), Image.Resampling.NEAREST)
    out = io.BytesIO()
    image.convert("1").save(out, format="PNG", optimize=False)
    return out.getvalue()


def render_svg(text: str, **kwargs: object) -> str:
    """SVG for one URL, version and mask chosen automatically."""
    return matrix_to_svg(qr_matrix(text), **kwargs)  # type: ignore[arg-type]


def render_png(text: str, **kwargs: object) -> bytes:
    """PNG for one URL, version and mask chosen automatically."""
    return matrix_to_png(qr_matrix(text), **kwargs)  # type: ignore[arg-type]


def _sample_code() -> str:
    # A deterministic stand-in with the statistics of a real code (signature
    # bytes look random), used to pick the version and mask once per run.
    payload = bytes((codec.CODE_VERSION, 1)) + b"\xff" * codec.SERIAL_BYTES
    payload += hashlib.sha512(b"label-gen sample").digest()
    return str(int.from_bytes(payload, "big"))


class QRRenderer:
    """Renders many label URLs that share one base URL, fast.

    Every version 1 code has the same length, so every URL of a run needs the
    same QR version; it is computed once. The mask is fixed too (chosen once
    with qrcode's own penalty score on a representative code, unless given):
    any of the eight masks decodes, the choice only nudges scan robustness.
    """

    def __init__(
        self,
        base_url: str,
        *,
        error_correction: str = "M",
        mask: int | None = None,
        version: int | None = None,
    ) -> None:
        self.base_url = codec.qr_base_url(base_url)
        self.error_correction = error_correction
        sample_url = self.base_url + _sample_code()
        self.version = version or qr_version(sample_url, error_correction)
        if mask is None:
            probe = qrcode.QRCode(
                version=self.version, error_correction=ERROR_CORRECTION[error_correction]
            )
            for segment in qr_segments(sample_url):
                probe.add_data(segment)
            mask = probe.best_mask_pattern()
        if not 0 <= mask <= 7:
            raise ValueError("QR mask pattern is 0..7")
        self.mask: int = mask
        self._qr = qrcode.QRCode(
            version=self.version,
            error_correction=ERROR_CORRECTION[error_correction],
            mask_pattern=self.mask,
            border=0,
        )

    @property
    def modules(self) -> int:
        """Symbol width in modules, without quiet zone."""
        return self.version * 4 + 17

    def matrix(self, url: str) -> Matrix:
        """The module matrix for ``url`` (no quiet zone). Valid until the next call."""
        qr = self._qr
        qr.clear()
        for segment in qr_segments(url):
            qr.add_data(segment)
        qr.make(fit=False)
        return qr.modules  # type: ignore[return-value]

    def svg(self, url: str, **kwargs: object) -> str:
        """SVG for ``url``; keyword arguments as :func:`matrix_to_svg`."""
        return matrix_to_svg(self.matrix(url), **kwargs)  # type: ignore[arg-type]

    def png(self, url: str, **kwargs: object) -> bytes:
        """PNG for ``url``; keyword arguments as :func:`matrix_to_png`."""
        return matrix_to_png(self.matrix(url), **kwargs)  # type: ignore[arg-type]
