"""The ministry's figures' arithmetic (MIN-2, MIN-5): bands, shares, totals added before rounding."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from domain.figures import Max, cap_use_band, decimal, mean, merge, share, total, utilisation_band


def test_min5_hrs5_an_assistant_at_the_yearly_cap_has_reached_it_and_one_below_half_has_not() -> None:
    cap = Decimal(1720)
    assert cap_use_band(Decimal(1720), cap) == "reached" and cap_use_band(Decimal("1800.25"), cap) == "reached"
    assert cap_use_band(Decimal("859.75"), cap) == "under_half" and cap_use_band(Decimal(860), cap) == "half_or_more"


def test_min2_cap2_load_against_capacity_bands() -> None:
    assert utilisation_band(Fraction(0), Fraction(1, 2)) == "empty"
    assert utilisation_band(Fraction(1, 6), Fraction(1)) == "under_half"
    assert utilisation_band(Fraction(1, 4), Fraction(1, 2)) == "half_or_more"
    assert utilisation_band(Fraction(1), Fraction(1)) == "full"  # 6 × 1/6 is exactly 1, never 0.9999


def test_min_shares_and_means_are_rounded_half_up_and_null_when_undefined() -> None:
    assert share(7, 9) == "0.7778" and share(0, 0) is None and share(Fraction(11, 12), Fraction(5, 2)) == "0.3667"
    assert mean(92, 3) == "30.7" and mean(0, 0) is None
    assert decimal(Fraction(11, 12), Decimal("0.0001")) == "0.9167"


def test_min_the_country_adds_the_municipalities_exact_tallies_before_rounding() -> None:
    empty = {"n": 0, "load": Fraction(0), "by": {}, "longest": Max()}
    a = {"n": 1, "load": Fraction(1, 6), "by": {"x": 1}, "longest": Max(3)}
    b = {"n": 2, "load": Fraction(1, 6), "by": {"x": 1, "y": 2}, "longest": Max(None)}
    country = total([a, b], empty)
    assert country == {"n": 3, "load": Fraction(1, 3), "by": {"x": 2, "y": 2}, "longest": Max(3)}
    assert decimal(country["load"], Decimal("0.01")) == "0.33"  # not 0.17 + 0.17
    assert merge({"n": 1}, {"n": 1}) == {"n": 2} and empty["by"] == {}  # the empty tally is never changed
