"""Bulk label streams, CSV manifests and scratch-off PINs."""

from __future__ import annotations

import csv
import io
import itertools

import pytest

from label_gen import (
    BadPin,
    KeyRing,
    KeyRingError,
    NoSigningKey,
    generate_key_record,
    iter_labels_with,
    revoke_key,
    rotate_keys,
    check_pin,
    derive_pin,
    iter_labels,
    iter_manifest,
    verify_pin,
    write_manifest,
)
from label_gen.pins import PinDeriver

from .conftest import BASE_URL, PASSPHRASE, T0

SECRET = b"pin secret"


def test_bulk_labels_verify_and_use_canonical_url(ring) -> None:
    labels = list(iter_labels(ring, 41, 50, BASE_URL, pin_secret=SECRET, at=T0))
    assert [label.serial for label in labels] == list(range(41, 51))
    for label in labels:
        assert label.url == "HTTPS://GF.CN/L/" + label.code
        assert ring.verify(label.url).serial == label.serial
        assert label.pin == derive_pin(SECRET, label.serial)


def test_bulk_is_lazy_and_reports_progress(ring) -> None:
    calls: list[tuple[int, int]] = []
    stream = iter_labels(
        ring, 1, 10**9, BASE_URL, at=T0, progress=lambda d, t: calls.append((d, t)),
        progress_every=5,
    )
    first = list(itertools.islice(stream, 12))  # a billion would not fit in memory
    assert len(first) == 12
    assert calls == [(5, 10**9), (10, 10**9)]
    done: list[tuple[int, int]] = []
    list(iter_labels(ring, 1, 7, BASE_URL, at=T0, progress=lambda d, t: done.append((d, t)), progress_every=5))
    assert done == [(5, 7), (7, 7)]


@pytest.mark.parametrize(("first", "last"), [(0, 5), (5, 4), (1, 2**40)])
def test_bulk_rejects_bad_ranges(ring, first, last) -> None:
    with pytest.raises(ValueError):
        iter_labels(ring, first, last, BASE_URL, at=T0)  # raises before iteration


def test_manifest_csv_with_and_without_pins(ring) -> None:
    labels = list(iter_labels(ring, 1, 2500, BASE_URL, pin_secret=SECRET, at=T0))
    chunks = list(iter_manifest(labels, pins=True))
    assert len(chunks) == 3  # 1000 rows a chunk: the service can stream it
    rows = list(csv.DictReader(io.StringIO("".join(chunks))))
    assert list(rows[0]) == ["serial", "url", "pin"]
    assert len(rows) == 2500
    assert rows[-1] == {"serial": "2500", "url": labels[-1].url, "pin": labels[-1].pin}

    out = io.StringIO(newline="")
    write_manifest(out, labels[:3])
    assert out.getvalue().splitlines()[0] == "serial,url"
    assert out.getvalue().splitlines()[1] == f"1,{labels[0].url}"


def test_manifest_header_only_for_no_labels() -> None:
    assert "".join(iter_manifest([])) == "serial,url\r\n"


def test_manifest_with_pins_requires_pins(ring) -> None:
    with pytest.raises(ValueError):
        list(iter_manifest(iter_labels(ring, 1, 2, BASE_URL, at=T0), pins=True))


def test_pins_are_six_digits_stable_and_checked() -> None:
    pin = derive_pin(SECRET, 12345)
    assert len(pin) == 6 and pin.isdigit()
    assert PinDeriver(SECRET)(12345) == pin
    assert check_pin(SECRET, 12345, pin)
    assert check_pin(SECRET, 12345, f" {pin}\n")
    assert not check_pin(SECRET, 12346, pin)
    assert not check_pin(b"other secret", 12345, pin)
    assert not check_pin(SECRET, 12345, "１２３４５６")  # full-width digits
    verify_pin(SECRET, 12345, pin)
    with pytest.raises(BadPin):
        verify_pin(SECRET, 12345, "000000" if pin != "000000" else "111111")


def test_pins_look_uniform() -> None:
    # Leading digit of 20,000 PINs: each of 10 values near 2,000 (a crude bias check
    # that would catch, say, taking one byte mod 10**6).
    derive = PinDeriver(SECRET)
    counts = [0] * 10
    for serial in range(20_000):
        counts[int(derive(serial)[0])] += 1
    assert all(1700 < c < 2300 for c in counts), counts


def test_pin_secret_must_not_be_empty() -> None:
    with pytest.raises(ValueError):
        derive_pin(b"", 1)


def test_signer_for_reprints_identical_codes_under_a_retired_key() -> None:
    first = generate_key_record(PASSPHRASE, now=T0)
    issued = [label.code for label in iter_labels(KeyRing([first], PASSPHRASE), 1, 5, BASE_URL, at=T0)]
    _new, records = rotate_keys([first], PASSPHRASE, now=T0)
    ring = KeyRing(records, PASSPHRASE)
    reprinted = [label.code for label in iter_labels_with(ring.signer_for(first.key_id), 1, 5, BASE_URL)]
    assert reprinted == issued
    revoked = KeyRing([revoke_key(first, at=T0)], PASSPHRASE)
    with pytest.raises(NoSigningKey):
        revoked.signer_for(first.key_id)
    with pytest.raises(KeyRingError):
        ring.signer_for(99)


def test_key_and_pin_problems_raise_before_the_first_label() -> None:
    verify_only = KeyRing([generate_key_record(PASSPHRASE, now=T0)])
    with pytest.raises(NoSigningKey):
        iter_labels(verify_only, 1, 5, BASE_URL, at=T0)
    ring = KeyRing([generate_key_record(PASSPHRASE, now=T0)], PASSPHRASE)
    with pytest.raises(ValueError):
        iter_labels(ring, 1, 5, BASE_URL, pin_secret=b"", at=T0)
