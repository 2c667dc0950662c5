"""The ministry's figures (DOMAIN.md §7a, MIN-1…MIN-5): how raw counts become the values it reads.

Pure: no I/O, no clock. A figure's value is an integer, a decimal as a string (hours and money
with 2 places, means with 1), a share as a string with 4 places (null when undefined, 0/0), or a
one-level object label → integer or decimal string. Raw tallies are kept exact (int, Decimal,
Fraction) per municipality and added up for the country before rounding, so a total is never a
sum of rounded parts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

Value = int | str | None | dict[str, int | str]
Raw = dict[str, Any]

HOURS = Decimal("0.01")
MONEY = Decimal("0.01")
SHARE = Decimal("0.0001")
MEAN = Decimal("0.1")


@dataclass(frozen=True)
class Max:
    """A tally that merges by taking the larger (None: nothing counted)."""

    value: int | None = None

    def __add__(self, other: Max) -> Max:
        values = [v for v in (self.value, other.value) if v is not None]
        return Max(max(values) if values else None)


def merge(into: Raw, other: Mapping[str, Any]) -> Raw:
    """Add ``other``'s tallies to ``into``: numbers and :class:`Max` add, label → number objects add per label."""
    for name, value in other.items():
        if isinstance(value, dict):
            target = into.setdefault(name, {})
            for label, number in value.items():
                target[label] = target.get(label, 0) + number
        elif name in into:
            into[name] = into[name] + value
        else:
            into[name] = value
    return into


def total(raws: Iterable[Mapping[str, Any]], empty: Raw) -> Raw:
    result = _copy(empty)
    for raw in raws:
        merge(result, raw)
    return result


def _copy(raw: Raw) -> Raw:
    return {k: dict(v) if isinstance(v, dict) else v for k, v in raw.items()}


def fresh(empty: Raw) -> Raw:
    return _copy(empty)


def decimal(value: Decimal | Fraction | int, places: Decimal) -> str:
    """An exact value rounded half up to ``places``, as a string ("10492.00")."""
    exact = Decimal(value.numerator) / Decimal(value.denominator) if isinstance(value, Fraction) else Decimal(value)
    return str(exact.quantize(places, rounding=ROUND_HALF_UP))


def share(part: int | Fraction | Decimal, whole: int | Fraction | Decimal) -> str | None:
    """``part / whole`` with 4 places; None when ``whole`` is 0 (undefined)."""
    if not whole:
        return None
    return decimal(Fraction(part) / Fraction(whole), SHARE)


def mean(sum_: int, count: int) -> str | None:
    """A mean with one place; None when nothing was counted."""
    return decimal(Fraction(sum_, count), MEAN) if count else None


def labelled(counts: Mapping[str, int], labels: Iterable[str]) -> dict[str, int | str]:
    """Every known label (0 when none), then any other label met, in their order."""
    result: dict[str, int | str] = {label: counts.get(label, 0) for label in labels}
    result.update({label: n for label, n in counts.items() if label not in result})
    return result


def band(value: int, bands: Iterable[tuple[int | None, str]]) -> str:
    """The label of the first band whose upper bound (inclusive; None: no bound) ``value`` is within."""
    for upper, label in bands:
        if upper is None or value <= upper:
            return label
    raise ValueError("the last band must have no upper bound")


def utilisation_band(load: Fraction, capacity: Fraction) -> str:
    """CAP-2, MIN-2: where an assistant's load stands against their capacity."""
    if capacity <= 0 or load >= capacity:
        return "full"
    if load == 0:
        return "empty"
    return "under_half" if load < capacity / 2 else "half_or_more"


def cap_use_band(hours: Decimal, cap: Decimal) -> str:
    """HRS-5, MIN-5: how much of the yearly cap an assistant's service hours used."""
    if hours >= cap:
        return "reached"
    return "under_half" if hours < cap / 2 else "half_or_more"


UTILISATION_BANDS = ("empty", "under_half", "half_or_more", "full")
CAP_USE_BANDS = ("under_half", "half_or_more", "reached")
WAITING_BANDS: tuple[tuple[int | None, str], ...] = (
    (7, "up_to_7_days"), (30, "8_to_30_days"), (90, "31_to_90_days"), (None, "over_90_days"))
