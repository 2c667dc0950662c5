"""The quarterly report as a PDF a municipality files with the ministry (HRS-6), Latvian or English.

Page 1 opens with the ministry, the municipality, the period and the report's number, dates and
payment reference; the table of hours (one row per assistant and month) repeats its header on every
page; the yearly cap's use per assistant (HRS-5), the notes, and a prepared/approved signature block
follow. Every page is numbered "1. lpp. no 3" ("Page 1 of 3"); later pages carry a running header.

The font is Fira Sans from the ``fontpkg-fira-sans`` package (no download at run time): it has every
Latvian letter (ā č ē ģ ī ķ ļ ņ š ū ž), and Cyrillic for names written in it. Static regular and bold
files: instancing a variable font's weight (Noto Sans) took fontTools 10-25 s for every PDF.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import fontpkg_fira_sans  # type: ignore[import-untyped]
from fpdf import FPDF

from api.document_language import Lang, day, number
from api.report_documents import ReportFacts, Signatory, report_rows
from api.report_texts import TEXTS, ReportTexts

FONTS = Path(fontpkg_fira_sans.__file__).parent / "files"
FAMILY = "FiraSans"
ALIGNS = ("L", "L", "L", "R", "R", "R", "R", "R", "R", "R")
WIDTHS = (30.0, 48.0, 18.0, 25.0, 24.0, 21.0, 27.0, 28.0, 20.0, 32.0)  # 273 mm: A4 landscape's width inside
NAME = 1  # the name column: left out when the reader sees no names (the ministry)
ROW = 5.5  # mm


class ReportPdf(FPDF):
    """A4 landscape with the report's running header (after page 1) and numbered pages."""

    def __init__(self, texts: ReportTexts, running_header: str, footer: str) -> None:
        super().__init__(orientation="L", format="A4")
        self.texts, self.running_header, self.footer_text = texts, running_header, footer
        self.set_margins(12, 12, 12)
        self.set_auto_page_break(True, margin=16)
        self.add_font(FAMILY, "", FONTS / "FiraSans-Regular.ttf")
        self.add_font(FAMILY, "B", FONTS / "FiraSans-Bold.ttf")

    def header(self) -> None:
        if self.page_no() > 1:
            self.set_font(FAMILY, size=8)
            self.cell(0, 5, self.running_header, new_x="LMARGIN", new_y="NEXT")
            self.ln(2)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, size=8)
        self.cell(0, 5, self.footer_text, align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, self.texts.page.format(page=self.page_no(), pages=self.str_alias_nb_pages), align="R")


def _columns(values: list[Any], named: bool) -> list[Any]:
    return values if named else values[:NAME] + values[NAME + 1:]


def _widths(widths: tuple[float, ...], named: bool) -> list[float]:
    """Without the name column the others share its width."""
    if named:
        return list(widths)
    kept = _columns(list(widths), named)
    return [w * sum(widths) / sum(kept) for w in kept]


def _title(pdf: ReportPdf, facts: ReportFacts, snapshot: dict[str, Any], lang: Lang) -> None:
    t = TEXTS[lang]
    pdf.set_font(FAMILY, "B", 12)
    pdf.cell(0, 7, t.ministry, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, size=11)
    name = snapshot.get("municipality_name") or facts.municipality
    pdf.cell(0, 6, f"{t.municipality}: {name} ({facts.municipality})", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(FAMILY, "B", 15)
    pdf.multi_cell(0, 8, t.title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def _facts(pdf: ReportPdf, facts: ReportFacts, lang: Lang) -> None:
    t, q = TEXTS[lang], facts.quarter
    period = f"{t.quarter.format(year=q.year, number=q.number)} ({day(q.starts_on, lang)}–{day(q.ends_on, lang)})"
    cells = [
        (t.number, f"{facts.report_id} ({t.version} {facts.version})", t.period, period),
        (t.status, t.statuses.get(facts.status, facts.status), t.payment_reference, facts.payment_reference or "—"),
        (t.submitted, day(facts.submitted.on if facts.submitted else None, lang),
         t.approved, day(facts.approved.on if facts.approved else None, lang)),
        (t.paid, day(facts.payment_date, lang), "", ""),
    ]
    for row in cells:
        for index, (width, text) in enumerate(zip((38, 80, 42, 113), row, strict=True)):
            pdf.set_font(FAMILY, "" if index % 2 else "B", 10)
            pdf.cell(width, 7, _fit(pdf, text, width), border="B")
        pdf.ln(7)
    pdf.ln(4)


def _fit(pdf: ReportPdf, text: str, width: float) -> str:
    """``text`` cut to one line of ``width`` (a long name ends in "…"; numbers always fit)."""
    if pdf.get_string_width(text) <= width - 2:
        return text
    while text and pdf.get_string_width(text + "…") > width - 2:
        text = text[:-1]
    return text + "…"


def _heading(pdf: ReportPdf, widths: list[float], names: list[str]) -> None:
    """A table's header row, as high as its longest name wraps."""
    pdf.set_font(FAMILY, "B", 8)
    lines = max(len(cast(list[str], pdf.multi_cell(w, 4, n, dry_run=True, output="LINES")))
                for w, n in zip(widths, names, strict=True))
    height, x, y = lines * 4 + 2, pdf.l_margin, pdf.get_y()
    pdf.set_fill_color(225, 230, 238)
    for width, name in zip(widths, names, strict=True):
        pdf.rect(x, y, width, height, style="DF")
        pdf.set_xy(x, y + 1)
        pdf.multi_cell(width, 4, name, align="C")
        x += width
    pdf.set_xy(pdf.l_margin, y + height)


def _table(pdf: ReportPdf, widths: list[float], aligns: list[str], names: list[str], rows: list[list[str]],
           bold_last: bool = False) -> None:
    """A table whose header row is repeated at the top of every page it runs onto."""
    _heading(pdf, widths, names)
    for index, values in enumerate(rows):
        if pdf.will_page_break(ROW):
            pdf.add_page()
            _heading(pdf, widths, names)
        pdf.set_font(FAMILY, "B" if bold_last and index == len(rows) - 1 else "", 8)
        for width, align, value in zip(widths, aligns, values, strict=True):
            pdf.cell(width, ROW, _fit(pdf, value, width), border=1, align=align)
        pdf.ln(ROW)


def _hours(pdf: ReportPdf, snapshot: dict[str, Any], lang: Lang, named: bool) -> None:
    """The table of hours, one row per assistant and month, and the totals."""
    t, totals = TEXTS[lang], snapshot.get("totals", {})
    total = [t.total, "", "", *(number(totals.get(k, "0"), lang) for k in ("service_hours", "training_hours",
                                                                         "other_hours", "compensable_hours")),
             "", "", number(totals.get("amount", "0.00"), lang)]
    rows = [_columns(values, named) for values in [*report_rows(snapshot, lang), total]]
    _table(pdf, _widths(WIDTHS, named), _columns(list(ALIGNS), named), _columns(list(t.columns), named), rows,
           bold_last=True)
    pdf.ln(5)


def _cap(pdf: ReportPdf, snapshot: dict[str, Any], lang: Lang, named: bool) -> None:
    """HRS-5: each assistant's use of the year's cap before and after the quarter."""
    t, cap = TEXTS[lang], snapshot.get("cap", "0")
    if pdf.will_page_break(30):
        pdf.add_page()
    pdf.set_font(FAMILY, "B", 10)
    pdf.cell(0, 7, t.cap_title, new_x="LMARGIN", new_y="NEXT")
    rows = [_columns([a["assistant_id"], a.get("name") or "", number(a["cap_used_before"], lang),
                      number(a["cap_used_after"], lang),
                      number(max(Decimal(0), Decimal(cap) - Decimal(a["cap_used_after"])), lang)], named)
            for a in snapshot.get("assistants", [])]
    _table(pdf, _columns([30.0, 60.0, 42.0, 42.0, 30.0], named), _columns(["L", "L", "R", "R", "R"], named),
           _columns(list(t.cap_columns), named), rows)
    pdf.ln(4)


def _notes(pdf: ReportPdf, snapshot: dict[str, Any], lang: Lang) -> None:
    t = TEXTS[lang]
    pdf.set_font(FAMILY, size=9)
    pdf.multi_cell(0, 5, t.notes.format(rate=number(snapshot.get("rate", ""), lang),
                                        cap=number(snapshot.get("cap", ""), lang)), align="L",
                   new_x="LMARGIN", new_y="NEXT")
    weeks: dict[str, list[str]] = {}
    for flagged in snapshot.get("over_fte_weeks", []):  # HRS-2: flagged, never refused; one line per assistant
        year, _, week = flagged["week"].partition("-W")
        weeks.setdefault(flagged["assistant_id"], []).append(t.week.format(year=year, week=int(week)))
    if weeks:
        pdf.ln(2)
        pdf.set_font(FAMILY, "B", 9)
        pdf.cell(0, 5, t.over_fte, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FAMILY, size=9)
        pdf.multi_cell(0, 5, "; ".join(f"{a}: {', '.join(w)}" for a, w in weeks.items()), align="L",
                       new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def _signatures(pdf: ReportPdf, facts: ReportFacts, lang: Lang) -> None:
    """Prepared (the service head who submitted) and approved (the ministry), with lines to sign."""
    t = TEXTS[lang]
    if pdf.will_page_break(52):
        pdf.add_page()

    def side(signatory: Signatory | None, role: str) -> list[str]:
        return [f"{t.position}: {t.roles.get(signatory.role if signatory else role, role)}",
                f"{t.user}: {signatory.user_id if signatory else '—'}",
                f"{t.date}: {day(signatory.on if signatory else None, lang)}",
                f"{t.name}: " + "_" * 34, f"{t.signature}: " + "_" * 36]

    half = (pdf.w - pdf.l_margin - pdf.r_margin) / 2
    pdf.set_font(FAMILY, "B", 10)
    pdf.cell(half, 7, f"{t.prepared_by} ({t.municipal_side})")
    pdf.cell(half, 7, f"{t.approved_by} ({t.ministry_side})", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, size=10)
    lines = zip(side(facts.submitted, "service_head"), side(facts.approved, "ministry"), strict=True)
    for index, (left, right) in enumerate(lines):
        height = 10 if index >= 3 else 6  # room to write a name and sign
        pdf.cell(half, height, left, align="L")
        pdf.cell(half, height, right, align="L", new_x="LMARGIN", new_y="NEXT")


def report_pdf(snapshot: dict[str, Any], facts: ReportFacts, lang: Lang) -> bytes:
    """The PDF's bytes. ``snapshot`` as the reader may see it (the ministry's without names)."""
    t = TEXTS[lang]
    name = snapshot.get("municipality_name") or facts.municipality
    running = f"{t.ministry} · {name} · {t.number} {facts.report_id}"
    pdf = ReportPdf(t, running, f"{t.number} {facts.report_id}, {t.version} {facts.version}")
    pdf.set_title(f"{t.title}: {facts.report_id}")
    pdf.set_lang(lang.value)
    pdf.set_author(t.ministry)
    pdf.add_page()
    named = any(a.get("name") for a in snapshot.get("assistants", []))
    _title(pdf, facts, snapshot, lang)
    _facts(pdf, facts, lang)
    _hours(pdf, snapshot, lang, named)
    _cap(pdf, snapshot, lang, named)
    _notes(pdf, snapshot, lang)
    _signatures(pdf, facts, lang)
    return bytes(pdf.output())
