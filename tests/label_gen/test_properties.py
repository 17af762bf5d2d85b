"""Property tests: tampering is always caught, hostile text never crashes."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from label_gen import codec
from label_gen.exc import LabelCodeError, RevokedKey

from .conftest import T0

SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(data=st.data())
def test_every_single_character_substitution_is_rejected(ring, genuine_code, data) -> None:
    index = data.draw(st.integers(0, len(genuine_code) - 1), label="index")
    replacement = data.draw(
        st.one_of(st.sampled_from("0123456789"), st.characters()).filter(
            lambda c: c != genuine_code[index]
        ),
        label="replacement",
    )
    tampered = genuine_code[:index] + replacement + genuine_code[index + 1 :]
    try:
        ring.verify(tampered, at=T0)
    except LabelCodeError as exc:
        assert not isinstance(exc, RevokedKey)
    else:
        raise AssertionError(f"tampered code accepted: position {index} -> {replacement!r}")


def test_every_digit_substitution_exhaustively(ring, genuine_code) -> None:
    # 169 positions x 9 other digits: small enough to try them all.
    rejected = 0
    for index, original in enumerate(genuine_code):
        for digit in "0123456789":
            if digit == original:
                continue
            tampered = genuine_code[:index] + digit + genuine_code[index + 1 :]
            assert not ring.check(tampered, at=T0).ok, (index, digit)
            rejected += 1
    assert rejected == 9 * codec.CODE_DIGITS


@SETTINGS
@given(data=st.data())
def test_single_insertion_or_deletion_is_rejected(ring, genuine_code, data) -> None:
    index = data.draw(st.integers(0, len(genuine_code) - 1))
    if data.draw(st.booleans()):
        tampered = genuine_code[:index] + genuine_code[index + 1 :]
    else:
        char = data.draw(st.characters(blacklist_categories=("Zs", "Cc")))
        tampered = genuine_code[:index] + char + genuine_code[index:]
    assert not ring.check(tampered, at=T0).ok


@SETTINGS
@given(text=st.text(max_size=400))
def test_arbitrary_text_only_raises_documented_errors(ring, text) -> None:
    try:
        ring.verify(text)
    except LabelCodeError:
        pass


@SETTINGS
@given(
    digits=st.text(alphabet="0123456789", min_size=160, max_size=175),
    prefix=st.sampled_from(["", "https://gf.cn/L/", "HTTPS://GF.CN/l/", "x/"]),
)
def test_arbitrary_digit_strings_only_raise_documented_errors(ring, digits, prefix) -> None:
    # Digit strings of about the right length reach the signature check.
    try:
        ring.verify(prefix + digits)
    except LabelCodeError:
        pass


@SETTINGS
@given(payload=st.binary(min_size=71, max_size=71))
def test_arbitrary_payloads_only_raise_documented_errors(ring, payload) -> None:
    try:
        ring.verify(str(int.from_bytes(payload, "big")))
    except LabelCodeError:
        pass
