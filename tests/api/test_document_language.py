"""Which language a filed document is in, and how it writes numbers and dates (api/document_language.py)."""

from __future__ import annotations

from datetime import date

from api.document_language import Lang, day, from_accept_language, month, negotiate, number


def test_the_query_wins_over_the_header_and_neither_gives_latvian() -> None:
    assert negotiate(Lang.LV, "en") is Lang.LV
    assert negotiate(Lang.EN, "lv") is Lang.EN
    assert negotiate(None, "en-GB") is Lang.EN
    assert negotiate(None, None) is Lang.LV
    assert negotiate(None, "fr-FR, de;q=0.9") is Lang.LV  # unknown languages fall back to Latvian


def test_accept_language_is_read_by_weight_and_order() -> None:
    assert from_accept_language("de-DE, en-GB;q=0.8, lv;q=0.5") is Lang.EN
    assert from_accept_language("en;q=0.4, LV-lv;q=0.9") is Lang.LV
    assert from_accept_language("en, lv") is Lang.EN  # equal weights: the first
    assert from_accept_language("en;q=0, lv;q=0.1") is Lang.LV  # q=0: not acceptable
    assert from_accept_language("*") is None


def test_a_header_that_cannot_be_read_gives_no_language() -> None:
    for header in ("", ";;;", "en;q=abc", ",,", "q=1", "\x00", "en;q=-1"):
        assert from_accept_language(header) is None, header


def test_latvian_writes_a_decimal_comma_and_dd_mm_gggg_english_a_point_and_iso() -> None:
    assert number("134.20", Lang.LV) == "134,20" and number("134.20", Lang.EN) == "134.20"
    assert number("1720", Lang.LV) == "1720" and number("not a number", Lang.LV) == "not a number"
    assert day(date(2026, 11, 4), Lang.LV) == "04.11.2026" and day(date(2026, 11, 4), Lang.EN) == "2026-11-04"
    assert day(None, Lang.LV) == "—"
    assert month("2026-07-01", Lang.LV) == "07.2026" and month("2026-07-01", Lang.EN) == "2026-07"
