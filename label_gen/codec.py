"""Compact signed label codes: byte layout, decimal form and scanned-text parsing.

Layout of a version 1 code (71 bytes, big-endian)::

    offset  size  field
    0       1     format version (1)
    1       1     key id (0-255)
    2       5     serial (1 .. MAX_SERIAL)
    7       64    Ed25519 signature over SIGNING_DOMAIN + bytes 0..6

The 71 bytes are read as one unsigned integer and written in decimal. Decimal
digits let the QR code use numeric mode (3.33 bits per digit, against 8 bits per
character in byte mode), which is what keeps the symbol at version 5. Because
the first byte is the version, the integer lies in [2**560, 2**561) and a
version 1 code is always exactly 169 digits with no leading zero, so every
payload has exactly one textual form.

This module knows nothing about keys; :mod:`label_gen.keys` signs and verifies.
"""

from __future__ import annotations

import dataclasses
import re

from label_gen.exc import MalformedCode

CODE_VERSION = 1
#: Largest serial a version 1 code can carry (five bytes).
MAX_SERIAL = 2**40 - 1
MAX_KEY_ID = 255
SERIAL_BYTES = 5
SIGNATURE_BYTES = 64
HEADER_BYTES = 1 + 1 + SERIAL_BYTES
PAYLOAD_BYTES = HEADER_BYTES + SIGNATURE_BYTES
#: Prefix of every signed message. It ties a signature to this use, so a key
#: that ever signs anything else cannot be tricked into minting label codes.
SIGNING_DOMAIN = b"label-code/v1\x00"
#: Length of a version 1 code in decimal digits (see module docstring).
CODE_DIGITS = len(str(CODE_VERSION << (8 * (PAYLOAD_BYTES - 1))))

# Scanned text is capped before any regex work so hostile input stays cheap.
_MAX_TEXT_CHARS = 2048
_CODE_RE = re.compile(r"[1-9][0-9]*", re.ASCII)
# Anything before the code: optional scheme and host, then any path ending in "/".
# Whitespace, queries and fragments inside are refused: no scanner adds them.
_PREFIX_RE = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.\-]*://)?[^\s?#]*/", re.ASCII)
_QR_ALNUM_RE = re.compile(r"[0-9A-Z $%*+\-./:]*", re.ASCII)


@dataclasses.dataclass(frozen=True, slots=True)
class ParsedCode:
    """The fields of a well-formed code, before its signature is checked."""

    version: int
    key_id: int
    serial: int
    signature: bytes
    code: str

    @property
    def header(self) -> bytes:
        """The signed header bytes (version, key id, serial)."""
        return encode_header(self.key_id, self.serial, self.version)

    @property
    def message(self) -> bytes:
        """The exact bytes the signature covers."""
        return SIGNING_DOMAIN + self.header


def _check_fields(key_id: int, serial: int) -> None:
    if not 0 <= key_id <= MAX_KEY_ID:
        raise ValueError(f"key id must be 0..{MAX_KEY_ID}, got {key_id}")
    if not 1 <= serial <= MAX_SERIAL:
        raise ValueError(f"serial must be 1..{MAX_SERIAL}, got {serial}")


def encode_header(key_id: int, serial: int, version: int = CODE_VERSION) -> bytes:
    """Return the 7 header bytes for ``key_id`` and ``serial``."""
    _check_fields(key_id, serial)
    return bytes((version, key_id)) + serial.to_bytes(SERIAL_BYTES, "big")


def signing_message(key_id: int, serial: int) -> bytes:
    """Return the bytes an issuer signs for ``serial`` under ``key_id``."""
    return SIGNING_DOMAIN + encode_header(key_id, serial)


def encode_code(key_id: int, serial: int, signature: bytes) -> str:
    """Assemble the decimal code string from its fields and a signature."""
    if len(signature) != SIGNATURE_BYTES:
        raise ValueError(f"signature must be {SIGNATURE_BYTES} bytes")
    payload = encode_header(key_id, serial) + signature
    return str(int.from_bytes(payload, "big"))


def extract_code(text: str) -> str:
    """Return the code part of scanned text, or raise :class:`MalformedCode`.

    Accepts what phone cameras and scanners hand back: the full URL in any case,
    with or without scheme and host, any host and path, surrounding whitespace,
    one trailing slash, or the bare code.
    """
    if not isinstance(text, str):
        raise MalformedCode("label text must be a string")
    if len(text) > _MAX_TEXT_CHARS:
        raise MalformedCode("text is too long to be a label code", text=text[:64])
    stripped = text.strip()
    if stripped.endswith("/"):
        stripped = stripped[:-1]
    cut = stripped.rfind("/") + 1
    prefix, code = stripped[:cut], stripped[cut:]
    if prefix and not _PREFIX_RE.fullmatch(prefix):
        raise MalformedCode("text is not a label URL", text=text)
    if not _CODE_RE.fullmatch(code):
        raise MalformedCode("no label code (decimal digits) found", text=text)
    return code


def parse(text: str) -> ParsedCode:
    """Parse scanned text into its fields without checking the signature.

    Raises :class:`MalformedCode` for anything that is not a well-formed code.
    """
    code = extract_code(text)
    if len(code) != CODE_DIGITS:
        raise MalformedCode(
            f"a label code has {CODE_DIGITS} digits, got {len(code)}", text=text
        )
    payload = int(code).to_bytes(PAYLOAD_BYTES, "big")
    version, key_id = payload[0], payload[1]
    if version != CODE_VERSION:
        raise MalformedCode(
            f"unsupported code version {version}", text=text, version=version
        )
    serial = int.from_bytes(payload[2:HEADER_BYTES], "big")
    if serial == 0:
        raise MalformedCode(
            "serial 0 is never issued", text=text, version=version, key_id=key_id
        )
    return ParsedCode(
        version=version,
        key_id=key_id,
        serial=serial,
        signature=payload[HEADER_BYTES:],
        code=code,
    )


def qr_base_url(base_url: str) -> str:
    """Return the base URL as printed: with a trailing slash, upper-cased when that
    makes it fit QR alphanumeric mode.

    Upper case lets the QR encode the URL prefix in alphanumeric mode (5.5 bits
    per character instead of 8). Scheme and host are case-insensitive; the path
    is not, so the service must route the upper-cased path too (it routes
    ``/L/`` and ``/l/``). A base URL that stays outside the alphanumeric set even
    upper-cased is kept as given and costs a byte-mode segment.
    """
    base = base_url if base_url.endswith("/") else base_url + "/"
    upper = base.upper()
    return upper if _QR_ALNUM_RE.fullmatch(upper) else base


def is_qr_alphanumeric(text: str) -> bool:
    """True when ``text`` fits the QR alphanumeric character set."""
    return _QR_ALNUM_RE.fullmatch(text) is not None


def label_url(base_url: str, code: str) -> str:
    """Return the URL printed in the QR code: ``{base}/{code}``.

    This is exactly the text the QR holds (see :func:`qr_base_url`), so manifests
    and QR images always agree.
    """
    return qr_base_url(base_url) + code
