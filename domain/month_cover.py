"""How a range of days is read from running totals kept by month (MIN-4, MIN-5).

Pure. The ministry's tallies (migration 0014) keep cases by the month applied for and hours by the
month worked; a range of Riga days rarely starts and ends on a month's edges. :func:`cover` says
which whole months to read from a tally and which days at the two edges to read from the rows
themselves, added (``+1``) or taken away (``-1``), so that every day of the range counts exactly
once and no other day counts. At each edge it takes the shorter side of the month: at most half a
month of rows, whatever the range's length (the range up to today takes away only days after today).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from domain.calendar import add_months

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Edge:
    """Days ``first``…``last`` (both included), read from the rows and counted ``sign`` times."""

    sign: int
    first: date
    last: date


@dataclass(frozen=True)
class Cover:
    """Months ``months[0]``…``months[1]`` (their first days) from the tally, or none; then the edges."""

    months: tuple[date, date] | None
    edges: tuple[Edge, ...]


def month_of(day: date) -> date:
    """The first day of the day's month: the tallies' key."""
    return day.replace(day=1)


def month_end(day: date) -> date:
    return add_months(month_of(day), 1) - DAY


def cover(first: date, last: date) -> Cover:
    """Whole months and edge days that together count exactly the days ``first``…``last``."""
    if first > last:
        return Cover(None, ())
    start, end = month_of(first), month_of(last)
    if start == end:
        inside = (last - first).days + 1
        if 2 * inside <= (month_end(first) - start).days + 1:
            return Cover(None, (Edge(1, first, last),))
        return Cover((start, start), _outside(start, first, last, month_end(last)))
    edges: list[Edge] = []
    if first != start:
        if (month_end(first) - first).days + 1 <= (first - start).days:  # fewer days inside: add them
            edges.append(Edge(1, first, month_end(first)))
            start = add_months(start, 1)
        else:
            edges.append(Edge(-1, start, first - DAY))
    if last != month_end(last):
        if (last - end).days + 1 <= (month_end(last) - last).days:
            edges.append(Edge(1, end, last))
            end = add_months(end, -1)
        else:
            edges.append(Edge(-1, last + DAY, month_end(last)))
    return Cover((start, end) if start <= end else None, tuple(edges))


def _outside(start: date, first: date, last: date, end: date) -> tuple[Edge, ...]:
    """The month's days before ``first`` and after ``last``, taken away."""
    return tuple(Edge(-1, a, b) for a, b in ((start, first - DAY), (last + DAY, end)) if a <= b)
