"""A client's case through the round (§5): application, assessment, decision, referral, service
start, the assistant's visits, review (extension or closure) and the follow-up after closure.

Referrals go through :func:`refer_in_turn`: a municipality's social service refers one case after
another, trying its assistants in a fixed rotation; a refusal names its rule (CAP-1…CAP-5) and the
next assistant is asked. Municipalities refer at the same time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from domain.calendar import add_months
from domain.case_timers import service_period
from famassist.settings import Settings
from famassist.simulation.people import Caller, People, Refused, items, social_worker
from famassist.simulation.scenario import CasePlan

SERVING = {"limited_service", "full_service"}  # CAP-1
ATTEMPTS = 2  # assistants a social worker asks for one case in a week
Visit = Callable[["CaseCourse", date, str], None]


@dataclass
class CaseCourse:
    plan: CasePlan
    case_id: str = ""
    step: str = "waiting"  # waiting, registered, assessed, granted, referred, serving, closed, done
    referred_to: str | None = None
    step_week: int = 0
    starts_on: date = date.min
    period_end: date = date.min
    period: int = 0
    closed_on: date = date.min

    @property
    def sw(self) -> Caller:
        return social_worker(self.plan.municipality)

    async def week(self, people: People, settings: Settings, week: int, today: date) -> None:
        with contextlib.suppress(Refused):  # counted by People; the social worker tries again next week
            await self._step(people, settings, week, today)

    async def _step(self, people: People, settings: Settings, week: int, today: date) -> None:
        path = f"/cases/{self.case_id}"
        sw = social_worker(self.plan.municipality)
        if self.step == "waiting" and week >= self.plan.arrival_week:
            opened = await people.call(sw, "POST", "/cases", {
                "full_name": f"Client {self.plan.key}", "personal_code": f"32{self.plan.key:09d}", "consent": True})
            self.case_id, self.step, self.step_week = opened["case"]["case_id"], "registered", week
        elif self.step == "registered" and week > self.step_week:
            await people.call(sw, "POST", f"{path}/assessment", {"assessment": self.plan.assessment})
            self.step, self.step_week = "assessed", week
        elif self.step == "assessed" and week > self.step_week:
            granted = self.plan.granted
            await people.call(sw, "POST", f"{path}/decision", {
                "decision": "granted" if granted else "refused", "reasons": "Assessed (simulated)."})
            self.step, self.step_week = ("granted" if granted else "done"), week
        elif self.step == "referred" and week > self.step_week:
            await people.call(sw, "POST", f"{path}/service-start", {"starts_on": str(today)})
            self.starts_on, self.period = today, 1
            self.period_end = service_period(1, today, settings.service_period_months).ends_on
            self.step, self.step_week = "serving", week
        elif self.step == "serving":
            await self._serve(people, settings, week, today)
        elif self.step == "closed" and today > add_months(self.closed_on, settings.follow_up_months):
            await people.call(sw, "POST", f"{path}/follow-up", {"note": "Doing well (simulated)."})
            self.step = "done"

    def plan_visit(self, week: int, today: date, visit: Visit) -> None:
        """The assistant's visit this week, on the weeks the case's plan has one (logged in their turn)."""
        served_weeks = week - self.step_week - 1
        if self.step != "serving" or served_weeks < 0 or served_weeks % self.plan.every:
            return
        n = min(served_weeks // self.plan.every, len(self.plan.hours) - 1)
        visit(self, max(today - timedelta(days=self.plan.visit_days[n]), self.starts_on), self.plan.hours[n])

    def _review_due(self, today: date) -> bool:
        """§5.6: the review falls due 12 days before the period ends (a late one 9 days after, escalated)."""
        return today >= self.period_end + timedelta(days=9 if self.plan.late_review else -12)

    def closes(self, today: date) -> bool:
        """This week's step is the closure (it frees the assistant's place: the round takes it after the
        week's referrals)."""
        return self.step == "serving" and self._review_due(today) and not (self.plan.extended and self.period == 1)

    async def _serve(self, people: People, settings: Settings, week: int, today: date) -> None:
        """The review when it falls due (§5.6; a late one after the escalation), then extension or closure."""
        if not self._review_due(today):
            return
        path = f"/cases/{self.case_id}"
        if self.plan.extended and self.period == 1:
            await people.call(self.sw, "POST", f"{path}/extension", {"reason": "Goals in progress (simulated)."})
            self.period = 2
            self.period_end = service_period(2, self.period_end + timedelta(days=1),
                                             settings.extension_period_months).ends_on
        else:
            await people.call(self.sw, "POST", f"{path}/closure", {
                "reason": self.plan.closure, "note": "Reviewed (simulated)."})
            self.step, self.closed_on = "closed", today


async def refer_in_turn(people: People, cases: list[CaseCourse], week: int, today: date) -> None:
    """One municipality's referrals of the week, one after another (CAP-6 decides each).

    The social worker reads the municipality's assistants (phase, load, capacity) and asks those
    serving with room, least loaded first, at most ``ATTEMPTS`` a week (then the case waits a week);
    the workflow's check names what it refuses (CAP-2 by weight, CAP-3…CAP-5).
    """
    for case in cases:
        listing = items(await people.call(case.sw, "GET", "/assistants"))  # its municipality's few
        room = sorted((a for a in listing if a["phase"] in SERVING and Fraction(a["load"]) < Fraction(a["capacity"])),
                      key=lambda a: (Fraction(a["load"]) / Fraction(a["capacity"]), a["assistant_id"]))
        for candidate in room[:ATTEMPTS]:
            try:
                await people.call(case.sw, "POST", f"/cases/{case.case_id}/referral", {
                    "assistant_id": candidate["assistant_id"], "primary_information": "Simulated referral.",
                    "plan": _plan(today, case.sw[1])})
            except Refused:
                continue  # counted by People
            case.referred_to, case.step, case.step_week = candidate["assistant_id"], "referred", week
            break


def _plan(today: date, responsible: object) -> dict[str, object]:
    return {"goals": ["Keep a monthly budget"], "expected_results": ["No arrears for three months"],
            "tasks": [{"description": "Draw up the budget", "due_on": str(today + timedelta(days=30)),
                       "responsible": "assistant"}], "responsible": str(responsible)}
