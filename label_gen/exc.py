"""Exceptions raised by label_gen.

Modelled on itsdangerous: one family, and each exception carries whatever was
parsed before the check failed, so a caller (the verification service) can log
or classify a rejected scan without parsing it again.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from label_gen.keys import VerifiedLabel


class LabelGenError(Exception):
    """Root of every exception this library raises on purpose."""


class LabelCodeError(LabelGenError):
    """A scanned text is not a valid label code.

    Attributes are ``None`` when the check failed before that part was read.
    """

    def __init__(
        self,
        message: str,
        *,
        text: str | None = None,
        version: int | None = None,
        key_id: int | None = None,
        serial: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.text = text
        self.version = version
        self.key_id = key_id
        self.serial = serial


class MalformedCode(LabelCodeError):
    """The text is not a label code of this system (wrong shape, length or version)."""


class UnknownKey(LabelCodeError):
    """The code is well formed but names a key id the key ring does not hold."""


class BadSignature(LabelCodeError):
    """The signature does not match the version, key id and serial it claims."""


class RevokedKey(LabelCodeError):
    """The signature is valid, but under a key revoked before the verification time.

    ``label`` is the fully verified label and ``revoked_at`` the revocation time,
    so the caller can decide whether a batch issued before the revocation
    accounts for this serial (a leaked key can sign anything after the leak).
    """

    def __init__(
        self,
        message: str,
        *,
        label: VerifiedLabel,
        revoked_at: _dt.datetime,
        text: str | None = None,
    ) -> None:
        super().__init__(
            message,
            text=text,
            version=label.version,
            key_id=label.key_id,
            serial=label.serial,
        )
        self.label = label
        self.revoked_at = revoked_at


class KeyRingError(LabelGenError):
    """A key ring cannot do what was asked (no usable signing key, bad records)."""

    def __init__(self, message: str, *, key_id: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.key_id = key_id


class BadPassphrase(KeyRingError):
    """The passphrase does not decrypt a stored private key."""


class NoSigningKey(KeyRingError):
    """No active key is valid at the requested time, or no passphrase was given."""


class LayoutError(LabelGenError):
    """A print layout cannot be produced as asked (for example QR modules too small)."""


class BadPin(LabelGenError):
    """A scratch-off PIN does not match the serial."""

    def __init__(self, message: str, *, serial: int) -> None:
        super().__init__(message)
        self.serial = serial


class BundleError(LabelGenError):
    """An offline status bundle cannot be used (see :mod:`label_gen.offline`)."""

    def __init__(self, message: str, *, key_id: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.key_id = key_id


class MalformedBundle(BundleError):
    """The bytes are not an offline bundle of a version this library reads."""


class BundleSignatureError(BundleError):
    """The bundle's signature fails, or its signing key is not trusted (unknown or revoked)."""


class BundleExpired(BundleError):
    """The bundle is genuine but past its ``expires_at``: fetch a fresh one."""

    def __init__(self, message: str, *, generated_at: _dt.datetime, expires_at: _dt.datetime) -> None:
        super().__init__(message)
        self.generated_at = generated_at
        self.expires_at = expires_at
