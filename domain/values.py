"""Bounded value types for everything people type in: no control characters, sane sizes
and dates, so that no request can make a workflow carry what it cannot store."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

EARLIEST = date(1990, 1, 1)
LATEST = date(2099, 12, 31)
NO_CONTROL_CHARACTERS = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"  # tab, newline and return are text


def _within_service_era(day: date) -> date:
    if not EARLIEST <= day <= LATEST:
        raise ValueError(f"the date must lie between {EARLIEST} and {LATEST}")
    return day


ServiceDate = Annotated[date, AfterValidator(_within_service_era)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=4000, pattern=NO_CONTROL_CHARACTERS)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=1000, pattern=NO_CONTROL_CHARACTERS)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_CONTROL_CHARACTERS)]
UserId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.@-]{1,100}$")]
ShortList = Annotated[list[ShortText], Field(min_length=1, max_length=30)]
