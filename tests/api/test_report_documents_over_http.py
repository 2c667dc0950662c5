"""The quarterly report's PDF and CSV as a municipality files them (HRS-6), read back over HTTP.

Latvian by default, English with ?lang=en or Accept-Language: the PDF's text is read back with
pypdf page by page and its first page rendered to PNG with pypdfium2; the CSV is parsed with the
csv module.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pypdfium2  # type: ignore[import-untyped]
from pypdf import PdfReader

from domain.roles import Role
from tests.api.conftest import Api
from tests.api.report_documents_setup import (
    ASSISTANTS,
    MUNICIPALITY_NAME,
    REFERENCE,
    PaidReport,
    paid_report_of_forty_assistants,
)

LATVIAN_LETTERS = "āčēģīķļņšūž"
LV_COLUMNS = ["Asistenta ID", "Ģimenes asistents", "Mēnesis", "Pakalpojuma stundas", "Apmācību stundas",
              "Citas stundas", "Kompensējamās stundas", "Gada limitā izmantots, h", "Likme, EUR/h", "Summa, EUR"]
EN_COLUMNS = ["Assistant ID", "Family assistant", "Month", "Service hours", "Training hours", "Other hours",
              "Compensable hours", "Yearly cap used (h)", "Rate (EUR/h)", "Amount (EUR)"]


def pages_of(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def lv(day: object) -> str:
    return f"{day:%d.%m.%Y}"


def date_after(label: str, text: str) -> str | None:
    found = re.search(rf"{label} (\d\d\.\d\d\.\d{{4}})\b", text)
    return found[1] if found else None


def check_latvian_pdf(pages: list[str], report: PaidReport, named: bool) -> None:
    first, text, q = pages[0], "\n".join(pages), report.quarter
    # The header: the ministry, the municipality, the period with its dates, the report's number.
    assert first.startswith("Labklājības ministrija")
    assert f"Pašvaldība: {MUNICIPALITY_NAME} ({report.town})" in first
    assert "Ceturkšņa pārskats par ģimenes asistentu faktiski nostrādāto darba laiku" in first
    assert f"{q.year}. gada {q.number}. ceturksnis ({lv(q.starts_on)}–{lv(q.ends_on)})" in first
    assert f"Pārskata Nr. {report.report_id}" in first and "Statuss apmaksāts" in first
    # The dates of submission, approval and payment (dd.mm.gggg), and the payment reference.
    assert date_after("Iesniegts", first) in {lv(d) for d in report.step_days}
    assert date_after("Apstiprināts", first) in {lv(d) for d in report.step_days}
    assert f"Apmaksāts {lv(report.paid_on)}" in first and f"Maksājuma atsauce {REFERENCE}" in first
    # Numbered pages, "N. lpp. no M", on every page; the table spans several.
    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        assert page.rstrip().endswith(f"{number}. lpp. no {len(pages)}"), page[-80:]
    # The hours table's header on every page that has its rows (a month "mm.gggg" after an assistant's id).
    hour_rows = re.compile(r"ga-[0-9a-f]{10} .*\b\d\d\.\d{4} ")
    with_rows = [page for page in pages if hour_rows.search(page)]
    assert len(with_rows) >= 3
    assert all("Asistenta ID" in page and "Mēnesis" in page and "Kompensējamās" in page for page in with_rows)
    # Decimal comma; every Latvian letter; the totals; the names only for the municipality's own staff.
    assert "134,20" in text and "6,10" in text and "1,5" in text and "134.20" not in text
    others = ASSISTANTS - 1  # each 1,5 other hours a month and 2 training hours; the one served 22 h
    assert f"Kopā 22 {others * 2} {others * 3 * 3 // 2},5 22 134,20" in text
    if named:
        assert set(LATVIAN_LETTERS) <= set(text)  # the font has them all, and pypdf reads them back
    assert all((name in text) is named for name in report.names.values())
    assert all(assistant_id in text for assistant_id in report.names)
    # The signature block: prepared by the service head who submitted, approved by the ministry.
    assert "Sagatavoja (pašvaldības sociālais dienests)" in text and "Apstiprināja (Labklājības ministrija)" in text
    assert "Amats: sociālā dienesta vadītājs" in text and "Lietotājs: head" in text and "Lietotājs: lm-1" in text
    assert text.count("Paraksts: ____") == 2 and text.count("Vārds, uzvārds: ____") == 2


def check_english_pdf(pages: list[str], report: PaidReport) -> None:
    first, text = pages[0], "\n".join(pages)
    assert first.startswith("Ministry of Welfare of the Republic of Latvia")
    assert f"Municipality: {MUNICIPALITY_NAME}" in first  # a name is a name in either language
    q = report.quarter
    assert f"Q{q.number} {q.year} ({q.starts_on.isoformat()}–{q.ends_on.isoformat()})" in first
    assert f"Paid {report.paid_on.isoformat()}" in first and f"Payment reference {REFERENCE}" in first
    for number, page in enumerate(pages, start=1):
        assert page.rstrip().endswith(f"Page {number} of {len(pages)}")
    assert "134.20" in text and "134,20" not in text and "Prepared by" in text and "Approved by" in text


def render_first_page(pdf: bytes, target: Path) -> None:
    """Page 1 as a PNG: a landscape page with ink on it, neither blank nor black."""
    page = pypdfium2.PdfDocument(pdf)[0]
    image = page.render(scale=1.5).to_pil()
    image.save(target)
    gray = image.convert("L")
    assert gray.width > gray.height  # A4 landscape
    dark = sum(gray.histogram()[:128]) / (gray.width * gray.height)
    assert 0.005 < dark < 0.3, dark


def parse_csv(content: bytes, delimiter: str) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Latvian Excel reads "ņ" as one letter
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=delimiter))


def check_csv(rows: list[list[str]], report: PaidReport, columns: list[str], named: bool, comma: bool) -> None:
    header, data = rows[0], rows[1:]
    assert header == columns
    assert len(data) == ASSISTANTS * 3 and all(len(row) == len(columns) for row in data)  # data rows only
    assert {row[0] for row in data} == set(report.names)
    served = [row for row in data if row[0] == report.served and row[3] != "0"]
    assert [row[-1] for row in served] == (["134,20"] if comma else ["134.20"])
    assert {row[-2] for row in data} == ({"6,10"} if comma else {"6.10"})
    others = [row for row in data if row[0] != report.served]
    assert {row[5] for row in others} == ({"1,5"} if comma else {"1.5"})
    month = f"{report.quarter.months[0]:%m.%Y}" if comma else f"{report.quarter.months[0]:%Y-%m}"
    assert sum(row[2] == month for row in data) == ASSISTANTS
    assert {row[1] for row in data} == (set(report.names.values()) if named else {""})


async def test_hrs6_a_report_of_forty_assistants_is_filed_in_latvian_and_read_in_english_on_request(
        api: Api, tmp_path: Path) -> None:
    report = await paid_report_of_forty_assistants(api)
    head = api.auth(Role.SERVICE_HEAD, municipality=report.town, user="head")
    ministry = api.auth(Role.MINISTRY, municipality="LV", user="lm-1")
    pdf_url, csv_url = f"/reports/{report.report_id}/pdf", f"/reports/{report.report_id}/csv"

    latvian = await api.http.get(pdf_url, headers=head)
    assert latvian.status_code == 200 and latvian.headers["content-type"] == "application/pdf"
    assert latvian.headers["content-language"] == "lv"
    check_latvian_pdf(pages_of(latvian.content), report, named=True)
    render_first_page(latvian.content, tmp_path / "report-page-1.png")
    check_latvian_pdf(pages_of((await api.http.get(pdf_url, headers=ministry)).content), report, named=False)

    english = await api.http.get(pdf_url, headers=head, params={"lang": "en"})
    check_english_pdf(pages_of(english.content), report)
    by_header = await api.http.get(pdf_url, headers={**head, "Accept-Language": "de-DE, en-GB;q=0.8, lv;q=0.5"})
    assert by_header.headers["content-language"] == "en"
    check_english_pdf(pages_of(by_header.content), report)
    query_wins = await api.http.get(pdf_url, headers={**head, "Accept-Language": "en"}, params={"lang": "lv"})
    assert query_wins.headers["content-language"] == "lv"
    unknown = await api.http.get(csv_url, headers={**head, "Accept-Language": "fr-FR, de;q=0.9"})
    assert unknown.headers["content-language"] == "lv"  # neither of ours: Latvian
    refused = await api.http.get(csv_url, headers=head, params={"lang": "de"})
    assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"

    lv_csv = await api.http.get(csv_url, headers=head)
    assert lv_csv.headers["content-type"].startswith("text/csv")
    check_csv(parse_csv(lv_csv.content, ";"), report, LV_COLUMNS, named=True, comma=True)
    assert unknown.content == lv_csv.content
    en_csv = await api.http.get(csv_url, headers=head, params={"lang": "en"})
    check_csv(parse_csv(en_csv.content, ","), report, EN_COLUMNS, named=True, comma=False)
    ministry_csv = await api.http.get(csv_url, headers={**ministry, "Accept-Language": "lv"})
    check_csv(parse_csv(ministry_csv.content, ";"), report, LV_COLUMNS, named=False, comma=True)


async def test_the_documents_language_is_in_the_openapi(api: Api) -> None:
    paths = (await api.http.get("/openapi.json")).json()["paths"]
    for path in ("/reports/{report_id}/csv", "/reports/{report_id}/pdf"):
        operation = paths[path]["get"]
        parameters = {p["name"]: p for p in operation["parameters"]}
        assert parameters["lang"]["in"] == "query" and parameters["accept-language"]["in"] == "header"
        assert "422" in operation["responses"]
