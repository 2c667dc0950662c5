"""A draft's PDF (HRS-6): no dates yet, nobody named in the signature block, no names for the ministry."""

from __future__ import annotations

import io

from pypdf import PdfReader

from api.document_language import Lang
from api.report_documents import ReportFacts
from api.report_pdf import report_pdf
from domain.quarters import Quarter


def snapshot(assistants: int, named: bool) -> dict[str, object]:
    line = {"month": "2026-07-01", "service_hours": "10.25", "training_hours": "0", "other_hours": "0",
            "compensable_hours": "10.25", "cap_used_after": "10.25", "rate": "6.10", "amount": "62.53"}
    return {"municipality": "CESIS", "municipality_name": "Cēsu novada pašvaldība", "quarter": "2026Q3",
            "rate": "6.10", "cap": "1720", "version": 1, "over_fte_weeks": [],
            "totals": {"service_hours": "10.25", "training_hours": "0", "other_hours": "0",
                       "compensable_hours": "10.25", "amount": "62.53"},
            "assistants": [{"assistant_id": f"ga-{n:03d}", "name": "Jānis Ozoliņš" if named else None,
                            "cap_used_before": "0", "cap_used_after": "10.25", "lines": [line]}
                           for n in range(assistants)]}


def draft(version: int = 1) -> ReportFacts:
    return ReportFacts(report_id="CESIS-2026Q3", municipality="CESIS", quarter=Quarter(year=2026, number=3),
                       status="draft", version=version, submitted=None, approved=None, payment_date=None,
                       payment_reference=None)


def test_hrs6_a_drafts_pdf_has_no_dates_and_an_unsigned_block() -> None:
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(report_pdf(snapshot(3, True), draft(), Lang.LV))).pages]
    text = "\n".join(pages)
    assert "Statuss melnraksts" in text and "Iesniegts —" in text and "Apmaksāts —" in text
    assert "Maksājuma atsauce —" in text and text.count("Lietotājs: —") == 2
    assert "Amats: sociālā dienesta vadītājs" in text and "Amats: Labklājības ministrijas pārstāvis" in text
    assert "10,25" in text and "62,53" in text and "Jānis Ozoliņš" in text


def test_hrs6_without_names_the_pdf_drops_the_name_column_and_repeats_the_header_in_english() -> None:
    document = report_pdf(snapshot(80, named=False), draft(), Lang.EN)
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(document)).pages]
    assert len(pages) >= 3 and "Family assistant" not in "\n".join(pages)
    for number, page in enumerate(pages, start=1):
        assert page.rstrip().endswith(f"Page {number} of {len(pages)}")
        if "ga-0" in page:
            assert "Assistant ID" in page
