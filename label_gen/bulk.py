"""Streams of signed labels for a serial range (bulk issuance)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator

from label_gen import codec
from label_gen.keys import KeyRing, Signer
from label_gen.pins import PinDeriver


@dataclasses.dataclass(frozen=True, slots=True)
class Label:
    """One issued label: what the QR holds and, optionally, its scratch-off PIN."""

    serial: int
    code: str
    url: str
    pin: str | None = None


ProgressCallback = Callable[[int, int], None]


def iter_labels(
    ring: KeyRing,
    first_serial: int,
    last_serial: int,
    base_url: str,
    *,
    pin_secret: bytes | None = None,
    at: dt.datetime | None = None,
    progress: ProgressCallback | None = None,
    progress_every: int = 10_000,
) -> Iterator[Label]:
    """Yield signed labels for ``first_serial..last_serial`` inclusive, lazily.

    One key is chosen for the whole run (the one signing at ``at``), so a run
    never mixes keys. ``progress(done, total)`` is called every
    ``progress_every`` labels and once at the end. Key problems raise here,
    when the generator is created, not at the first label.
    """
    return iter_labels_with(
        ring.signer(at),
        first_serial,
        last_serial,
        base_url,
        pin_secret=pin_secret,
        progress=progress,
        progress_every=progress_every,
    )


def iter_labels_with(
    signer: Signer,
    first_serial: int,
    last_serial: int,
    base_url: str,
    *,
    pin_secret: bytes | None = None,
    progress: ProgressCallback | None = None,
    progress_every: int = 10_000,
) -> Iterator[Label]:
    """Like :func:`iter_labels` with a given signer (e.g. :meth:`KeyRing.signer_for`
    to reprint a batch under the key that issued it)."""
    if not 1 <= first_serial <= last_serial <= codec.MAX_SERIAL:
        raise ValueError(
            f"serial range must satisfy 1 <= first <= last <= {codec.MAX_SERIAL}"
        )
    pin_for = PinDeriver(pin_secret) if pin_secret is not None else None
    return _generate(signer, first_serial, last_serial, base_url, pin_for, progress, progress_every)


def _generate(
    signer: Signer,
    first_serial: int,
    last_serial: int,
    base_url: str,
    pin_for: PinDeriver | None,
    progress: ProgressCallback | None,
    progress_every: int,
) -> Iterator[Label]:
    sign = signer.sign
    prefix = codec.qr_base_url(base_url)
    total = last_serial - first_serial + 1
    done = 0
    for serial in range(first_serial, last_serial + 1):
        code = sign(serial)
        yield Label(serial, code, prefix + code, pin_for(serial) if pin_for else None)
        done += 1
        if progress is not None and done % progress_every == 0:
            progress(done, total)
    if progress is not None and done % progress_every != 0:
        progress(done, total)
