"""Golden vectors: fixed key + serials -> exact codes, URLs and PINs.

``vectors/label-codes-v1.json`` is published for other implementations. If this
test fails, the wire format changed: that needs a new code version, not a new
vectors file. (Regenerate only for additions: ``python -m tests.label_gen.test_vectors``.)
"""

from __future__ import annotations

import datetime as dt
import json
import pathlib
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from label_gen import KeyRecord, KeyRing, KeyStatus, Signer, codec, derive_pin, label_url
from label_gen import exc as label_exc

VECTORS = pathlib.Path(__file__).parent / "vectors" / "label-codes-v1.json"
# The RFC 8032 section 7.1 "TEST 1" secret key, so anyone can cross-check the key.
SEED_HEX = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
KEY_ID = 7
BASE_URL = "https://gf.cn/L/"
SERIALS = [1, 2, 255, 256, 65_535, 123_456_789, 2**32, codec.MAX_SERIAL]
PIN_SECRET_HEX = "000102030405060708090a0b0c0d0e0f"


def _key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(SEED_HEX))


def _ring() -> KeyRing:
    key = _key()
    record = KeyRecord(
        key_id=KEY_ID,
        public_key=key.public_key().public_bytes_raw(),
        status=KeyStatus.ACTIVE,
        valid_from=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc),
        created_at=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc),
    )
    return KeyRing([record])  # verify-only: no encrypted private key needed


def build_vectors() -> dict[str, Any]:
    ring = _ring()
    signer = Signer(KEY_ID, _key())
    valid = []
    for serial in SERIALS:
        code = signer.sign(serial)
        parsed = codec.parse(code)
        valid.append(
            {
                "serial": serial,
                "key_id": KEY_ID,
                "message_hex": parsed.message.hex(),
                "signature_hex": parsed.signature.hex(),
                "payload_hex": (parsed.header + parsed.signature).hex(),
                "code": code,
                "url": label_url(BASE_URL, code),
            }
        )
    good = valid[0]["code"]
    sig = bytes.fromhex(valid[0]["signature_hex"])
    invalid = [
        {"text": good[:-1] + str((int(good[-1]) + 1) % 10), "error": "BadSignature",
         "why": "last digit changed"},
        {"text": codec.encode_code(8, 1, sig), "error": "UnknownKey", "why": "key id 8 not in the set"},
        {"text": codec.encode_code(KEY_ID, 2, sig), "error": "BadSignature",
         "why": "serial 1's signature on serial 2"},
        {"text": "0" + good, "error": "MalformedCode", "why": "leading zero: not canonical"},
        {"text": str(int.from_bytes(bytes([2, KEY_ID, 0, 0, 0, 0, 1]) + sig, "big")),
         "error": "MalformedCode", "why": "format version 2 unknown"},
        {"text": good[:100], "error": "MalformedCode", "why": "too short"},
    ]
    accepted_forms = [
        f"https://gf.cn/l/{good}", f"  {good}/\n", f"gf.cn/L/{good}", f"HTTP://GF.CN/L/{good}",
    ]
    pin_secret = bytes.fromhex(PIN_SECRET_HEX)
    return {
        "format": "label-code v1",
        "signing_domain_hex": codec.SIGNING_DOMAIN.hex(),
        "ed25519_seed_hex": SEED_HEX,
        "public_key_hex": ring.get_record(KEY_ID).public_key.hex(),
        "key_id": KEY_ID,
        "base_url": BASE_URL,
        "valid": valid,
        "accepted_text_forms_of_first_code": accepted_forms,
        "invalid": invalid,
        "pins": {
            "secret_hex": PIN_SECRET_HEX,
            "digits": 6,
            "vectors": [{"serial": s, "pin": derive_pin(pin_secret, s)} for s in SERIALS],
        },
    }


def test_golden_vectors_match_published_file() -> None:
    published = json.loads(VECTORS.read_text(encoding="utf-8"))
    assert build_vectors() == published


def test_published_public_key_is_rfc8032_test_1() -> None:
    published = json.loads(VECTORS.read_text(encoding="utf-8"))
    assert published["public_key_hex"] == (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    )


def test_published_vectors_verify_and_fail_as_documented() -> None:
    published = json.loads(VECTORS.read_text(encoding="utf-8"))
    ring = _ring()
    for vector in published["valid"]:
        label = ring.verify(vector["url"])
        assert (label.serial, label.key_id) == (vector["serial"], vector["key_id"])
    for text in published["accepted_text_forms_of_first_code"]:
        assert ring.verify(text).serial == 1
    for vector in published["invalid"]:
        with pytest.raises(getattr(label_exc, vector["error"])):
            ring.verify(vector["text"])


if __name__ == "__main__":
    VECTORS.write_text(json.dumps(build_vectors(), indent=2) + "\n", encoding="utf-8")


def test_a_malleated_signature_is_refused() -> None:
    """S + L verifies under a lax check; a strict verifier refuses it, so a label has one code."""
    ring = _ring()
    good = Signer(KEY_ID, _key()).sign(12345)
    parsed = codec.parse(good)
    order = 2**252 + 27742317777372353535851937790883648493  # the group order L
    s = int.from_bytes(parsed.signature[32:], "little") + order
    assert s < 2**256
    forged = codec.encode_code(KEY_ID, 12345, parsed.signature[:32] + s.to_bytes(32, "little"))
    assert ring.verify(good).serial == 12345
    with pytest.raises(label_exc.BadSignature):
        ring.verify(forged)
