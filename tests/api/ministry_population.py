"""A known population built through the API for the ministry's figures (MIN-1…MIN-5), and the test's own
bookkeeping of it: every figure the tests expect is counted from these records, never by the API's SQL."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from domain.calendar import add_months
from domain.quarters import Quarter
from domain.roles import Role
from tests.api.conftest import Api, eventually, serving_assistant
from tests.riga import riga_today

NAME = "Ministryfigure Testperson"  # personal data entered: never in any figure
CODE = "32123456789"
NOTE = "free-text-marker-9f3"


def ago(n: int) -> date:
    return riga_today() - timedelta(days=n)


@dataclass
class Case:
    """The test's record of one case: what it did to it, with the days it gave."""

    town: str
    applied: date
    group: str | None = None
    control: bool = False
    status: str = "registered"
    decided: date | None = None
    granted: bool = False
    referred: date | None = None
    periods: int = 0
    period_ends: date | None = None
    closed: date | None = None
    reason: str | None = None
    follow_up_done: bool = False
    urgent: bool = False
    reassign: bool = False
    case_id: str = ""


@dataclass
class Pilot:
    town: str
    phase: str
    fte: Decimal = Decimal(0)
    load: Any = 0  # Fraction of CAP-2 weights
    training_from: date | None = None


@dataclass
class Reminder:
    town: str
    kind: str
    overdue: bool


@dataclass
class Entry:
    town: str
    assistant: str
    day: date
    kind: str
    hours: Decimal


@dataclass
class Book:
    towns: tuple[str, str]
    cases: list[Case] = field(default_factory=list)
    pilots: dict[str, Pilot] = field(default_factory=dict)
    reminders: list[Reminder] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    reports: dict[str, tuple[Quarter, str]] = field(default_factory=dict)  # town → (quarter, status)
    amounts: dict[str, Decimal] = field(default_factory=dict)  # town → the report's amount (HRS-4)


GROUPS = {"family": "family_with_children", "youth": "youth_leaving_care", "adult": "adult_with_mental_disorder"}


class Builder:
    def __init__(self, api: Api, book: Book) -> None:
        self.api, self.book = api, book

    def sw(self, town: str) -> dict[str, str]:
        return self.api.auth(Role.SOCIAL_WORKER, municipality=town, user=f"sw-{town.lower()}")

    async def post(self, path: str, town: str, body: dict[str, Any], who: dict[str, str] | None = None) -> Any:
        answer = await self.api.http.post(path, headers=who or self.sw(town), json=body)
        assert answer.status_code in (200, 201), (path, answer.text)
        return answer.json()

    async def case(self, town: str, applied: int, *, control: bool = False) -> Case:
        case = Case(town=town, applied=ago(applied), control=control)
        opened = await self.post("/cases", town, {"full_name": NAME, "personal_code": CODE, "consent": True,
                                                  "applied_on": str(case.applied), "control_group": control})
        case.case_id = opened["case"]["case_id"]
        self.book.cases.append(case)
        return case

    async def decide(self, case: Case, group: str, decided: int, *, granted: bool = True) -> None:
        assessment: dict[str, Any] = {"target_group": GROUPS[group], "skill_areas": ["housing"], "methods": ["ecomap"],
                                      "service_needed": True, "opinion": NOTE, "client_motivated": True}
        if group == "family":
            assessment["child_safety_risk"] = "low"
        await self.post(f"/cases/{case.case_id}/assessment", case.town,
                        {"assessment": assessment, "assessed_on": str(ago(decided + 1))})
        await self.post(f"/cases/{case.case_id}/decision", case.town, {
            "decision": "granted" if granted else "refused", "reasons": NOTE, "decided_on": str(ago(decided))})
        case.group, case.status, case.decided, case.granted = GROUPS[group], "decided", ago(decided), granted

    async def refer(self, case: Case, assistant: str, referred: int, *, start: bool = True) -> None:
        await self.post(f"/cases/{case.case_id}/referral", case.town, {
            "assistant_id": assistant, "primary_information": NOTE, "referred_on": str(ago(referred)), "plan": {
                "goals": [NOTE], "expected_results": ["r"], "responsible": "sw",
                "tasks": [{"description": "t", "due_on": str(riga_today()), "responsible": "assistant"}]}})
        case.status, case.referred = "referred", ago(referred)
        if start:
            await self.post(f"/cases/{case.case_id}/service-start", case.town, {"starts_on": str(ago(referred))})
            same = add_months(ago(referred), 6)  # §5.6: six months, ending the day before the same date
            case.status, case.periods = "in_service", 1
            case.period_ends = same - timedelta(days=1) if same.day == ago(referred).day else same

    async def close(self, case: Case, reason: str, closed: int) -> None:
        await self.post(f"/cases/{case.case_id}/closure", case.town,
                        {"reason": reason, "note": NOTE, "closed_on": str(ago(closed))})
        case.status, case.closed, case.reason, case.reassign = "closed", ago(closed), reason, False

    async def log(self, town: str, assistant: str, day: date, hours: str, kind: str, case: Case | None) -> None:
        body: dict[str, Any] = {"worked_on": str(day), "hours": hours, "kind": kind,
                                "case_id": case.case_id if case else None}
        who = self.api.auth(Role.ASSISTANT, municipality=town, user=assistant)
        await self.post(f"/assistants/{assistant}/timesheet", town, body, who)
        self.book.entries.append(Entry(town, assistant, day, kind, Decimal(hours)))

    async def pilot(self, town: str, fte: str, months_ago: int, phase: str) -> str:
        assistant = f"ga-{uuid.uuid4().hex[:10]}"
        await serving_assistant(self.api, assistant, municipality=town, fte=fte, months_ago=months_ago)
        self.book.pilots[assistant] = Pilot(town, phase, Decimal(fte), training_from=add_months(riga_today(),
                                                                                                 -months_ago))
        if months_ago > 6:  # PH-4: the 40 child-rights hours not done by the end of month 6
            self.book.reminders.append(Reminder(town, "child_rights_training_due", True))
        return assistant

    async def nominee(self, town: str) -> str:
        assistant = f"ga-{uuid.uuid4().hex[:10]}"
        head = self.api.auth(Role.SERVICE_HEAD, municipality=town, user=f"head-{town.lower()}")
        await self.post(f"/municipalities/{town}/orders", town, {
            "assistant_id": assistant, "number": f"R-{assistant}", "issued_on": "2020-09-15"}, head)
        await self.post("/assistants", town, {
            "assistant_id": assistant, "full_name": NAME, "education_level": "general_secondary",
            "cv_received": True, "motivation_letter_received": True}, head)
        self.book.pilots[assistant] = Pilot(town, "nominated")
        return assistant


async def wait_for(api: Api, town: str, kind: str) -> None:
    ministry = api.auth(Role.MINISTRY, municipality="LV", user="lm-1")

    async def raised() -> bool:
        found = await api.http.get("/reminders", headers=ministry, params={"kind": kind, "municipality": town})
        return bool(found.json()["items"])
    await eventually(raised, 30)


def first_monday_after(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7)


async def build(api: Api) -> Book:
    """Two municipalities, four assistants through their phases, twelve cases through their steps,
    hours in two quarters and last quarter's reports (one submitted): see the comments for what each adds."""
    from fractions import Fraction

    from famassist.schedules import ensure_quarterly_schedule

    a, b = (f"M{uuid.uuid4().hex[:6].upper()}" for _ in range(2))  # report workflow ids are global per town
    book = Book(towns=(a, b))
    do = Builder(api, book)
    ga1 = await do.pilot(a, "1.0", 10, "full_service")
    ga2 = await do.pilot(a, "0.5", 2, "limited_service")
    ga3 = await do.pilot(b, "1.0", 10, "full_service")
    await do.nominee(a)

    # --- municipality A ---
    c1 = await do.case(a, 90)  # decided late (45 days), served 30 days, closed, followed up
    await do.decide(c1, "family", 45)
    await do.refer(c1, ga1, 40)
    c2 = await do.case(a, 20)  # granted 10 days ago, waiting for a referral
    await do.decide(c2, "family", 10)
    c3 = await do.case(a, 250)  # a youth in service since 230 days: the review is overdue
    await do.decide(c3, "youth", 240)
    await do.refer(c3, ga1, 230)
    c3.status = "review_due"
    book.reminders += [Reminder(a, "review_due", True), Reminder(a, "review_overdue", True)]
    c4 = await do.case(a, 30)  # refused
    await do.decide(c4, "adult", 29, granted=False)
    await do.case(a, 40)  # registered only: the decision reminders are raised and overdue
    book.reminders += [Reminder(a, "decision_due", True), Reminder(a, "decision_overdue", True)]
    await do.case(a, 0, control=True)  # RES-1: a control-group client
    c7 = await do.case(a, 20)  # with the limited-service assistant; the risk rises to high (CAP-3)
    await do.decide(c7, "family", 15)
    await do.refer(c7, ga2, 5, start=False)
    await do.post(f"/cases/{c7.case_id}/significant-changes", a, {"description": NOTE, "child_safety_risk": "high"},
                  api.auth(Role.ASSISTANT, municipality=a, user=ga2))
    c7.urgent = c7.reassign = True
    book.reminders += [Reminder(a, "significant_change", True), Reminder(a, "needs_reassignment", True)]

    # --- municipality B ---
    c8 = await do.case(b, 90)  # in service
    await do.decide(c8, "family", 80)
    await do.refer(c8, ga3, 70)
    c9 = await do.case(b, 250)  # extended once: in its second period now
    await do.decide(c9, "family", 240)
    await do.refer(c9, ga3, 230)
    c10 = await do.case(b, 30)  # referred, then the client withdrew before the service began
    await do.decide(c10, "family", 25)
    await do.refer(c10, ga3, 20, start=False)
    c11 = await do.case(b, 100)  # decided late (50 days), served 42 days, closed: the follow-up is due
    await do.decide(c11, "family", 50)
    await do.refer(c11, ga3, 45)
    c12 = await do.case(b, 25)  # registered 25 days ago: reminded, not yet overdue
    book.reminders.append(Reminder(b, "decision_due", False))
    assert c12.case_id

    # --- hours: last quarter's (for its report) and this quarter's ---
    quarter = Quarter.of(riga_today()).previous()
    monday = first_monday_after(quarter.starts_on + timedelta(days=35))
    await do.log(a, ga1, monday, "8", "service", c3)
    await do.log(a, ga1, monday + timedelta(days=1), "8", "service", c3)
    await do.log(a, ga1, monday + timedelta(days=2), "2", "training", None)
    await do.log(a, ga1, ago(20), "3", "service", c1)
    await do.log(b, ga3, monday, "6.5", "service", c9)
    await do.log(b, ga3, monday + timedelta(days=1), "1.5", "other", None)
    await do.log(b, ga3, ago(2), "2.25", "service", c8)

    # --- steps after the hours (HRS-3: never dated before logged work) ---
    await do.close(c1, "goals_achieved", 10)
    await do.close(c10, "client_withdrew", 15)
    await do.close(c11, "moved_away", 3)
    book.reminders.append(Reminder(b, "follow_up_due", True))
    await wait_for(api, b, "review_due")  # c9's first period ended: review due, then extended
    await do.post(f"/cases/{c9.case_id}/extension", b, {"reason": NOTE})
    c9.periods, c9.status = 2, "in_service"

    async def follow_up() -> bool:
        answer = await api.http.post(f"/cases/{c1.case_id}/follow-up", headers=do.sw(a), json={"note": NOTE})
        return answer.status_code == 200
    await eventually(follow_up, 30)
    c1.follow_up_done = True

    # --- last quarter's reports: A's submitted, B's left a draft (overdue, with its reminders) ---
    schedule = f"reports-{a}"
    await ensure_quarterly_schedule(api.temporal.client, api.settings, schedule)
    handle = api.temporal.client.get_schedule_handle(schedule)
    try:
        await handle.trigger()
        for town in (a, b):
            async def drafted(town: str = town) -> bool:
                answer = await api.http.get(f"/reports/{town}-{quarter.label}", headers=api.auth(
                    Role.MINISTRY, municipality="LV", user="lm-1"))
                return answer.status_code == 200 and answer.json()["snapshot_version"] > 0
            await eventually(drafted, 30)
    finally:
        await handle.delete()
    head = api.auth(Role.SERVICE_HEAD, municipality=a, user=f"head-{a.lower()}")
    await do.post(f"/reports/{a}-{quarter.label}/submission", a, {}, head)
    book.reports = {a: (quarter, "submitted"), b: (quarter, "draft")}
    book.reminders += [Reminder(b, "report_due", True), Reminder(b, "report_overdue", True)]
    await wait_for(api, b, "report_overdue")

    # RES-2: every case's first research assessment is due on its application day, raised with the
    # registration, and escalated the grace days later; a closure or a refusal resolves both.
    grace = timedelta(days=api.settings.research_assessment_grace_days)
    for case in book.cases:
        if case.status == "closed" or (case.decided is not None and not case.granted):  # closed or refused
            continue
        late = case.applied + grace <= riga_today()  # the due reminder's deadline has passed
        book.reminders.append(Reminder(case.town, "research_assessment_due", late))
        if late:
            book.reminders.append(Reminder(case.town, "research_assessment_overdue", True))

    # CAP-2 weights of the clients each assistant holds now
    book.pilots[ga1].load = Fraction(1, 6)  # c3, a youth (c1 closed)
    book.pilots[ga2].load = Fraction(1, 4)  # c7, flagged but held until it is referred again
    book.pilots[ga3].load = Fraction(1, 4) * 2  # c8, c9 (c10, c11 closed)
    return book
