"""An assistant's way through the round (§3): order, nomination, interview, contract, training,
a load amendment at month 4 (PH-3), and each week's visits and hours for their clients (HRS-1).

An assistant records the week's visits at once (each in its own client's case) and then logs
their hours one after another, in the order of the visits' days, so HRS-2's day and week limits
judge the entries in the same order on every run of a seed. A visit's record does not depend on
the assistant's timesheet (nor on the other clients' visits), and an entry's hours are logged
only when its visit was recorded, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import date, timedelta

from domain.calendar import add_months
from famassist.simulation.people import MINISTRY, PROVIDER, People, Refused, assistant, head, social_worker
from famassist.simulation.scenario import TRAINING_WEEK, AssistantPlan, MunicipalityPlan

MODULES = ["module_1", "module_2", "module_3", "module_4", "module_5"]


async def join(people: People, municipality: MunicipalityPlan, day0: date) -> None:
    """MUN-1: the ministry records the municipality and its agreement."""
    await people.call(MINISTRY, "PUT", f"/municipalities/{municipality.code}",
                      {"name": municipality.name, "population": municipality.population})
    await people.call(MINISTRY, "POST", f"/municipalities/{municipality.code}/agreement",
                      {"number": f"LM-{municipality.code}", "signed_on": str(day0 - timedelta(days=30))})


@dataclass
class AssistantCourse:
    plan: AssistantPlan
    training_starts_on: date = date.min
    amended: bool = False
    visits: list[tuple[str, int, date, str]] = field(default_factory=list)  # this week's: case id, key, day, hours

    async def start(self, people: People, day0: date) -> None:
        """MUN-2, PH-1, 000 §3, PH-2/PH-3: order, nomination, interview, contract (training in a week)."""
        a, code = self.plan.assistant_id, self.plan.municipality
        self.training_starts_on = day0 + timedelta(weeks=TRAINING_WEEK)
        await people.call(head(code), "POST", f"/municipalities/{code}/orders",
                          {"assistant_id": a, "number": f"R-{a}", "issued_on": str(day0)})
        await people.call(head(code), "POST", "/assistants", {
            "assistant_id": a, "full_name": f"Assistant {a}", "education_level": "vocational_secondary",
            "cv_received": True, "motivation_letter_received": True})
        await people.call(PROVIDER, "POST", f"/assistants/{a}/interview", {
            "held_on": str(day0), "result": "suitable", "online": True,
            "social_worker_present_id": social_worker(code)[1]})
        await people.call(head(code), "POST", f"/assistants/{a}/contract", {
            "signed_on": str(day0), "fte": "0.5", "training_starts_on": str(self.training_starts_on)})

    async def week(self, people: People, week: int, today: date) -> None:
        visits = sorted(self.visits, key=lambda v: (v[2], v[1]))
        self.visits.clear()
        recorded = asyncio.gather(*(self._visit(people, case_id, day) for case_id, _key, day, _hours in visits))
        try:
            await self._training(people, week, today)
            if self.plan.full_time and not self.amended and today >= add_months(self.training_starts_on, 3):
                await people.call(head(self.plan.municipality), "POST",
                                  f"/assistants/{self.plan.assistant_id}/fte-amendments",
                                  {"effective_from": str(today), "fte": "1.0"})
                self.amended = True
        except Refused:
            pass  # counted by People
        await self._log_hours(people, [v for v, ok in zip(visits, await recorded, strict=True) if ok])

    async def _training(self, people: People, week: int, today: date) -> None:
        """PH-4: a module a week in month 1 (its attendance recorded once); the child-rights course after."""
        a = self.plan.assistant_id
        n = week - TRAINING_WEEK
        if 0 <= n < 5:
            await people.call(PROVIDER, "POST", f"/assistants/{a}/training",
                              {"attended_on": str(today), "module": MODULES[n], "hours": "12"})
        elif 5 <= n < 5 + self.plan.child_rights_hours // 10:
            await people.call(PROVIDER, "POST", f"/assistants/{a}/training",
                              {"attended_on": str(today), "module": "child_rights", "hours": "10"})

    async def _visit(self, people: People, case_id: str, day: date) -> bool:
        me = assistant(self.plan.assistant_id, self.plan.municipality)
        try:
            await people.call(me, "POST", f"/cases/{case_id}/visits", {
                "visited_on": str(day), "summary": "A home visit (simulated)."})
        except Refused:
            return False  # counted by People
        return True

    async def _log_hours(self, people: People, visits: list[tuple[str, int, date, str]]) -> None:
        """HRS-2: the entries one after another, in the visits' order."""
        a, code = self.plan.assistant_id, self.plan.municipality
        me = assistant(a, code)
        for case_id, _key, day, hours in visits:
            with contextlib.suppress(Refused):  # counted by People (HRS-2 over 8 h a day, …)
                await people.call(me, "POST", f"/assistants/{a}/timesheet", {
                    "worked_on": str(day), "hours": hours, "kind": "service", "case_id": case_id})
