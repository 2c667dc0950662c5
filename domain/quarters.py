"""Calendar quarters (DOMAIN.md §6, HRS-5…HRS-7): the period of a quarterly report.

A quarter is a year and a number 1–4; its label is ``"2026Q3"``. Pure value arithmetic:
no clock, no time zone (the caller decides which calendar date "today" is, in Riga).
"""

from __future__ import annotations

import calendar
import re
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, ValidationError

_LABEL = re.compile(r"([0-9]{4})Q([1-4])")


class Quarter(BaseModel):
    """One calendar quarter: ``number`` 1 is January–March, … 4 is October–December."""

    model_config = ConfigDict(frozen=True)

    year: int = Field(ge=1990, le=2099)
    number: int = Field(ge=1, le=4)

    # --- construction -----------------------------------------------------------------

    @classmethod
    def of(cls, day: date) -> Quarter:
        """The quarter that contains ``day``."""
        return cls(year=day.year, number=(day.month - 1) // 3 + 1)

    @classmethod
    def parse(cls, label: str) -> Quarter:
        """The quarter of a label such as ``"2026Q3"``; ``ValueError`` on anything else."""
        match = _LABEL.fullmatch(label.strip()) if isinstance(label, str) else None
        if match is None:
            raise ValueError("not a quarter label (expected e.g. 2026Q3)")
        try:
            return cls(year=int(match.group(1)), number=int(match.group(2)))
        except ValidationError as exc:
            raise ValueError(f"not a quarter in 1990–2099: {label!r}") from exc

    # --- the quarter's days -----------------------------------------------------------

    @property
    def first_month(self) -> int:
        return (self.number - 1) * 3 + 1

    @property
    def starts_on(self) -> date:
        """The first day of the quarter."""
        return date(self.year, self.first_month, 1)

    @property
    def ends_on(self) -> date:
        """The last day of the quarter (inclusive)."""
        last_month = self.first_month + 2
        return date(self.year, last_month, calendar.monthrange(self.year, last_month)[1])

    @property
    def months(self) -> list[date]:
        """The first days of the quarter's three months, in order."""
        return [date(self.year, self.first_month + i, 1) for i in range(3)]

    @property
    def label(self) -> str:
        return f"{self.year}Q{self.number}"

    def __str__(self) -> str:
        return self.label

    def contains(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on

    def months_before_in_year(self) -> list[date]:
        """First days of the months of the same calendar year before this quarter (HRS-5:
        the yearly cap counts from January)."""
        return [date(self.year, month, 1) for month in range(1, self.first_month)]

    # --- neighbours -------------------------------------------------------------------

    def previous(self) -> Quarter:
        if self.number == 1:
            return Quarter(year=self.year - 1, number=4)
        return Quarter(year=self.year, number=self.number - 1)

    def next(self) -> Quarter:
        if self.number == 4:
            return Quarter(year=self.year + 1, number=1)
        return Quarter(year=self.year, number=self.number + 1)
