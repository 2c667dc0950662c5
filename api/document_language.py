"""The language of a document a municipality files: Latvian by default, English on request.

``?lang=lv|en`` wins over ``Accept-Language``; a language neither names (or a header that
cannot be read) gives Latvian, the language the documents are filed in. A ``lang`` other than
``lv`` or ``en`` is refused with 422 (FastAPI validates the enum).

Numbers and dates follow the language's own conventions, for the people and the spreadsheets
that read them:

- Latvian: decimal comma (``134,20``), dates ``dd.mm.gggg`` (``24.11.2026``), months ``mm.gggg``.
- English: decimal point (``134.20``), ISO 8601 dates (``2026-11-24``: unambiguous wherever the
  reader is, unlike dd/mm against mm/dd), months ``yyyy-mm``.

No digit grouping in either: a CSV cell must stay one number to a spreadsheet.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Header, Query


class Lang(StrEnum):
    LV = "lv"  # latviešu valoda: the default
    EN = "en"


DEFAULT = Lang.LV
LANGS = frozenset(lang.value for lang in Lang)


def _weight(parameters: list[str]) -> float:
    for parameter in parameters:
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value.strip())))
            except ValueError:
                return 0.0  # an unreadable weight: as if not acceptable
    return 1.0


def from_accept_language(header: str | None) -> Lang | None:
    """The language ``Accept-Language`` prefers among ours (RFC 9110 §12.5.4), or None.

    >>> from_accept_language("de-DE, en-GB;q=0.8, lv;q=0.5")
    <Lang.EN: 'en'>
    >>> from_accept_language("fr, *;q=0.1") is None
    True
    """
    if not header:
        return None
    ranked: list[tuple[float, int, Lang]] = []
    for position, item in enumerate(header.split(",")):
        tag, *parameters = item.split(";")
        primary = tag.strip().split("-")[0].lower()
        weight = _weight(parameters)
        if weight > 0 and primary in LANGS:
            ranked.append((-weight, position, Lang(primary)))
    return min(ranked)[2] if ranked else None


def negotiate(lang: Lang | None, accept_language: str | None) -> Lang:
    """The query's language, else the header's, else Latvian."""
    return lang or from_accept_language(accept_language) or DEFAULT


def document_language(
    lang: Annotated[Lang | None, Query(description=(
        "The document's language: `lv` (Latvian: decimal comma, dates dd.mm.gggg) or `en` (English: "
        "decimal point, ISO dates). Wins over Accept-Language; neither: Latvian."))] = None,
    accept_language: Annotated[str | None, Header(max_length=500, description=(
        "Used when `lang` is absent: `en` or `lv` by weight; any other language gives Latvian."))] = None,
) -> Lang:
    return negotiate(lang, accept_language)


LangDep = Annotated[Lang, Depends(document_language)]


def number(value: object, lang: Lang) -> str:
    """A decimal as written in ``lang``: ``"1.5"`` → ``"1,5"`` in Latvian; text that is no number, as it is."""
    try:
        text = format(Decimal(str(value)), "f")
    except InvalidOperation:
        return str(value)
    return text.replace(".", ",") if lang is Lang.LV else text


def day(value: date | None, lang: Lang) -> str:
    """A date: ``24.11.2026`` in Latvian, ``2026-11-24`` in English; ``—`` for none."""
    if value is None:
        return "—"
    return value.strftime("%d.%m.%Y") if lang is Lang.LV else value.isoformat()


def month(value: str, lang: Lang) -> str:
    """A month from an ISO date or ``yyyy-mm``: ``07.2026`` in Latvian, ``2026-07`` in English."""
    year, number_ = value[:4], value[5:7]
    return f"{number_}.{year}" if lang is Lang.LV else f"{year}-{number_}"
