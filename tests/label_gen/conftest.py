"""Fixtures for the label_gen unit tests: fixed times, keys and rings."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from label_gen import KeyRecord, KeyRing, generate_key_record

PASSPHRASE = "correct horse battery staple"
BASE_URL = "https://gf.cn/L/"
LONG_BASE_URL = "https://labels1.example.org/L/"  # 30 characters
T0 = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)


def seeded_private_key(label: bytes) -> Ed25519PrivateKey:
    """A deterministic Ed25519 key, so signatures (and codes) are reproducible."""
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(label).digest())


@pytest.fixture(scope="session")
def record() -> KeyRecord:
    return generate_key_record(
        PASSPHRASE, now=T0, private_key=seeded_private_key(b"test key 1")
    )


@pytest.fixture(scope="session")
def ring(record: KeyRecord) -> KeyRing:
    return KeyRing([record], PASSPHRASE)


@pytest.fixture(scope="session")
def genuine_code(ring: KeyRing) -> str:
    return ring.sign(123_456_789, at=T0)
