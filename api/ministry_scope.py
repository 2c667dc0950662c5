"""Who reads the ministry's figures, and for what: the scope of every ``/ministry`` endpoint (§7a).

Role ``ministry``: the whole country, or one municipality with ``?municipality=CODE``. Role
``service_head``: the same figures for their own municipality only (another code: 404). Anyone
else: 403. ``from``/``to`` (Riga dates) are the range the counted figures count in; ``from`` after
``to`` and any parameter the endpoint does not take answer 422, as every list does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from functools import lru_cache
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from sqlmodel import Session, SQLModel, func, select

from api.auth import MUNICIPALITY_CODE, PrincipalDep
from api.pagination import refuse_unknown_query
from domain.calendar import local_date, start_of_day
from domain.figures import Raw, Value, fresh, total
from domain.roles import Role
from persistence.models import Municipality
from persistence.new_rows import table_of

DEFAULT_FROM = date(2020, 1, 1)  # before the first round (November 2020, DOMAIN.md §8)


@dataclass(frozen=True)
class Scope:
    """One municipality (or None: the country) and the range [first, last] of Riga days."""

    municipality: str | None
    first: date
    last: date
    now: datetime

    @property
    def today(self) -> date:
        return local_date(self.now)

    @property
    def starts_at(self) -> datetime:
        """The range's first moment (midnight in Riga), for columns that hold moments."""
        return start_of_day(self.first)

    @property
    def ends_before(self) -> datetime:
        """The moment after the range's last day ends."""
        return start_of_day(self.last + timedelta(days=1))

    def of(self, query: Any, column: Any) -> Any:
        """``query`` limited to the scope's municipality, when it has one."""
        return query if self.municipality is None else query.where(column == self.municipality)


def ministry_scope(
    request: Request, principal: PrincipalDep,
    municipality: Annotated[str | None, Query(
        max_length=20, pattern=f"^{MUNICIPALITY_CODE.pattern}$",
        description="One municipality's code (the ministry; a service head's own is implied).")] = None,
    first: Annotated[date | None, Query(alias="from", description=(
        "The first Riga day counted figures count in (default 2020-01-01)."))] = None,
    last: Annotated[date | None, Query(alias="to", description=(
        "The last Riga day counted figures count in (default today in Riga)."))] = None,
) -> Scope:
    refuse_unknown_query(request)
    now = datetime.now(UTC)
    first = first or DEFAULT_FROM
    last = last or local_date(now)
    if first > last:
        raise RequestValidationError([{"loc": ("query", "from"), "msg": "from is after to",
                                       "type": "value_error"}])
    if principal.has(Role.MINISTRY):
        pass  # every municipality, or the one asked for
    elif principal.has(Role.SERVICE_HEAD):
        if municipality is not None and municipality != principal.municipality:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such municipality")
        municipality = principal.municipality
    else:
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            f"none of the roles {principal.names} reads the ministry's figures")
    return Scope(municipality=municipality, first=first, last=last, now=now)


ScopeDep = Annotated[Scope, Depends(ministry_scope)]
EPOCH = date(1970, 1, 1)


def day_count(day: date) -> int:
    """Days since 1970-01-01: what :func:`day_number` counts in SQL."""
    return (day - EPOCH).days


def day_number(session: Session, column: Any) -> Any:
    """A date column as days since 1970-01-01, summed exactly on both databases (julianday on SQLite)."""
    if session.get_bind().dialect.name == "sqlite":
        return sa.cast(func.julianday(column) - 2440587.5, sa.Integer)
    return column - sa.cast(sa.literal(EPOCH.isoformat()), sa.Date)


@lru_cache(maxsize=4096)
def fraction(text: str | None) -> Fraction:
    """An exact fraction as the assistant projection writes it ("3/4"), parsed once (CAP-2)."""
    return Fraction(text or "0")


def columns(model: type[SQLModel]) -> Any:
    """The table's columns (``CASE.status``), for the GROUP BY statements of the figures."""
    return table_of(model).c


def check_municipality(session: Session, scope: Scope) -> None:
    """404 for a municipality the service does not know (one statement, whatever the country's size)."""
    if scope.municipality is not None and session.exec(
            select(Municipality.code).where(Municipality.code == scope.municipality)).first() is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such municipality")


class ScopePublic(BaseModel):
    municipality: str | None = Field(description="The municipality asked about; null: the whole country.")
    from_: date = Field(alias="from", serialization_alias="from")
    to: date


class Figures(BaseModel):
    """One section of §7a: the figures of the scope, then the same figures per municipality."""

    section: str
    scope: ScopePublic
    totals: dict[str, Value]
    municipalities: list[dict[str, Value]] = Field(
        description="One row per municipality in scope that has any data, sorted by code; each carries "
                    "`municipality` (its code) and the figures of `totals`.")


def answer(section: str, scope: Scope, raws: dict[str, Raw], empty: Raw, finish: Any) -> Figures:
    """The section's answer: ``finish`` turns a municipality's (or the country's) tallies into figures."""
    rows = [{"municipality": code, **finish(raws[code])} for code in sorted(raws)]
    return Figures(section=section,
                   scope=ScopePublic.model_validate({"municipality": scope.municipality, "from": scope.first,
                                                     "to": scope.last}),
                   totals=finish(total(raws.values(), empty)), municipalities=rows)


class Tallies:
    """Per-municipality tallies, each started from the section's empty tally."""

    def __init__(self, empty: Raw) -> None:
        self.empty = empty
        self.raws: dict[str, Raw] = {}

    def __getitem__(self, municipality: str) -> Raw:
        if municipality not in self.raws:
            self.raws[municipality] = fresh(self.empty)
        return self.raws[municipality]
