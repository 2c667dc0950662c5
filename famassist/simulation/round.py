"""The round, week by week: the server's clock skips a week at a time (its timers fire on the
way), and in each week everyone acts at once (asyncio.gather, no limit), in turns so a seed gives
the same round every time:

1. assistants log the week's visits and hours (the quarter's hours are in before its report);
2. at the same time: each municipality refers its granted cases in turn (its assistants' loads
   settled during the skip), social workers take their cases' other steps, and the quarters'
   reports take theirs. None of these changes what another reads: a referral's answer depends on
   the assistants' clients, which only referrals and closures change, and a report reads hours;
3. closures, which free assistants' places, after the week's referrals.

The wall time each turn took, summed over the weeks, is among the figures (``turn_seconds``):
a turn ends with its slowest chain of requests, so it says where the round waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

from domain.calendar import add_months, local_date
from domain.quarters import Quarter
from famassist.logs import configure_logging
from famassist.simulation.assistants import AssistantCourse, join
from famassist.simulation.cases import CaseCourse, refer_in_turn
from famassist.simulation.day_zero import day_zero_noon, plan_label
from famassist.simulation.environment import Stage, stage
from famassist.simulation.figures import Figures, collect
from famassist.simulation.people import People
from famassist.simulation.reports import ReportCourse, start_reports
from famassist.simulation.scenario import Options, build
from persistence.db import make_engine, session_factory

TAIL_WEEKS = 12  # after the last week: the last quarter's report is submitted, approved and paid


async def _noon(st: Stage) -> None:
    """Weeks start at noon in Riga, so a week's day never turns over while people act; day 0 is
    always on the same calendar, so a seed gives the same round on any day at any hour (day_zero)."""
    now = await st.clock.catch_up()
    await st.clock.skip(day_zero_noon(now) - now)


class Turns:
    """The wall time of each turn, summed over the round."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def timed(self, turn: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[turn] = self.seconds.get(turn, 0.0) + time.perf_counter() - started


def quiet_logs() -> None:
    """For the command and the benchmark: the API logs every request, the SDK every refused reservation."""
    configure_logging("console", "WARNING")
    logging.getLogger("temporalio").setLevel(logging.ERROR)


async def simulate(options: Options, workdir: Path | None = None) -> Figures:
    """Run one round; the figures printed by ``famassist simulate``."""
    scenario = build(options)
    started, turns = time.perf_counter(), Turns()
    async with stage(options.settings, workdir, options.worker_processes) as st:
        people = People(st.http, st.settings, options.in_flight)
        await _noon(st)
        first = await st.clock.catch_up()
        day0 = local_date(first)
        end = add_months(day0, 12 * options.years)
        assistants = [AssistantCourse(plan) for plan in scenario.assistants]
        with turns.timed("joining"):
            await asyncio.gather(*(join(people, m, day0) for m in scenario.municipalities))
            await asyncio.gather(*(a.start(people, day0) for a in assistants))
        cases = [CaseCourse(plan) for plan in scenario.cases]
        reports: list[ReportCourse] = []
        quarter = Quarter.of(day0)
        codes = [m.code for m in scenario.municipalities]
        week, now = 0, first
        while week < options.weeks + TAIL_WEEKS:
            today = local_date(now)
            people.new_day()
            serving = week < options.weeks
            closing = [c for c in cases if c.closes(today)] if serving else []
            if serving:
                with turns.timed("assistants"):
                    await _assistants_turn(people, cases, assistants, week, today)
            with turns.timed("referrals, steps and reports"):
                while quarter.ends_on < today and quarter.ends_on <= end:
                    reports += [ReportCourse(report_id=r, municipality=r.rsplit("-", 1)[0], quarter=quarter,
                                             plan=scenario.report_plan(r.rsplit("-", 1)[0],
                                                                       plan_label(quarter, day0)),
                                             started_week=week)
                                for r in await start_reports(st.env, st.settings, quarter, codes)]
                    quarter = quarter.next()
                await asyncio.gather(
                    *((_referrals_and_steps(people, st, cases, closing, week, today),) if serving else ()),
                    *(r.act(people, week, today) for r in reports if r.status != "paid"))
            if serving:
                with turns.timed("closures"):
                    await asyncio.gather(*(c.week(people, st.settings, week, today) for c in closing))
            if week >= options.weeks and all(r.status == "paid" for r in reports):
                break
            with turns.timed("clock"):
                now = await st.clock.skip(timedelta(days=7))
            week += 1
        last = await st.clock.catch_up()
        with session_factory(make_engine(st.settings.database_url))() as session:
            figures = collect(session, last)
    figures.municipalities, figures.assistants = len(scenario.municipalities), len(assistants)
    figures.refusals, figures.requests, figures.unexpected = people.refusals, people.answers, people.unexpected
    figures.simulated_days = (local_date(last) - day0).days
    figures.wall_seconds = time.perf_counter() - started
    figures.turn_seconds = turns.seconds
    figures.worker_cpu_seconds = [w.cpu_seconds for w in st.workers if w.cpu_seconds is not None]
    return figures


async def _assistants_turn(people: People, cases: list[CaseCourse], assistants: list[AssistantCourse],
                           week: int, today: date) -> None:
    by_id = {a.plan.assistant_id: a for a in assistants}
    for case in cases:
        case.plan_visit(week, today, lambda c, day, hours: by_id[c.referred_to or ""].visits.append(
            (c.case_id, c.plan.key, day, hours)))
    await asyncio.gather(*(a.week(people, week, today) for a in assistants))


async def _referrals_and_steps(people: People, st: Stage, cases: list[CaseCourse], closing: list[CaseCourse],
                               week: int, today: date) -> None:
    """The week's referrals and the cases' other steps, at once; the ``closing`` cases wait for the referrals."""
    granted: dict[str, list[CaseCourse]] = defaultdict(list)
    for case in cases:
        if case.step == "granted":
            granted[case.plan.municipality].append(case)
    stepping = [c for c in cases if c.step != "granted" and c not in closing]
    await asyncio.gather(*(refer_in_turn(people, waiting, week, today) for waiting in granted.values()),
                         *(c.week(people, st.settings, week, today) for c in stepping))
