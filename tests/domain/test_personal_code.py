"""Tests for DOMAIN.md CASE-6: Latvian personal codes are validated on entry
(format, and checksum for the old format) and never revealed in clear text
by error messages or representations."""

from __future__ import annotations

import datetime
import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from domain.personal_code import (
    InvalidPersonalCode,
    PersonalCode,
    is_valid_personal_code,
    parse_personal_code,
)

WEIGHTS = (1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CENTURY_DIGIT = {18: "0", 19: "1", 20: "2"}


def check_value(first_ten: str) -> int:
    """Independent re-statement of the old-format checksum (10 = no valid digit)."""
    return (1101 - sum(int(d) * w for d, w in zip(first_ten, WEIGHTS, strict=False))) % 11


def old_code(
    day: int, month: int, yy: int, century_digit: str, serial: int
) -> str | None:
    """Eleven digits with a correct check digit, or None if the check value is 10."""
    first_ten = f"{day:02d}{month:02d}{yy:02d}{century_digit}{serial:03d}"
    check = check_value(first_ten)
    return None if check == 10 else first_ten + str(check)


def hyphenate(digits: str) -> str:
    return f"{digits[:6]}-{digits[6:]}"


@st.composite
def valid_old_codes(draw: st.DrawFn) -> tuple[str, datetime.date]:
    born = draw(
        st.dates(
            min_value=datetime.date(1800, 1, 1), max_value=datetime.date(2099, 12, 31)
        )
    )
    serial = draw(st.integers(min_value=0, max_value=999))
    code = old_code(
        born.day, born.month, born.year % 100, CENTURY_DIGIT[born.year // 100], serial
    )
    assume(code is not None)
    assert code is not None
    return code, born


new_codes = st.text(alphabet="0123456789", min_size=9, max_size=9).map(
    lambda rest: "32" + rest
)


def assert_code_not_revealed(digits: str, text: str) -> None:
    assert digits not in text
    assert hyphenate(digits) not in text


# --- examples -----------------------------------------------------------------


def test_case6_hand_computed_old_format_code_is_accepted() -> None:
    # 150385-1234?: born 15 March 1985 (century digit 1 -> 1900s), serial 234.
    # weighted sum = 1*1 + 5*6 + 0*3 + 3*7 + 8*9 + 5*10 + 1*5 + 2*8 + 3*4 + 4*2
    #              = 1 + 30 + 0 + 21 + 72 + 50 + 5 + 16 + 12 + 8 = 215
    # check = (1101 - 215) % 11 = 886 % 11 = 6  ->  150385-12346
    parsed = parse_personal_code("150385-12346")
    assert parsed.value == "150385-12346"
    assert parsed.birth_date == datetime.date(1985, 3, 15)
    assert parsed.is_new_format is False


def test_case6_old_format_code_without_hyphen_and_with_whitespace_is_normalised() -> (
    None
):
    parsed = parse_personal_code("  15038512346\n")
    assert parsed.value == "150385-12346"
    assert parsed == parse_personal_code("150385-12346")


def test_case6_old_format_code_with_wrong_checksum_is_rejected() -> None:
    with pytest.raises(InvalidPersonalCode, match="check digit"):
        parse_personal_code("150385-12347")
    assert not is_valid_personal_code("150385-12347")


@pytest.mark.parametrize(
    ("century_digit", "year"), [("0", 1885), ("1", 1985), ("2", 2085)]
)
def test_case6_century_digit_selects_the_birth_century(
    century_digit: str, year: int
) -> None:
    code = old_code(15, 3, 85, century_digit, 123)
    assert code is not None
    assert parse_personal_code(code).birth_date == datetime.date(year, 3, 15)


def test_case6_leap_day_is_a_real_date_only_in_leap_years() -> None:
    leap_2000 = old_code(29, 2, 0, "2", 123)  # 29 Feb 2000 exists
    not_leap_1900 = old_code(29, 2, 0, "1", 123)  # 29 Feb 1900 does not
    assert leap_2000 is not None and not_leap_1900 is not None
    assert parse_personal_code(leap_2000).birth_date == datetime.date(2000, 2, 29)
    with pytest.raises(InvalidPersonalCode, match="date"):
        parse_personal_code(not_leap_1900)


def test_case6_thirty_first_of_february_is_rejected_as_impossible_date() -> None:
    # 310299-1xxxx: 31 February 1999 does not exist, whatever the checksum says.
    code = old_code(31, 2, 99, "1", 212)
    assert code is not None
    with pytest.raises(InvalidPersonalCode, match="date"):
        parse_personal_code(code)


def test_case6_new_format_code_is_accepted_without_date_or_checksum() -> None:
    parsed = parse_personal_code("321234-56789")
    assert parsed.value == "321234-56789"
    assert parsed.birth_date is None
    assert parsed.is_new_format is True
    assert parse_personal_code("32123456789") == parsed


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "150385-1234",
        "150385-123466",
        "150385--12346",
        "15038-512346",
        "150385 12346",
        "150385\u201312346",  # en dash instead of hyphen
        "15O385-12346",  # letter O
        "32123A-56789",
        "\u0661\u0665\u0660\u0663\u0668\u0665-\u0661\u0662\u0663\u0664\u0666",  # Arabic-Indic
        "\uff11\uff15\uff10\uff13\uff18\uff15-\uff11\uff12\uff13\uff14\uff16",  # full-width
    ],
)
def test_case6_malformed_input_is_rejected_as_invalid_format(raw: str) -> None:
    with pytest.raises(InvalidPersonalCode, match="format"):
        parse_personal_code(raw)
    assert not is_valid_personal_code(raw)


def test_case6_non_text_input_is_rejected() -> None:
    with pytest.raises(InvalidPersonalCode):
        parse_personal_code(15038512346)  # type: ignore[arg-type]


def test_case6_repr_and_str_redact_the_code() -> None:
    parsed = parse_personal_code("150385-12346")
    assert repr(parsed) == "PersonalCode(<redacted>)"
    assert str(parsed) == "<redacted>"
    assert f"{parsed}" == "<redacted>"
    assert_code_not_revealed("15038512346", repr(parsed) + str(parsed))


def test_case6_masked_form_keeps_only_the_first_two_digits() -> None:
    assert parse_personal_code("321234-56789").masked() == "32****-*****"
    assert parse_personal_code("150385-12346").masked() == "15****-*****"


def test_case6_personal_code_is_immutable() -> None:
    parsed = parse_personal_code("150385-12346")
    with pytest.raises(AttributeError):
        parsed.value = "321234-56789"  # type: ignore[misc]


def test_case6_direct_construction_must_be_consistent_with_the_code() -> None:
    assert PersonalCode("150385-12346", datetime.date(1985, 3, 15), False)
    with pytest.raises(InvalidPersonalCode):
        PersonalCode("15038512346", datetime.date(1985, 3, 15), False)
    with pytest.raises(InvalidPersonalCode):
        PersonalCode("150385-12347", datetime.date(1985, 3, 15), False)
    with pytest.raises(InvalidPersonalCode):
        PersonalCode("150385-12346", datetime.date(1985, 3, 16), False)
    with pytest.raises(InvalidPersonalCode):
        PersonalCode("321234-56789", None, False)


# --- properties ---------------------------------------------------------------


@given(valid_old_codes(), st.booleans())
def test_case6_any_valid_old_format_code_parses_with_its_birth_date(
    code_and_date: tuple[str, datetime.date], with_hyphen: bool
) -> None:
    digits, born = code_and_date
    parsed = parse_personal_code(hyphenate(digits) if with_hyphen else digits)
    assert parsed.birth_date == born
    assert parsed.is_new_format is False
    assert parsed.value == hyphenate(digits)
    assert is_valid_personal_code(digits)


@given(valid_old_codes(), st.integers(min_value=0, max_value=9))
def test_case6_changing_the_check_digit_of_a_valid_old_code_makes_it_invalid(
    code_and_date: tuple[str, datetime.date], other: int
) -> None:
    digits, _ = code_and_date
    assume(str(other) != digits[10])
    tampered = digits[:10] + str(other)
    with pytest.raises(InvalidPersonalCode, match="check digit") as info:
        parse_personal_code(tampered)
    assert_code_not_revealed(tampered, str(info.value) + repr(info.value))


@given(new_codes, st.booleans())
def test_case6_any_eleven_digits_starting_with_32_parse_as_new_format(
    digits: str, with_hyphen: bool
) -> None:
    parsed = parse_personal_code(hyphenate(digits) if with_hyphen else digits)
    assert parsed.is_new_format is True
    assert parsed.birth_date is None
    assert parsed.value == hyphenate(digits)
    assert parsed.masked() == "32****-*****"


@given(
    st.text(alphabet="0123456789", max_size=20).filter(lambda s: len(s) != 11),
    st.booleans(),
)
def test_case6_digit_strings_of_the_wrong_length_are_rejected(
    digits: str, with_hyphen: bool
) -> None:
    raw = hyphenate(digits) if with_hyphen and len(digits) >= 6 else digits
    assert not is_valid_personal_code(raw)


@given(
    st.one_of(valid_old_codes().map(lambda t: t[0]), new_codes),
    st.integers(min_value=0, max_value=10),
    st.characters(
        blacklist_categories=("Nd", "Zs", "Zl", "Zp", "Cc"), blacklist_characters="-"
    ),
    st.booleans(),
)
def test_case6_codes_containing_a_non_digit_are_rejected(
    digits: str, position: int, char: str, replace: bool
) -> None:
    tail = digits[position + 1 :] if replace else digits[position:]
    raw = digits[:position] + char + tail
    assert not re.fullmatch(r"\s*[0-9]{6}-?[0-9]{5}\s*", raw)
    with pytest.raises(InvalidPersonalCode, match="format"):
        parse_personal_code(raw)


def _is_real_date(year: int, month: int, day: int) -> bool:
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return True


@given(
    st.integers(min_value=0, max_value=99),
    st.integers(min_value=0, max_value=99),
    st.integers(min_value=0, max_value=99),
    st.sampled_from(["0", "1", "2"]),
    st.integers(min_value=0, max_value=999),
)
def test_case6_old_format_codes_with_impossible_dates_are_rejected(
    day: int, month: int, yy: int, century_digit: str, serial: int
) -> None:
    assume(day != 32)  # a leading "32" is the new format, not a date
    year = {"0": 1800, "1": 1900, "2": 2000}[century_digit] + yy
    assume(not _is_real_date(year, month, day))
    code = old_code(day, month, yy, century_digit, serial)
    assume(code is not None)
    assert code is not None
    with pytest.raises(InvalidPersonalCode, match="date") as info:
        parse_personal_code(code)
    assert_code_not_revealed(code, str(info.value) + repr(info.value))


@given(valid_old_codes(), st.sampled_from("3456789"))
def test_case6_century_digits_three_to_nine_are_rejected_for_non_32_codes(
    code_and_date: tuple[str, datetime.date], century_digit: str
) -> None:
    digits, _ = code_and_date
    first_ten = digits[:6] + century_digit + digits[7:10]
    check = check_value(first_ten)
    assume(check != 10)
    code = first_ten + str(check)
    with pytest.raises(InvalidPersonalCode, match="century digit") as info:
        parse_personal_code(code)
    assert_code_not_revealed(code, str(info.value) + repr(info.value))


@given(st.text(max_size=30))
def test_case6_error_messages_never_contain_any_digit_of_the_input(raw: str) -> None:
    try:
        parsed = parse_personal_code(raw)
    except InvalidPersonalCode as exc:
        assert not re.search(r"[0-9]", str(exc))
        assert not re.search(r"[0-9]", repr(exc))
    else:
        assert_code_not_revealed(
            parsed.value.replace("-", ""), repr(parsed) + str(parsed)
        )


@given(st.one_of(valid_old_codes().map(lambda t: t[0]), new_codes))
def test_case6_repr_and_str_of_any_parsed_code_never_contain_the_code(
    digits: str,
) -> None:
    parsed = parse_personal_code(digits)
    shown = repr(parsed) + str(parsed) + f"{parsed!r}{parsed}"
    assert_code_not_revealed(digits, shown)
    assert not re.search(r"[0-9]", shown)
    assert_code_not_revealed(digits, parsed.masked())


@given(
    st.one_of(
        valid_old_codes().map(lambda t: t[0]),
        new_codes,
        st.text(alphabet="0123456789", min_size=11, max_size=11),
    )
)
def test_case6_any_invalid_eleven_digit_code_error_never_contains_the_code(
    digits: str,
) -> None:
    # Mutate the last digit so some are valid, some invalid; check whichever.
    tampered = digits[:10] + str((int(digits[10]) + 1) % 10)
    for raw in (tampered, hyphenate(tampered)):
        try:
            parse_personal_code(raw)
        except InvalidPersonalCode as exc:
            assert_code_not_revealed(tampered, str(exc) + repr(exc))
            assert not is_valid_personal_code(raw)
        else:
            assert is_valid_personal_code(raw)
