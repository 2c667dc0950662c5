"""MIN-4, MIN-5: a range of days read from totals kept by month and rows at the edges counts every day of
the range exactly once and no other day (domain/month_cover.py)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.month_cover import Cover, Edge, cover, month_of

DAYS = st.dates(min_value=date(2019, 1, 1), max_value=date(2028, 12, 31))


def counted(span: Cover, day: date) -> int:
    """How many times ``day`` is counted: once if its month is read from the tally, plus each edge's sign."""
    months = 1 if span.months is not None and span.months[0] <= month_of(day) <= span.months[1] else 0
    return months + sum(edge.sign for edge in span.edges if edge.first <= day <= edge.last)


@given(DAYS, DAYS)
def test_min4_min5_every_day_of_the_range_counts_once_and_no_other_day(a: date, b: date) -> None:
    first, last = min(a, b), max(a, b)
    span = cover(first, last)
    for day in (first - timedelta(days=n) for n in range(1, 40)):
        assert counted(span, day) == 0
    for day in (last + timedelta(days=n) for n in range(1, 40)):
        assert counted(span, day) == 0
    step = max(1, (last - first).days // 200)
    for n in [*range(0, (last - first).days + 1, step), (last - first).days]:
        assert counted(span, first + timedelta(days=n)) == 1


@given(DAYS, DAYS)
def test_min4_min5_the_rows_read_at_the_edges_are_at_most_half_a_month_each(a: date, b: date) -> None:
    span = cover(min(a, b), max(a, b))
    assert len(span.edges) <= 2
    assert all((edge.last - edge.first).days + 1 <= 16 for edge in span.edges)
    assert all(month_of(edge.first) == month_of(edge.last) for edge in span.edges)


def test_min4_min5_the_range_up_to_today_takes_away_only_the_days_after_today() -> None:
    assert cover(date(2020, 1, 1), date(2026, 11, 24)) == Cover(
        (date(2020, 1, 1), date(2026, 11, 1)), (Edge(-1, date(2026, 11, 25), date(2026, 11, 30)),))
    assert cover(date(2025, 11, 24), date(2026, 11, 24)) == Cover(
        (date(2025, 12, 1), date(2026, 11, 1)),
        (Edge(1, date(2025, 11, 24), date(2025, 11, 30)), Edge(-1, date(2026, 11, 25), date(2026, 11, 30))))
    assert cover(date(2026, 3, 1), date(2026, 3, 31)) == Cover((date(2026, 3, 1), date(2026, 3, 1)), ())
    assert cover(date(2026, 3, 10), date(2026, 3, 12)) == Cover(None, (Edge(1, date(2026, 3, 10), date(2026, 3, 12)),))
