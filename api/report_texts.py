"""The words of the quarterly report's PDF and CSV, in Latvian and in English (HRS-6).

The Latvian follows the pilot's own documents (Labklājības ministrijas un pašvaldību sadarbība,
vienas vienības izmaksu metodika): pārskats reizi ceturksnī, faktiski nostrādātais darba laiks,
pakalpojuma stundas, apmācībās pavadītās stundas netiek kompensētas.
"""

from __future__ import annotations

from dataclasses import dataclass

from api.document_language import Lang


@dataclass(frozen=True)
class ReportTexts:
    ministry: str
    municipality: str
    title: str
    period: str
    quarter: str  # .format(year=…, number=…)
    number: str
    version: str
    status: str
    statuses: dict[str, str]
    submitted: str
    approved: str
    paid: str
    payment_reference: str
    columns: tuple[str, ...]  # the CSV's header row and the PDF table's header, in report_rows' order
    total: str
    cap_title: str
    cap_columns: tuple[str, ...]
    notes: str  # .format(rate=…, cap=…)
    over_fte: str  # the title of the weeks flagged HRS-2
    week: str  # .format(year=…, week=…)
    prepared_by: str
    approved_by: str
    municipal_side: str
    ministry_side: str
    position: str
    user: str
    date: str
    name: str
    signature: str
    roles: dict[str, str]
    page: str  # .format(page=…, pages=…)


LATVIAN = ReportTexts(
    ministry="Labklājības ministrija",
    municipality="Pašvaldība",
    title="Ceturkšņa pārskats par ģimenes asistentu faktiski nostrādāto darba laiku",
    period="Pārskata periods",
    quarter="{year}. gada {number}. ceturksnis",
    number="Pārskata Nr.",
    version="versija",
    status="Statuss",
    statuses={"draft": "melnraksts", "submitted": "iesniegts", "approved": "apstiprināts",
              "returned": "atgriezts labošanai", "paid": "apmaksāts"},
    submitted="Iesniegts",
    approved="Apstiprināts",
    paid="Apmaksāts",
    payment_reference="Maksājuma atsauce",
    columns=("Asistenta ID", "Ģimenes asistents", "Mēnesis", "Pakalpojuma stundas", "Apmācību stundas",
             "Citas stundas", "Kompensējamās stundas", "Gada limitā izmantots, h", "Likme, EUR/h", "Summa, EUR"),
    total="Kopā",
    cap_title="Gada stundu limita izmantojums",
    cap_columns=("Asistenta ID", "Ģimenes asistents", "Izmantots pirms ceturkšņa, h",
                 "Izmantots pēc ceturkšņa, h", "Atlikums, h"),
    notes=("Vienas stundas likme ir {rate} EUR (vienas vienības izmaksu metodika). Vienam ģimenes asistentam "
           "kalendārajā gadā kompensē ne vairāk kā {cap} stundas. Apmācībās pavadītās un citas stundas ir "
           "uzrādītas, bet netiek kompensētas."),
    over_fte="Pārsniegts nedēļas darba laiks (vairāk nekā 40 h × slodze)",
    week="{year}. g. {week}. ned.",
    prepared_by="Sagatavoja",
    approved_by="Apstiprināja",
    municipal_side="pašvaldības sociālais dienests",
    ministry_side="Labklājības ministrija",
    position="Amats",
    user="Lietotājs",
    date="Datums",
    name="Vārds, uzvārds",
    signature="Paraksts",
    roles={"service_head": "sociālā dienesta vadītājs", "social_worker": "sociālais darbinieks",
           "ministry": "Labklājības ministrijas pārstāvis"},
    page="{page}. lpp. no {pages}",
)

ENGLISH = ReportTexts(
    ministry="Ministry of Welfare of the Republic of Latvia",
    municipality="Municipality",
    title="Quarterly report on the hours worked by family assistants",
    period="Reporting period",
    quarter="Q{number} {year}",
    number="Report no.",
    version="version",
    status="Status",
    statuses={"draft": "draft", "submitted": "submitted", "approved": "approved",
              "returned": "returned for correction", "paid": "paid"},
    submitted="Submitted",
    approved="Approved",
    paid="Paid",
    payment_reference="Payment reference",
    columns=("Assistant ID", "Family assistant", "Month", "Service hours", "Training hours", "Other hours",
             "Compensable hours", "Yearly cap used (h)", "Rate (EUR/h)", "Amount (EUR)"),
    total="Total",
    cap_title="Use of the yearly cap on hours",
    cap_columns=("Assistant ID", "Family assistant", "Used before the quarter (h)", "Used after the quarter (h)",
                 "Remaining (h)"),
    notes=("The unit rate is {rate} EUR per hour (unit cost methodology). At most {cap} hours a calendar year are "
           "compensated per family assistant. Training and other hours are reported but not compensated."),
    over_fte="Weekly hours over 40 h × FTE",
    week="week {week} of {year}",
    prepared_by="Prepared by",
    approved_by="Approved by",
    municipal_side="municipal social service",
    ministry_side="Ministry of Welfare",
    position="Position",
    user="User",
    date="Date",
    name="Name",
    signature="Signature",
    roles={"service_head": "head of the social service", "social_worker": "social worker",
           "ministry": "Ministry of Welfare officer"},
    page="Page {page} of {pages}",
)

TEXTS = {Lang.LV: LATVIAN, Lang.EN: ENGLISH}
