"""Code layout, scanned-text parsing and URL canonical form."""

from __future__ import annotations

import pytest

from label_gen import codec
from label_gen.exc import BadSignature, MalformedCode, UnknownKey

from .conftest import T0


def test_layout_sizes() -> None:
    assert codec.PAYLOAD_BYTES == 71
    assert codec.MAX_SERIAL == 2**40 - 1
    assert codec.CODE_DIGITS == 169
    # Every v1 payload, smallest and largest, has exactly CODE_DIGITS digits.
    low = bytes([1]) + bytes(70)
    high = bytes([1]) + b"\xff" * 70
    assert len(str(int.from_bytes(low, "big"))) == codec.CODE_DIGITS
    assert len(str(int.from_bytes(high, "big"))) == codec.CODE_DIGITS


def test_parse_returns_fields(ring, genuine_code) -> None:
    parsed = codec.parse(genuine_code)
    assert (parsed.version, parsed.key_id, parsed.serial) == (1, 1, 123_456_789)
    assert len(parsed.signature) == 64
    assert parsed.message == codec.SIGNING_DOMAIN + bytes([1, 1]) + (123_456_789).to_bytes(5, "big")
    assert codec.encode_code(1, 123_456_789, parsed.signature) == genuine_code


@pytest.mark.parametrize(
    "template",
    [
        "{c}",
        "  {c}\n",
        "{c}/",
        "https://gf.cn/L/{c}",
        "HTTPS://GF.CN/L/{c}",
        "https://gf.cn/l/{c}/",
        "http://gf.cn/L/{c}",
        "gf.cn/L/{c}",
        "/L/{c}",
        "L/{c}",
        "https://other.example:8443/some/path/{c}",
        "\t HTTPS://GF.CN/L/{c} \r\n",
    ],
)
def test_verify_accepts_what_scanners_return(ring, genuine_code, template) -> None:
    label = ring.verify(template.format(c=genuine_code), at=T0)
    assert label.serial == 123_456_789
    assert label.code == genuine_code


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "https://gf.cn/L/",
        "hello",
        "https://gf.cn/L/{c}?x=1",
        "https://gf.cn/L/{c}#frag",
        "https://gf.cn/L/{c}//",
        "https://gf .cn/L/{c}",
        "{c}0",
        "0{c}",
        "{c} {c}",
        "١٢٣",  # non-ASCII digits must not slip through int()
        "1_000",
        "x" * 5000,
    ],
)
def test_malformed_text(ring, genuine_code, text) -> None:
    with pytest.raises(MalformedCode):
        ring.verify(text.replace("{c}", genuine_code))


def test_truncated_or_extended_code_is_malformed(ring, genuine_code) -> None:
    for text in (genuine_code[:-1], genuine_code[1:], genuine_code + "7"):
        with pytest.raises(MalformedCode):
            ring.verify(text)


def test_malformed_carries_text() -> None:
    with pytest.raises(MalformedCode) as info:
        codec.parse("https://gf.cn/L/abc")
    assert info.value.text == "https://gf.cn/L/abc"
    assert info.value.serial is None


def test_non_string_is_malformed() -> None:
    with pytest.raises(MalformedCode):
        codec.parse(b"123")  # type: ignore[arg-type]


def test_wrong_version_and_serial_zero_are_malformed() -> None:
    sig = bytes(range(64))
    v2 = bytes([2, 1]) + (5).to_bytes(5, "big") + sig
    code = str(int.from_bytes(v2, "big"))
    with pytest.raises(MalformedCode) as info:
        codec.parse(code)
    assert info.value.version == 2
    zero = bytes([1, 7]) + bytes(5) + sig
    with pytest.raises(MalformedCode) as info:
        codec.parse(str(int.from_bytes(zero, "big")))
    assert info.value.key_id == 7


def test_unknown_key_and_bad_signature_carry_fields(ring, genuine_code) -> None:
    parsed = codec.parse(genuine_code)
    other_kid = codec.encode_code(9, parsed.serial, parsed.signature)
    with pytest.raises(UnknownKey) as info:
        ring.verify(other_kid)
    assert (info.value.key_id, info.value.serial) == (9, 123_456_789)
    moved = codec.encode_code(1, parsed.serial + 1, parsed.signature)
    with pytest.raises(BadSignature) as info2:
        ring.verify(moved)
    assert info2.value.serial == 123_456_790
    assert info2.value.__cause__ is not None


@pytest.mark.parametrize("serial", [0, -1, codec.MAX_SERIAL + 1])
def test_sign_rejects_out_of_range_serials(ring, serial) -> None:
    with pytest.raises(ValueError):
        ring.sign(serial, at=T0)


def test_label_url_upper_cases_alphanumeric_base() -> None:
    assert codec.label_url("https://gf.cn/L", "123") == "HTTPS://GF.CN/L/123"
    assert codec.label_url("https://gf.cn/L/", "123") == "HTTPS://GF.CN/L/123"
    # Not alphanumeric-safe even upper-cased ('_'): kept exactly as configured.
    assert codec.label_url("https://gf_x.cn/l/", "123") == "https://gf_x.cn/l/123"
