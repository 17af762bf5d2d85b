"""Key records, passphrases, rotation, revocation and the public key set."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from label_gen import (
    BadPassphrase,
    KeyRecord,
    KeyRing,
    KeyStatus,
    NoSigningKey,
    RevokedKey,
    UnknownKey,
    generate_key_record,
    public_key_set,
    records_from_public_key_set,
    retire_key,
    revoke_key,
    rotate_keys,
)
from label_gen.exc import KeyRingError, LabelCodeError
from label_gen.keys import next_key_id

from .conftest import PASSPHRASE, T0

DAY = dt.timedelta(days=1)


def test_record_round_trips_through_json(record) -> None:
    data = json.loads(json.dumps(record.to_dict()))
    assert KeyRecord.from_dict(data) == record
    assert data["encrypted_private_key"].startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")


def test_repr_and_public_set_leak_no_private_material(record) -> None:
    secret = record.encrypted_private_key.decode()
    body = secret.splitlines()[1]
    assert body not in repr(record)
    published = json.dumps(public_key_set([record]))
    assert body not in published
    assert "PRIVATE" not in published
    (entry,) = public_key_set([record])["keys"]
    assert entry == {
        "kid": "1",
        "alg": "Ed25519",
        "public_key": record.to_dict()["public_key"],
        "status": "active",
        "valid_from": T0.isoformat(),
        "valid_to": None,
        "revoked_at": None,
    }


def test_wrong_passphrase_fails_clearly(record) -> None:
    ring = KeyRing([record], "not the passphrase")
    with pytest.raises(BadPassphrase) as info:
        ring.sign(1, at=T0)
    assert info.value.key_id == 1
    assert "passphrase" in str(info.value)


def test_signing_needs_passphrase_but_verifying_does_not(record, genuine_code) -> None:
    verify_only = KeyRing([record])
    assert verify_only.verify(genuine_code).serial == 123_456_789
    with pytest.raises(NoSigningKey):
        verify_only.sign(1, at=T0)


def test_ring_from_public_key_set_verifies(record, genuine_code) -> None:
    published = json.loads(json.dumps(public_key_set([record])))
    ring = KeyRing(records_from_public_key_set(published))
    assert ring.verify(genuine_code).key_id == 1


def test_next_key_id_never_reuses() -> None:
    assert next_key_id([]) == 1
    assert next_key_id([1, 2, 5]) == 6
    with pytest.raises(KeyRingError):
        next_key_id([255])


def test_rotation_old_labels_still_verify() -> None:
    first = generate_key_record(PASSPHRASE, now=T0)
    ring = KeyRing([first], PASSPHRASE)
    old_code = ring.sign(10, at=T0)

    new, records = rotate_keys([first], PASSPHRASE, now=T0 + DAY)
    assert new.key_id == 2
    assert {r.key_id: r.status for r in records} == {1: KeyStatus.RETIRED, 2: KeyStatus.ACTIVE}
    rotated = KeyRing(records, PASSPHRASE)
    new_code = rotated.sign(11, at=T0 + 2 * DAY)
    assert rotated.verify(old_code).key_status is KeyStatus.RETIRED
    assert rotated.verify(new_code).key_id == 2
    # A retired key signs nothing new.
    with pytest.raises(NoSigningKey):
        KeyRing([records[0]], PASSPHRASE).sign(12, at=T0 + 2 * DAY)


def test_revoked_key_raises_revoked_with_details() -> None:
    record = generate_key_record(PASSPHRASE, now=T0)
    code = KeyRing([record], PASSPHRASE).sign(42, at=T0)
    revoked_at = T0 + 10 * DAY
    ring = KeyRing([revoke_key(record, at=revoked_at)])
    with pytest.raises(RevokedKey) as info:
        ring.verify(code, at=revoked_at + DAY)
    err = info.value
    assert isinstance(err, LabelCodeError)
    assert (err.serial, err.key_id, err.revoked_at) == (42, record.key_id, revoked_at)
    assert err.label.serial == 42
    # Before the revocation time the same code was fine.
    assert ring.verify(code, at=revoked_at - DAY).serial == 42
    # A revoked key's forged code is still a bad signature, not "revoked".
    tampered = code[:-1] + ("1" if code[-1] != "1" else "2")
    with pytest.raises(LabelCodeError) as info2:
        ring.verify(tampered, at=revoked_at + DAY)
    assert not isinstance(info2.value, RevokedKey)


def test_status_changes_return_new_records(record) -> None:
    retired = retire_key(record)
    assert record.status is KeyStatus.ACTIVE and retired.status is KeyStatus.RETIRED
    revoked = revoke_key(retired, at=T0 + DAY)
    assert revoked.revoked_at == T0 + DAY
    with pytest.raises(KeyRingError):
        revoke_key(revoked)
    with pytest.raises(KeyRingError):
        retire_key(revoked)
    with pytest.raises(ValueError):
        dataclasses.replace(record, status=KeyStatus.REVOKED)  # revoked_at missing


def test_validity_window_picks_signing_key() -> None:
    early = generate_key_record(PASSPHRASE, now=T0, valid_to=T0 + 30 * DAY)
    late = generate_key_record(PASSPHRASE, [early.key_id], now=T0, valid_from=T0 + 30 * DAY)
    ring = KeyRing([early, late], PASSPHRASE)
    assert ring.signer(at=T0 + DAY).key_id == early.key_id
    assert ring.signer(at=T0 + 31 * DAY).key_id == late.key_id
    with pytest.raises(NoSigningKey):
        ring.signer(at=T0 - DAY)
    with pytest.raises(NoSigningKey):
        KeyRing([early], PASSPHRASE).signer(at=T0 + 31 * DAY)


def test_duplicate_key_ids_are_refused(record) -> None:
    with pytest.raises(KeyRingError):
        KeyRing([record, record])


def test_check_is_the_non_raising_twin(ring, genuine_code) -> None:
    good = ring.check(genuine_code)
    assert good.ok and good.label is not None and good.error is None
    bad = ring.check("nonsense")
    assert not bad.ok and bad.label is None
    unknown = KeyRing([]).check(genuine_code)
    assert isinstance(unknown.error, UnknownKey)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        generate_key_record(PASSPHRASE, now=dt.datetime(2025, 1, 1))
