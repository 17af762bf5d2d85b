"""Offline status bundles: codec round trip, signature and expiry checks, verdict rules, size."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import time
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import label_gen
from label_gen import KeyRing, generate_key_record, public_key_set, revoke_key
from label_gen.offline import (
    BUNDLE_DOMAIN,
    MAGIC,
    PREFIX_BYTES,
    BatchEntry,
    BundleData,
    CertificateEntry,
    ProductEntry,
    VoidedLabel,
    decode_body,
    dump_bundle,
    encode_body,
    load_bundle,
)
from tests.label_gen.conftest import PASSPHRASE, T0, seeded_private_key

NOW = T0 + dt.timedelta(days=100)
LATER = NOW + dt.timedelta(hours=1)


@pytest.fixture(scope="module")
def keys() -> tuple[KeyRing, KeyRing]:
    """(issuer ring with two keys, key 1 revoked 10 days before NOW; a forger's ring)."""
    old = generate_key_record(PASSPHRASE, now=T0, private_key=seeded_private_key(b"offline 1"))
    new = generate_key_record(PASSPHRASE, [1], now=T0 + dt.timedelta(days=50),
                              private_key=seeded_private_key(b"offline 2"))
    issuer = KeyRing([revoke_key(old, NOW - dt.timedelta(days=10)), new], PASSPHRASE)
    forger = KeyRing([generate_key_record("x", [1], private_key=seeded_private_key(b"forger"))], "x")
    return issuer, forger


def _data(ring: KeyRing, **overrides: object) -> BundleData:
    certs = [
        CertificateEntry("LB-03-2301231001A", "green_food", "valid", dt.date(2025, 1, 1), dt.date(2027, 12, 31)),
        CertificateEntry("LB-03-2301231002A", "green_food", "suspended", dt.date(2025, 1, 1),
                         dt.date(2027, 12, 31), NOW - dt.timedelta(days=3), "抽检不合格"),
        CertificateEntry("AGI01459", "gi", "valid", dt.date(2014, 5, 1), None),
        # valid when the bundle was made, expires the next China day
        CertificateEntry("LB-03-2301231003A", "green_food", "valid", dt.date(2024, 1, 1),
                         (NOW + dt.timedelta(hours=8)).date()),
    ]
    products = [ProductEntry(11, "五常大米", 0), ProductEntry(12, "大米", 1), ProductEntry(13, "地标苹果", 2),
                ProductEntry(14, "鸡蛋", 3)]
    batches = [
        # issued under key 1 before its revocation
        BatchEntry(1, 1000, 1099, 0, 0, 1, T0 + dt.timedelta(days=1)),
        BatchEntry(2, 1100, 1199, 1, 1, 2, T0 + dt.timedelta(days=60)),
        BatchEntry(3, 1200, 1299, 2, 2, 2, T0 + dt.timedelta(days=61, microseconds=7)),
        BatchEntry(4, 5000, 5009, 0, 0, 2, T0 + dt.timedelta(days=62), NOW - dt.timedelta(days=1), "召回"),
        BatchEntry(5, 5010, 5019, 3, 3, 2, T0 + dt.timedelta(days=63)),
    ]
    data = BundleData(
        generated_at=NOW, expires_at=NOW + dt.timedelta(hours=24), keys=[
            dataclasses.replace(r, encrypted_private_key=None) for r in ring.records],
        certificates=certs, products=products, batches=batches,
        voided_labels=[VoidedLabel(1105, NOW - dt.timedelta(days=2), "被盗")], issuer="中国绿色食品发展中心",
    )
    return dataclasses.replace(data, **overrides)  # type: ignore[arg-type]


def _sign_with(ring: KeyRing, key_id: int, serial: int) -> str:
    return label_gen.Signer(key_id, ring._private_key(ring.get_record(key_id))).sign(serial)


@pytest.fixture(scope="module")
def bundle_bytes(keys: tuple[KeyRing, KeyRing]) -> bytes:
    return dump_bundle(_data(keys[0]), keys[0], NOW)


@pytest.fixture(scope="module")
def trusted(keys: tuple[KeyRing, KeyRing]) -> dict[str, object]:
    return public_key_set(keys[0].records)


def test_body_round_trip(keys: tuple[KeyRing, KeyRing]) -> None:
    data = _data(keys[0])
    decoded = decode_body(encode_body(data))
    assert decoded.generated_at == data.generated_at and decoded.expires_at == data.expires_at
    assert list(decoded.certificates) == [dataclasses.replace(c, status_since=c.status_since.replace(microsecond=0)
                                                              if c.status_since else None)
                                          for c in data.certificates]
    assert list(decoded.products) == list(data.products)
    # issue times travel in whole seconds
    assert [b.created_at for b in decoded.batches] == [b.created_at.replace(microsecond=0) for b in data.batches]
    assert [(b.id, b.first_serial, b.last_serial, b.certificate, b.product, b.key_id, b.void_reason)
            for b in decoded.batches] == [(b.id, b.first_serial, b.last_serial, b.certificate, b.product,
                                           b.key_id, b.void_reason) for b in data.batches]
    assert [(v.serial, v.reason) for v in decoded.voided_labels] == [(1105, "被盗")]
    assert [r.public_key for r in decoded.keys] == [r.public_key for r in keys[0].records]
    assert decoded.issuer == "中国绿色食品发展中心"


def test_encode_refuses_overlapping_ranges(keys: tuple[KeyRing, KeyRing]) -> None:
    data = _data(keys[0])
    bad = [*data.batches, BatchEntry(9, 1050, 1060, 0, 0, 2, NOW)]
    with pytest.raises(ValueError, match="overlapping"):
        encode_body(dataclasses.replace(data, batches=bad))


def test_wire_layout(bundle_bytes: bytes, keys: tuple[KeyRing, KeyRing]) -> None:
    assert bundle_bytes[:4] == MAGIC and bundle_bytes[4] == 1 and bundle_bytes[5] == 2  # active key 2
    public = keys[0].get_record(2).public_key
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    Ed25519PublicKey.from_public_bytes(public).verify(
        bundle_bytes[6:PREFIX_BYTES], BUNDLE_DOMAIN + bundle_bytes[:6] + bundle_bytes[PREFIX_BYTES:])
    assert zlib.decompress(bundle_bytes[PREFIX_BYTES:]).startswith(b'{"format":"offline-bundle"')


def test_verdicts(bundle_bytes: bytes, trusted: dict[str, object], keys: tuple[KeyRing, KeyRing]) -> None:
    issuer, forger = keys
    bundle = load_bundle(bundle_bytes, trusted, LATER)

    def check(code: str, at: dt.datetime = LATER) -> tuple[str, list[str]]:
        v = bundle.verify(code, at)
        return v.verdict, [r["code"] for r in v.reasons]

    v = bundle.verify("https://gf.cn/L/" + issuer.sign(1150, NOW), LATER)
    assert v.verdict == "certificate_invalid" and v.certificate and v.certificate["status"] == "suspended"
    assert v.product == {"id": 12, "name": "大米"} and "抽检不合格" in v.reasons[0]["message"]
    assert check(issuer.sign(1250, NOW)) == ("authentic", ["genuine", "certificate_valid_long_term"])
    assert check(issuer.sign(1105, NOW)) == ("label_void", ["label_voided", "certificate_suspended"])
    assert check(issuer.sign(5005, NOW)) == ("label_void", ["batch_voided", "certificate_valid"])
    # expiry applied at verification time: valid on NOW's China day, expired the next
    assert check(issuer.sign(5015, NOW)) == ("authentic", ["genuine", "certificate_valid"])
    assert check(issuer.sign(5015, NOW), NOW + dt.timedelta(hours=20))[0] == "certificate_invalid"
    # revoked key 1: its batch issued before the revocation still counts; anything else is fake
    assert check(_sign_with(issuer, 1, 1050)) == ("authentic", ["genuine", "certificate_valid"])
    assert check(_sign_with(issuer, 1, 1150)) == ("counterfeit", ["revoked_key"])
    assert check(_sign_with(issuer, 1, 999_999)) == ("counterfeit", ["revoked_key"])
    # key 2 signing a serial of key 1's batch
    assert check(issuer.sign(1050, NOW)) == ("counterfeit", ["key_mismatch"])
    assert check(issuer.sign(4000, NOW)) == ("counterfeit", ["never_issued"])
    assert check(forger.sign(1250)) == ("counterfeit", ["bad_signature"])
    unknown = KeyRing([generate_key_record("x", [41], private_key=seeded_private_key(b"k42"))], "x")
    assert check(unknown.sign(1250)) == ("counterfeit", ["unknown_key"])
    for junk in ("", "hello", "x" * 5000, "https://gf.cn/L/" + "1" * 168, "0" * 169):
        assert check(junk)[0] == "malformed"
    assert bundle.verify(None, LATER).verdict == "malformed"  # type: ignore[arg-type]


def test_tampered_bundle_is_refused(bundle_bytes: bytes, trusted: dict[str, object]) -> None:
    for position in (0, 4, 5, 10, PREFIX_BYTES + 3, len(bundle_bytes) - 1):
        tampered = bytearray(bundle_bytes)
        tampered[position] ^= 0x01
        with pytest.raises(label_gen.BundleError):
            load_bundle(bytes(tampered), trusted, LATER)
    flipped = bytearray(bundle_bytes)
    flipped[PREFIX_BYTES + 20] ^= 0x40
    with pytest.raises(label_gen.BundleSignatureError):
        load_bundle(bytes(flipped), trusted, LATER)
    with pytest.raises(label_gen.BundleSignatureError):
        load_bundle(bundle_bytes[:-1], trusted, LATER)
    with pytest.raises(label_gen.MalformedBundle):
        load_bundle(b"not a bundle", trusted, LATER)


def test_untrusted_or_revoked_signer_is_refused(bundle_bytes: bytes, keys: tuple[KeyRing, KeyRing]) -> None:
    issuer, forger = keys
    with pytest.raises(label_gen.BundleSignatureError, match="does not match"):
        load_bundle(bundle_bytes, public_key_set(forger.records), LATER)  # another key 2
    stranger = generate_key_record("x", [41], private_key=seeded_private_key(b"k42"))
    with pytest.raises(label_gen.BundleSignatureError, match="not trusted"):
        load_bundle(bundle_bytes, [stranger], LATER)
    revoked = [revoke_key(r, NOW) if r.key_id == 2 else r for r in issuer.records]
    with pytest.raises(label_gen.BundleSignatureError, match="revoked"):
        load_bundle(bundle_bytes, public_key_set(revoked), LATER)
    # a forger signing a bundle with their own key 2 cannot pass for the issuer
    forged_ring = KeyRing([generate_key_record("x", [1], now=T0, private_key=seeded_private_key(b"forger 2"))], "x")
    forged = dump_bundle(_data(issuer), forged_ring, NOW)
    with pytest.raises(label_gen.BundleSignatureError):
        load_bundle(forged, public_key_set(issuer.records), LATER)


def test_expired_bundle_is_refused(bundle_bytes: bytes, trusted: dict[str, object]) -> None:
    expires = NOW + dt.timedelta(hours=24)
    with pytest.raises(label_gen.BundleExpired) as info:
        load_bundle(bundle_bytes, trusted, expires)
    assert info.value.expires_at == expires
    bundle = load_bundle(bundle_bytes, trusted, expires - dt.timedelta(seconds=1))
    with pytest.raises(label_gen.BundleExpired):
        bundle.verify("hello", expires + dt.timedelta(minutes=1))


def test_bundle_keys_extend_and_revoke_the_trusted_set(keys: tuple[KeyRing, KeyRing]) -> None:
    issuer, _ = keys
    # the verifier's key set predates key 1's revocation; the signed bundle knows about it
    stale = [dataclasses.replace(r, status=label_gen.KeyStatus.RETIRED, revoked_at=None)
             if r.key_id == 1 else r for r in issuer.records]
    bundle = load_bundle(dump_bundle(_data(issuer), issuer, NOW), stale, LATER)
    assert bundle.verify(_sign_with(issuer, 1, 1150), LATER).verdict == "counterfeit"
    # a bundle cannot swap a trusted key for another one under the same id
    other = generate_key_record("x", [0], private_key=seeded_private_key(b"swap"))
    swapped = _data(issuer, keys=[dataclasses.replace(other, encrypted_private_key=None),
                                  *[r for r in issuer.records if r.key_id == 2]])
    with pytest.raises(label_gen.BundleSignatureError, match="differs"):
        load_bundle(dump_bundle(swapped, issuer, NOW), issuer.records, LATER)


def test_public_key_set_loader() -> None:
    with pytest.raises(label_gen.KeyRingError):
        label_gen.load_public_key_set(b"{not json")
    with pytest.raises(label_gen.KeyRingError):
        label_gen.load_public_key_set('{"keys": [{"kid": "1"}]}')


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400))
def test_arbitrary_bytes_only_raise_bundle_errors(bundle_bytes: bytes, trusted: dict[str, object],
                                                  junk: bytes) -> None:
    for candidate in (junk, MAGIC + junk, MAGIC + b"\x01\x02" + junk, bundle_bytes[:PREFIX_BYTES] + junk):
        with pytest.raises(label_gen.BundleError):
            load_bundle(candidate, trusted, LATER)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=300),
                 st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                              lambda inner: st.lists(inner, max_size=4)
                              | st.dictionaries(st.sampled_from(["format", "version", "keys", "certificates",
                                                                 "products", "batches", "voided_labels",
                                                                 "number", "id", "name", "serial"]), inner,
                                                max_size=5),
                              max_leaves=20).map(lambda v: repr(v).encode())))
def test_signed_garbage_bodies_only_raise_bundle_errors(body: bytes) -> None:
    # Even a body the issuer's key signed is parsed defensively.
    ring = KeyRing([generate_key_record(PASSPHRASE, now=T0, private_key=seeded_private_key(b"offline 1"))],
                   PASSPHRASE)
    compressed = zlib.compress(body)
    header = MAGIC + bytes((1, 1))
    signature = ring._private_key(ring.get_record(1)).sign(BUNDLE_DOMAIN + header + compressed)
    with pytest.raises(label_gen.BundleError):
        load_bundle(header + signature + compressed, ring.records, NOW)


def _large_registry(ring: KeyRing, certificates: int, batches: int) -> BundleData:
    rnd = random.Random(20260615)
    classes = ["01", "03", "15", "18", "25", "31", "36"]
    foods = ["大米", "五常大米", "小麦粉", "苹果", "鲜鸡蛋", "猪肉", "茶叶", "黄瓜", "番茄", "草鱼", "蜂蜜", "香菇"]
    brands = ["稻香", "北大荒", "田园", "山泉", "绿野", "金谷", "春晓", "丰收"]
    certs, products = [], []
    for i in range(certificates):
        programme = rnd.choices(["green_food", "organic", "gi"], [8, 2, 1])[0]
        if programme == "green_food":
            number = f"LB-{rnd.choice(classes)}-{rnd.randint(17, 26):02d}{rnd.randint(1, 12):02d}" \
                     f"{rnd.randint(1, 31):02d}{rnd.randint(0, 99999):05d}A"
        elif programme == "organic":
            number = f"{rnd.randint(100, 999)}OP{rnd.randint(20, 26):02d}{rnd.randint(0, 99999):05d}"
        else:
            number = f"AGI{rnd.randint(0, 99999):05d}"
        valid_from = dt.date(2023, 1, 1) + dt.timedelta(days=rnd.randint(0, 1200))
        status = rnd.choices(["valid", "expired", "suspended", "revoked", "cancelled"], [90, 5, 2, 2, 1])[0]
        note = (NOW - dt.timedelta(days=rnd.randint(1, 300)), "年检不合格") if status in (
            "suspended", "revoked", "cancelled") else (None, None)
        certs.append(CertificateEntry(number, programme, status, valid_from,
                                      None if programme == "gi" else valid_from + dt.timedelta(days=3 * 365),
                                      *note))
        products.append(ProductEntry(i + 1, rnd.choice(brands) + "牌" + rnd.choice(foods), i))
    batch_list, serial, created = [], 10_000_001, T0
    for i in range(batches):
        quantity = rnd.choice([500, 1000, 2000, 5000, 10_000, 20_000, rnd.randint(100, 50_000)])
        cert = rnd.randrange(certificates)
        created += dt.timedelta(seconds=rnd.randint(1, 600), microseconds=rnd.randint(0, 999_999))
        voided = (created + dt.timedelta(days=1), "召回") if rnd.random() < 0.001 else (None, None)
        batch_list.append(BatchEntry(i + 1, serial, serial + quantity - 1, cert, cert, 2, created, *voided))
        serial += quantity
    voided_labels = [VoidedLabel(rnd.randint(10_000_001, serial - 1), NOW, "被盗") for _ in range(1000)]
    return BundleData(NOW, NOW + dt.timedelta(hours=24), [dataclasses.replace(r, encrypted_private_key=None)
                                                         for r in ring.records],
                      certs, products, batch_list,
                      sorted({v.serial: v for v in voided_labels}.values(), key=lambda v: v.serial))


def test_size_for_100k_certificates_and_batches(keys: tuple[KeyRing, KeyRing], trusted: dict[str, object]) -> None:
    """docs/offline-bundle.md quotes these figures: keep them in step."""
    data = _large_registry(keys[0], 100_000, 100_000)
    started = time.perf_counter()
    signed = dump_bundle(data, keys[0], NOW)
    dump_seconds = time.perf_counter() - started
    started = time.perf_counter()
    bundle = load_bundle(signed, trusted, LATER)
    load_seconds = time.perf_counter() - started
    raw = len(encode_body(data))
    print(f"\noffline bundle, 100,000 certificates + products, 100,000 batches, 1,000 voided labels: "
          f"{len(signed):,} bytes signed and compressed ({raw:,} bytes of JSON); "
          f"dump {dump_seconds:.2f}s, load {load_seconds:.2f}s")
    assert len(signed) < 4 * 1024 * 1024
    last = data.batches[-1]
    v = bundle.verify(keys[0].sign(last.last_serial, NOW), LATER)
    assert v.serial == last.last_serial and v.verdict != "counterfeit"


@pytest.mark.parametrize("offset_us, verdict", [(-300_000, "authentic"), (-1, "authentic"), (0, "counterfeit"),
                                                (1, "counterfeit"), (300_000, "counterfeit")])
def test_issue_times_in_seconds_keep_the_revoked_key_rule(keys: tuple[KeyRing, KeyRing], offset_us: int,
                                                          verdict: str) -> None:
    issuer, _ = keys
    revoked_at = issuer.get_record(1).revoked_at
    assert revoked_at is not None
    revoked_at = revoked_at + dt.timedelta(microseconds=500_000)  # mid-second
    ring = KeyRing([dataclasses.replace(r, revoked_at=revoked_at) if r.key_id == 1 else r
                    for r in issuer.records], PASSPHRASE)
    data = _data(ring)
    batches = [dataclasses.replace(b, created_at=revoked_at + dt.timedelta(microseconds=offset_us))
               if b.id == 1 else b for b in data.batches]
    bundle = load_bundle(dump_bundle(dataclasses.replace(data, batches=batches), ring, NOW),
                         ring.records, LATER)
    assert bundle.verify(_sign_with(ring, 1, 1050), LATER).verdict == verdict
