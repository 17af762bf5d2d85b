"""Scratch-off PINs derived from a server secret, never printed in the QR.

``pin = int(HMAC-SHA256(secret, PIN_DOMAIN + serial)[:8]) mod 10**digits``.

Reducing a 64-bit value modulo 10**6 favours some residues by at most one part
in 2**64 / 10**6 (about 1.8e13), far below anything an attacker guessing PINs
could notice, so no rejection sampling is needed. Deriving instead of storing
means the service keeps one secret, not a PIN per label.
"""

from __future__ import annotations

import hashlib
import hmac

from label_gen.exc import BadPin

PIN_DOMAIN = b"label-pin/v1\x00"
DEFAULT_PIN_DIGITS = 6


def derive_pin(secret: bytes, serial: int, digits: int = DEFAULT_PIN_DIGITS) -> str:
    """Return the zero-padded decimal PIN for ``serial``."""
    if not secret:
        raise ValueError("a PIN secret must not be empty")
    if not 4 <= digits <= 12:
        raise ValueError("PINs have 4 to 12 digits")
    if serial < 0:
        raise ValueError("serial must not be negative")
    mac = hmac.new(secret, PIN_DOMAIN + serial.to_bytes(8, "big"), hashlib.sha256)
    value = int.from_bytes(mac.digest()[:8], "big") % 10**digits
    return str(value).zfill(digits)


class PinDeriver:
    """:func:`derive_pin` with the HMAC key schedule done once, for bulk runs."""

    __slots__ = ("_mac", "_digits", "_modulus")

    def __init__(self, secret: bytes, digits: int = DEFAULT_PIN_DIGITS) -> None:
        derive_pin(secret, 0, digits)  # same validation as the function
        self._mac = hmac.new(secret, PIN_DOMAIN, hashlib.sha256)
        self._digits = digits
        self._modulus = 10**digits

    def __call__(self, serial: int) -> str:
        mac = self._mac.copy()
        mac.update(serial.to_bytes(8, "big"))
        value = int.from_bytes(mac.digest()[:8], "big") % self._modulus
        return str(value).zfill(self._digits)


def check_pin(
    secret: bytes, serial: int, pin: str, digits: int = DEFAULT_PIN_DIGITS
) -> bool:
    """True when ``pin`` belongs to ``serial``; compares in constant time."""
    expected = derive_pin(secret, serial, digits)
    # compare_digest on ASCII bytes: str input with non-ASCII would raise TypeError.
    candidate = pin.strip().encode("utf-8", "replace")
    return hmac.compare_digest(expected.encode("ascii"), candidate)


def verify_pin(
    secret: bytes, serial: int, pin: str, digits: int = DEFAULT_PIN_DIGITS
) -> None:
    """Raise :class:`BadPin` unless ``pin`` belongs to ``serial``."""
    if not check_pin(secret, serial, pin, digits):
        raise BadPin("PIN does not match", serial=serial)
