"""A quarterly report as CSV and as a PDF a municipality can file (HRS-6)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import fontpkg_noto_sans  # type: ignore[import-untyped]
from fpdf import FPDF

FONT = Path(fontpkg_noto_sans.__file__).parent / "files" / "NotoSans[wdth,wght].ttf"  # Latvian letters
COLUMNS = ["assistant_id", "assistant", "month", "service_hours", "training_hours", "other_hours",
           "compensable_hours", "cap_used_after", "rate_eur", "amount_eur"]


def report_rows(snapshot: dict[str, Any]) -> list[list[str]]:
    rows = []
    for assistant in snapshot.get("assistants", []):
        for line in assistant["lines"]:
            rows.append([assistant["assistant_id"], assistant.get("name") or "", line["month"][:7],
                         line["service_hours"], line["training_hours"], line["other_hours"],
                         line["compensable_hours"], line["cap_used_after"], line["rate"], line["amount"]])
    return rows


def report_csv(snapshot: dict[str, Any], status: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(report_rows(snapshot))
    t = snapshot.get("totals", {})
    writer.writerow(["TOTAL", "", snapshot.get("quarter", ""), t.get("service_hours", "0"),
                     t.get("training_hours", "0"), t.get("other_hours", "0"), t.get("compensable_hours", "0"),
                     "", snapshot.get("rate", ""), t.get("amount", "0.00")])
    writer.writerow(["status", status, "version", snapshot.get("version", "")])
    return out.getvalue()


def report_pdf(snapshot: dict[str, Any], status: str, report_id: str) -> bytes:
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_title(f"Quarterly report {report_id}")
    pdf.add_font("Noto", "", str(FONT))
    pdf.add_page()
    pdf.set_font("Noto", size=16)
    name = snapshot.get("municipality_name", snapshot.get("municipality", ""))
    pdf.cell(0, 10, f"Family assistant service: quarterly report {snapshot.get('quarter', '')}",
             new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Noto", size=10)
    pdf.cell(0, 6, f"Municipality: {name}    Status: {status}    Version: {snapshot.get('version', '')}",
             new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, f"Unit rate {snapshot.get('rate', '')} EUR per hour (HRS-4); yearly cap {snapshot.get('cap', '')}"
             " compensable hours per assistant (HRS-5); training hours are not compensated (HRS-3).",
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    widths = [28, 48, 18, 24, 24, 20, 28, 26, 18, 28]
    headers = ["Assistant", "Name", "Month", "Service h", "Training h", "Other h", "Compensable h",
               "Cap used (year)", "Rate", "Amount EUR"]
    pdf.set_font("Noto", size=8)
    for width, header in zip(widths, headers, strict=True):
        pdf.cell(width, 7, header, border=1)
    pdf.ln()
    for row in report_rows(snapshot):
        for width, value in zip(widths, row, strict=True):
            pdf.cell(width, 6, value, border=1)
        pdf.ln()
    t = snapshot.get("totals", {})
    total = ["Total", "", snapshot.get("quarter", ""), t.get("service_hours", "0"), t.get("training_hours", "0"),
             t.get("other_hours", "0"), t.get("compensable_hours", "0"), "", "", t.get("amount", "0.00")]
    for width, value in zip(widths, total, strict=True):
        pdf.cell(width, 7, str(value), border=1)
    pdf.ln(10)
    pdf.set_font("Noto", size=10)
    for assistant in snapshot.get("assistants", []):
        pdf.cell(0, 6, f"{assistant['assistant_id']}: cap used this year {assistant['cap_used_before']} h before "
                 f"the quarter, {assistant['cap_used_after']} h after.", new_x="LMARGIN", new_y="NEXT")
    for week in snapshot.get("over_fte_weeks", []):
        pdf.cell(0, 6, f"Flagged (HRS-2): {week['assistant_id']} worked over 40 × FTE hours in {week['week']}.",
                 new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
