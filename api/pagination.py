"""One pagination for every list (issue 8, "reads at national scale").

Every list answers ``{"items": [...], "has_more": bool, "next_cursor": str | null}`` and takes
``limit`` (default 100, at most 500) and ``cursor``. The cursor is opaque to callers: the
base64url of the list's name and the last row's sort key (its sort values and its unique id).
The next page starts strictly after that key (keyset pagination), so any depth costs what the
first page costs and a row is never skipped or shown twice while others are added. A cursor
that is malformed, from another list, or of the wrong shape is refused with 422.

A list also refuses (422) a query parameter it does not take: an ``offset`` silently ignored
would have answered the first page again.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, Generic, TypeVar

import sqlalchemy as sa
from fastapi import Depends, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from sqlmodel import Session

T = TypeVar("T")

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
MAX_CURSOR_LENGTH = 1000
KeyValue = datetime | date | int | str


class Page(BaseModel, Generic[T]):
    """One page of a list, in the list's order."""

    items: list[T]
    has_more: bool = Field(description="Whether rows follow this page: ask again with `cursor=next_cursor`.")
    next_cursor: str | None = Field(description="Opaque; where the next page starts (null on the last page).")


@dataclass(frozen=True)
class Key:
    """One sort key of a list: the row's attribute, its column, its type and its direction."""

    name: str
    column: Any
    kind: type[KeyValue]
    descending: bool = False


def _invalid_cursor(msg: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("query", "cursor"), "msg": msg, "type": "value_error"}])


def _to_json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value  # datetime is a date too


def _from_json(value: Any, kind: type[KeyValue]) -> KeyValue:
    if kind is datetime and isinstance(value, str):
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("naive")
        return moment.astimezone(UTC)  # OverflowError at the calendar's ends
    if kind is date and isinstance(value, str):
        return date.fromisoformat(value)
    if kind is int and isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63:
        return value
    if kind is str and isinstance(value, str) and not any(ord(c) < 32 or ord(c) == 127 for c in value):
        return value  # no database stores a NUL
    raise ValueError(kind.__name__)


@dataclass(frozen=True)
class Keyset:
    """A list's order: its sort keys, the last of them (or all together) unique per row."""

    list_name: str
    keys: tuple[Key, ...]

    def order_by(self) -> list[Any]:
        return [k.column.desc() if k.descending else k.column.asc() for k in self.keys]

    def encode(self, row: Any) -> str:
        payload = json.dumps([self.list_name, [_to_json(getattr(row, k.name)) for k in self.keys]],
                             separators=(",", ":"), ensure_ascii=False)
        return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")

    def decode(self, cursor: str) -> list[KeyValue]:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            name, values = json.loads(raw.decode())
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
            raise _invalid_cursor("the cursor is not one this API gave") from None
        if name != self.list_name or not isinstance(values, list) or len(values) != len(self.keys):
            raise _invalid_cursor("the cursor belongs to another list")
        try:
            return [_from_json(v, k.kind) for v, k in zip(values, self.keys, strict=True)]
        except (ValueError, OverflowError):
            raise _invalid_cursor("the cursor is not one this API gave") from None

    def after(self, values: Sequence[KeyValue]) -> Any:
        """Rows strictly after the key ``values`` in this order (a row-value comparison when one direction)."""
        bound = [sa.literal(v, type_=k.column.type) for v, k in zip(values, self.keys, strict=True)]
        columns = [k.column for k in self.keys]
        if len({k.descending for k in self.keys}) == 1:  # indexable as one range on both databases
            left, right = sa.tuple_(*columns), sa.tuple_(*bound)
            return left < right if self.keys[0].descending else left > right
        clauses = []
        for i, key in enumerate(self.keys):
            beyond = key.column < bound[i] if key.descending else key.column > bound[i]
            clauses.append(sa.and_(*[c == b for c, b in zip(columns[:i], bound[:i], strict=True)], beyond))
        return sa.or_(*clauses)


@dataclass(frozen=True)
class PageRequest:
    limit: int
    cursor: str | None


def _query_names(dependant: Dependant) -> set[str]:
    names = {field.alias for field in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def refuse_unknown_query(request: Request) -> None:
    """422 for a query parameter the operation does not take (e.g. an ``offset``)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = _query_names(route.dependant)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise RequestValidationError([{"loc": ("query", name), "msg": "this list takes no such parameter",
                                       "type": "extra_forbidden"} for name in unknown])


async def page_request(  # async: no worker thread for a parse (issue 8)
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Rows per page (at most {MAX_LIMIT}).")]
    = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH, description=(
        "The `next_cursor` of the previous page; absent for the first page."))] = None,
) -> PageRequest:
    refuse_unknown_query(request)
    return PageRequest(limit=limit, cursor=cursor)


PageDep = Annotated[PageRequest, Depends(page_request)]


@dataclass(frozen=True)
class Slice:
    """The rows of one page, before they become the list's items."""

    rows: list[Any]
    has_more: bool
    next_cursor: str | None

    def page(self, items: list[T]) -> Page[T]:
        return Page(items=items, has_more=self.has_more, next_cursor=self.next_cursor)


def fetch_page(session: Session, query: Any, keyset: Keyset, page: PageRequest) -> Slice:
    """One page of ``query`` in ``keyset``'s order: limit + 1 rows tell whether more follow."""
    if page.cursor is not None:
        query = query.where(keyset.after(keyset.decode(page.cursor)))
    rows = list(session.exec(query.order_by(*keyset.order_by()).limit(page.limit + 1)).all())
    more = len(rows) > page.limit
    rows = rows[:page.limit]
    return Slice(rows=rows, has_more=more, next_cursor=keyset.encode(rows[-1]) if more else None)
