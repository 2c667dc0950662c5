"""Latvian personal code (personas kods) parsing and validation.

Implements DOMAIN.md CASE-6: personal identifiers are validated on entry
(personal code format, and the checksum for the old format), never written
to logs and never put into workflow inputs or histories in clear text.

To support the "never in clear text" part, nothing in this module ever puts
the code into a message or representation:

* :class:`InvalidPersonalCode` messages name only the part that is wrong
  (format, date, century digit, checksum) and contain no digits at all;
* :class:`PersonalCode` redacts itself in ``repr()``/``str()``;
  :meth:`PersonalCode.masked` gives a display form that keeps only the first
  two digits.

Two formats are accepted (with or without the hyphen, surrounding
whitespace ignored):

* old format ``DDMMYY-CNNNN``: ``DDMMYY`` is the birth date, ``C`` the century
  digit (0 = 1800s, 1 = 1900s, 2 = 2000s), then three serial digits and a
  check digit.  The check digit is ``(1101 - sum(d_i * w_i)) % 11`` over the
  first ten digits with weights 1, 6, 3, 7, 9, 10, 5, 8, 4, 2; a result of 10
  can never be valid.
* new format (issued since 1 July 2017) ``32XXXX-XXXXX``: starts with ``32``,
  carries no date.  Only the format is enforced; no checksum is required.

Pure Python: no I/O, no third-party imports.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

__all__ = [
    "InvalidPersonalCode",
    "PersonalCode",
    "is_valid_personal_code",
    "parse_personal_code",
]

# ASCII digits only: ``\d`` would also accept e.g. Arabic-Indic digits.
_RAW_PATTERN = re.compile(r"([0-9]{6})-?([0-9]{5})")
_NORMALISED_PATTERN = re.compile(r"[0-9]{6}-[0-9]{5}")

_NEW_FORMAT_PREFIX = "32"
_CHECKSUM_WEIGHTS = (1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CENTURY_BY_DIGIT = {"0": 1800, "1": 1900, "2": 2000}

_REDACTED = "<redacted>"


class InvalidPersonalCode(ValueError):
    """A personal code failed validation (CASE-6).

    The message says which part is wrong but never contains the code itself
    (nor any digit), so the exception is safe to log.
    """


@dataclass(frozen=True, repr=False)
class PersonalCode:
    """A validated Latvian personal code (CASE-6).

    ``value`` is the normalised form ``DDMMYY-XNNNN`` (six digits, hyphen,
    five digits).  ``birth_date`` is set for old-format codes and ``None``
    for new-format (``32…``) codes.  ``repr()`` and ``str()`` never reveal
    the code; use :meth:`masked` for display.

    Construct it with :func:`parse_personal_code`; direct construction is
    checked for consistency as well.
    """

    value: str
    birth_date: datetime.date | None
    is_new_format: bool

    def __post_init__(self) -> None:
        if not isinstance(self.value, str) or not _NORMALISED_PATTERN.fullmatch(
            self.value
        ):
            raise InvalidPersonalCode(
                "personal code value must be in the normalised form of six "
                "digits, a hyphen and five digits"
            )
        birth_date, is_new_format = _analyse(self.value.replace("-", ""))
        if birth_date != self.birth_date or is_new_format != self.is_new_format:
            raise InvalidPersonalCode(
                "personal code birth date or format flag does not match the code"
            )

    def masked(self) -> str:
        """Return the code with all but the first two digits masked.

        E.g. ``32****-*****`` for a new-format code.
        """
        return self.value[:2] + "****-*****"

    def __repr__(self) -> str:
        return f"PersonalCode({_REDACTED})"

    def __str__(self) -> str:
        return _REDACTED


def _checksum(digits: str) -> int:
    """Old-format check value over the first ten digits (10 means invalid)."""
    total = sum(int(d) * w for d, w in zip(digits[:10], _CHECKSUM_WEIGHTS, strict=False))
    return (1101 - total) % 11


def _analyse(digits: str) -> tuple[datetime.date | None, bool]:
    """Validate eleven ASCII digits; return ``(birth_date, is_new_format)``.

    Raises :class:`InvalidPersonalCode` naming the failing part.
    """
    if digits.startswith(_NEW_FORMAT_PREFIX):
        # New format: no date, checksum deliberately not enforced.
        return None, True

    century = _CENTURY_BY_DIGIT.get(digits[6])
    if century is None:
        raise InvalidPersonalCode(
            "personal code has an invalid century digit "
            "(old-format codes must use zero, one or two)"
        )
    day, month, year = int(digits[0:2]), int(digits[2:4]), int(digits[4:6])
    try:
        birth_date = datetime.date(century + year, month, day)
    except ValueError:
        raise InvalidPersonalCode(
            "personal code does not contain a real birth date"
        ) from None

    if _checksum(digits) != int(digits[10]):
        raise InvalidPersonalCode("personal code has an invalid check digit")
    return birth_date, False


def parse_personal_code(raw: str) -> PersonalCode:
    """Parse and validate a Latvian personal code (CASE-6).

    Accepts ``DDMMYY-NNNNN`` or ``DDMMYYNNNNN`` (ASCII digits), ignoring
    surrounding whitespace.  Returns a :class:`PersonalCode` with the
    normalised value; raises :class:`InvalidPersonalCode` otherwise.
    """
    if not isinstance(raw, str):
        raise InvalidPersonalCode("personal code must be given as text")
    match = _RAW_PATTERN.fullmatch(raw.strip())
    if match is None:
        raise InvalidPersonalCode(
            "personal code has an invalid format: expected eleven digits, "
            "optionally with a hyphen after the sixth"
        )
    head, tail = match.group(1), match.group(2)
    birth_date, is_new_format = _analyse(head + tail)
    return PersonalCode(
        value=f"{head}-{tail}",
        birth_date=birth_date,
        is_new_format=is_new_format,
    )


def is_valid_personal_code(raw: str) -> bool:
    """Return whether ``raw`` is a valid Latvian personal code (CASE-6)."""
    try:
        parse_personal_code(raw)
    except InvalidPersonalCode:
        return False
    return True
