"""Random walks through the case state machine (DOMAIN.md §5, CASE-1, CASE-4, RES-1, RES-2).

Hypothesis draws sequences of (step, actor, time advance): every step of
domain/case_rules.py, by every kind of actor, plus the timers firing, with time
moving forward only. Each step is applied as the workflow does (the applying
function, inside ``try/except RuleViolation``) and the invariants below are checked
after every step. Four draws in five are steered towards steps that fit the case's
status (by a case manager, or the case's assistant), so that walks reach service,
review, extension, closure and follow-up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain import case_rules as rules
from domain import case_timers as timers
from domain import research_rules as research
from domain.calendar import days, local_date, start_of_day
from domain.case_commands import Command, TaskProgress
from domain.case_model import (
    SERVING,
    STUDY_CLOSURES,
    Assessment,
    CaseStatus,
    ChildSafetyRisk,
    ClosureReason,
    Decision,
)
from domain.case_state import CaseChange, CaseState, ReminderKind
from domain.errors import RuleViolation
from domain.research import due_on
from domain.roles import CASE_MANAGERS, SYSTEM_ACTOR, Actor, Role
from tests.domain._case_helpers import (
    APPLIED_ON,
    KNOWN_RULES,
    NOW,
    OTHER_ASSISTANT,
    ack_cmd,
    adult_assessment,
    assess_cmd,
    change_cmd,
    close_cmd,
    decide_cmd,
    dump,
    extend_cmd,
    follow_up_cmd,
    handover_cmd,
    new_case,
    refer_cmd,
    research_case,
    research_cmd,
    start_cmd,
    visit_cmd,
)
from tests.factories import ASSISTANT, SERVICE_HEAD, SOCIAL_WORKER, family_assessment, plan

S = CaseStatus
FIRE = "fire_timers"
RESEARCH = "record_research_assessment"  # RES-2
MANAGER_STEPS = frozenset({"assess", "decide", "refer", "start_service", "acknowledge_alerts", "extend", "close",
                           "record_follow_up", "handover", RESEARCH})
ASSISTANT_STEPS = frozenset({"record_visit", "report_significant_change"})
ALL_STEPS = sorted(MANAGER_STEPS | ASSISTANT_STEPS | {FIRE})
ACTORS = [SOCIAL_WORKER, SERVICE_HEAD, ASSISTANT, OTHER_ASSISTANT, Actor(user_id="lm-1", role=Role.MINISTRY),
          SYSTEM_ACTOR]
ADVANCES = [timedelta(0), timedelta(hours=1), days(1), days(7), days(20), days(45), days(100), days(200)]

# §5's order: the status changes each step may make (staying put is always allowed).
MOVES: dict[str, set[tuple[CaseStatus, CaseStatus]]] = {
    "assess": {(S.REGISTERED, S.ASSESSED)},
    "decide": {(S.ASSESSED, S.DECIDED)},
    "refer": {(S.DECIDED, S.REFERRED)},
    "start_service": {(S.REFERRED, S.IN_SERVICE)},
    "extend": {(S.REVIEW_DUE, S.EXTENDED)},
    "close": {(status, S.CLOSED) for status in S if status is not S.CLOSED},
    # the review reminder, and a pending period starting (a late one may be due for review at once);
    # RES-2: the study's end closes a control-group case
    FIRE: {(S.IN_SERVICE, S.REVIEW_DUE), (S.EXTENDED, S.IN_SERVICE), (S.EXTENDED, S.REVIEW_DUE),
           (S.REGISTERED, S.CLOSED), (S.ASSESSED, S.CLOSED)},
}

# Steps that may fit a status, weighted towards §5's next step: where the steered draws look.
FITTING: dict[CaseStatus, list[str]] = {
    S.REGISTERED: ["assess"] * 6 + ["handover", FIRE, "close", RESEARCH],
    S.ASSESSED: ["decide"] * 6 + ["assess", FIRE, "close", RESEARCH],
    S.DECIDED: ["refer"] * 6 + [FIRE, "close", RESEARCH],
    S.REFERRED: ["start_service"] * 4 + ["report_significant_change", "acknowledge_alerts", FIRE, "close", RESEARCH],
    S.IN_SERVICE: ["record_visit", "report_significant_change", "report_significant_change", "acknowledge_alerts",
                   "acknowledge_alerts", "handover", FIRE, FIRE, FIRE, FIRE, "close", RESEARCH, RESEARCH],
    S.REVIEW_DUE: ["extend"] * 4 + ["record_visit", "report_significant_change", FIRE, "close", RESEARCH],
    S.EXTENDED: ["record_visit", "report_significant_change", "acknowledge_alerts", FIRE, FIRE, FIRE, "close",
                 RESEARCH],
    S.CLOSED: ["record_follow_up", "handover", FIRE, FIRE, RESEARCH],
}
FITTING_STEPS = {status: st.sampled_from(names) for status, names in FITTING.items()}
ANY_STEP = st.sampled_from(ALL_STEPS)
ANY_ACTOR = st.sampled_from(ACTORS)
MANAGER = st.sampled_from([SOCIAL_WORKER, SERVICE_HEAD])
STEERED = st.sampled_from([True, True, True, True, False])
ADVANCE = st.sampled_from(ADVANCES)
ASSESSMENTS = st.sampled_from([
    family_assessment(ChildSafetyRisk.LOW), family_assessment(ChildSafetyRisk.MEDIUM),
    family_assessment(ChildSafetyRisk.HIGH), adult_assessment(),
])
LIKELY = st.sampled_from([True, True, True, False])
DECISIONS = st.sampled_from([Decision.GRANTED, Decision.GRANTED, Decision.GRANTED, Decision.REFUSED])
ASSISTANT_IDS = st.sampled_from([ASSISTANT.user_id, ASSISTANT.user_id, OTHER_ASSISTANT.user_id])
START_OFFSETS = st.sampled_from([0, 7, 30, -30, -400])
VISIT_OFFSETS = st.sampled_from([0, 3])
PROGRESS = st.sampled_from([(), (0,), (0, 1)])
RISKS = st.sampled_from([None, ChildSafetyRisk.LOW, ChildSafetyRisk.MEDIUM, ChildSafetyRisk.HIGH])
EXTENSION_MONTHS = st.sampled_from([None, 1, 6])
NEW_PLAN = st.booleans()
REASONS = st.sampled_from(list(ClosureReason))
RESEARCH_OFFSETS = st.sampled_from([None, 0, 1, 400])  # days before now; None: today
STUDY_ENDS = st.sampled_from([None, 10, 200, 700])  # days after the application
NEW_MANAGERS = st.sampled_from(["sw-cesis-1", "sw-cesis-2", "head-cesis"])


@dataclass(frozen=True)
class Step:
    check: Callable[..., object]
    apply: Callable[[CaseState, Any, datetime], CaseChange]
    command: Callable[[st.DataObject, Actor, datetime], Command]
    timed: bool = False  # the check takes ``now`` too (and checks the step's day)


def _assessment(data: st.DataObject) -> Assessment:
    base = data.draw(ASSESSMENTS)
    return base.model_copy(update={"service_needed": data.draw(LIKELY), "client_motivated": data.draw(LIKELY)})


def _research_day(data: st.DataObject, now: datetime) -> date | None:
    offset = data.draw(RESEARCH_OFFSETS)
    return None if offset is None else local_date(now) - days(offset)


STEPS: dict[str, Step] = {
    "assess": Step(rules.check_assess, rules.assess, lambda d, a, now: assess_cmd(a, _assessment(d))),
    "decide": Step(rules.check_decide, rules.decide, lambda d, a, now: decide_cmd(a, d.draw(DECISIONS))),
    "refer": Step(rules.check_refer, rules.refer, lambda d, a, now: refer_cmd(a, d.draw(ASSISTANT_IDS))),
    "start_service": Step(rules.check_start_service, rules.start_service, lambda d, a, now: start_cmd(
        a, local_date(now) + days(d.draw(START_OFFSETS)))),
    "record_visit": Step(rules.check_record_visit, rules.record_visit, lambda d, a, now: visit_cmd(
        a, local_date(now) - days(d.draw(VISIT_OFFSETS)),
        [TaskProgress(task_index=i, note="progress") for i in d.draw(PROGRESS)])),
    "report_significant_change": Step(rules.check_report_significant_change, rules.report_significant_change,
                                      lambda d, a, now: change_cmd(a, d.draw(RISKS))),
    "acknowledge_alerts": Step(rules.check_acknowledge_alerts, rules.acknowledge_alerts,
                               lambda d, a, now: ack_cmd(a)),
    "extend": Step(rules.check_extend, rules.extend, lambda d, a, now: extend_cmd(
        a, d.draw(EXTENSION_MONTHS), plan(local_date(now)) if d.draw(NEW_PLAN) else None)),
    "close": Step(rules.check_close, rules.close, lambda d, a, now: close_cmd(a, d.draw(REASONS))),
    "record_follow_up": Step(rules.check_record_follow_up, rules.record_follow_up,
                             lambda d, a, now: follow_up_cmd(a)),
    RESEARCH: Step(research.check_record_research_assessment, research.record_research_assessment,
                   lambda d, a, now: research_cmd(a, _research_day(d, now)), timed=True),
    "handover": Step(rules.check_handover, rules.handover, lambda d, a, now: handover_cmd(a, d.draw(NEW_MANAGERS))),
}


@dataclass
class Walk:
    state: CaseState
    now: datetime = NOW
    changes: list[CaseChange] = field(default_factory=list)
    successes: set[str] = field(default_factory=set)


def draw_step(data: st.DataObject, state: CaseState) -> tuple[str, Actor]:
    if data.draw(STEERED, label="steered"):
        name = data.draw(FITTING_STEPS[state.status], label="step")
        if name in MANAGER_STEPS:
            return name, data.draw(MANAGER, label="actor")
        return name, ASSISTANT if name in ASSISTANT_STEPS else SYSTEM_ACTOR
    return data.draw(ANY_STEP, label="step"), data.draw(ANY_ACTOR, label="actor")


def take_step(walk: Walk, data: st.DataObject) -> None:
    walk.now += data.draw(ADVANCE, label="advance")
    state, now = walk.state, walk.now
    name, actor = draw_step(data, state)
    before, status_before, finished_before = dump(state), state.status, state.finished
    assigned_before = state.assistant_id

    if name == FIRE:
        changes = rules.fire_timers(state, now)
        wake = timers.next_wake(state)
        assert wake is None or wake > now, "a timer that was due is left unfired"
    else:
        step = STEPS[name]
        command = step.command(data, actor, now)
        try:  # the workflow's Update validator
            step.check(state, command, now) if step.timed else step.check(state, command)
            verdict = None
        except RuleViolation as violation:
            verdict = violation.rule
        assert dump(state) == before, f"check of {name} changed the state"
        try:
            change = step.apply(state, command, now)
        except RuleViolation as violation:
            assert violation.rule == verdict, "the check and the step disagree"
            assert violation.rule in KNOWN_RULES
            assert str(violation).startswith(f"{violation.rule}: ")
            assert dump(state) == before, f"a refused {name} changed the state"
            return
        assert verdict is None, "the check refused a step that then succeeded"
        changes = [change]
        walk.successes.add(name)
        # CASE-1: only a case manager manages the case; only its assistant reports on it.
        if name in MANAGER_STEPS:
            assert actor.role in CASE_MANAGERS, f"{actor.role} succeeded at {name}"
        else:
            assert actor.role is Role.ASSISTANT and actor.user_id == assigned_before
        assert change.actor == actor

    # Once finished, every step is refused and the timers have nothing to do.
    if finished_before:
        assert changes == [] and dump(state) == before, f"{name} changed a finished case"

    # CASE-4: one change per seq number, consecutive, stamped with the step's time.
    first = len(walk.changes) + 1
    assert [c.seq for c in changes] == list(range(first, first + len(changes)))
    walk.changes += changes
    assert state.seq == len(walk.changes)
    for change in changes:
        assert change.at == now
        assert all(r.raised_at is not None for r in change.raised)
        assert all(r.resolved_at is not None for r in change.resolved)

    # §5: the status only moves along the order of steps; closed is final.
    assert isinstance(state.status, CaseStatus)
    if state.status is not status_before:
        assert (status_before, state.status) in MOVES.get(name, set()), f"{name}: {status_before} → {state.status}"

    check_state(state)


def check_state(state: CaseState) -> None:
    # Resolved reminders are dropped from the state; the rest are unique.
    assert all(r.resolved_at is None for r in state.reminders)
    assert len({r.reminder_id for r in state.reminders}) == len(state.reminders)
    # RES-1: a control-group case never gets an assistant.
    if state.control_group:
        assert state.assistant_id is None
        assert state.status not in {S.REFERRED, *SERVING}
    # The pieces each status carries.
    assert (state.pending_period is not None) == (state.status is S.EXTENDED)
    if state.status in SERVING:
        assert state.periods and state.plan is not None and state.assistant_id is not None
    if state.status in {S.DECIDED, S.REFERRED, *SERVING}:
        assert state.decision is not None and state.assessment is not None
    assert [p.number for p in state.periods] == list(range(1, len(state.periods) + 1))
    assert all(b.starts_on == a.ends_on + days(1) for a, b in zip(state.periods, state.periods[1:], strict=False))
    if state.decision is Decision.REFUSED:
        assert state.finished
    if state.finished:
        assert state.reminders == [] and timers.next_wake(state) is None
    check_research(state)


def check_research(state: CaseState) -> None:
    """RES-2: one assessment due at a time, with its reminder and escalation, until the case closes."""
    research = state.research
    kinds = [r.kind for r in state.reminders if r.kind in timers.RESEARCH_REMINDERS]
    if state.closure_reason in STUDY_CLOSURES:
        assert state.control_group
    if research is None:
        assert kinds == []
        return
    if state.control_group:
        assert state.decision is None, "a control-group case stays open for its assessments"
    if state.status is S.CLOSED or state.decision is Decision.REFUSED:
        assert research.next_due_on is None and kinds == []
        return
    t = state.timings
    assert t.research_assessment_months is not None
    expected = due_on(state.applied_on, research.next_number, t.research_assessment_months)
    if t.study_ends_on is not None and expected >= t.study_ends_on:
        assert research.next_due_on is None and kinds == []
        return
    assert research.next_due_on == expected
    due = start_of_day(expected)
    late = due + days(t.research_assessment_grace_days)
    assert sorted((r.kind, r.raise_at, r.due_at) for r in state.reminders if r.kind in timers.RESEARCH_REMINDERS) == [
        (ReminderKind.RESEARCH_ASSESSMENT_DUE, due, late), (ReminderKind.RESEARCH_ASSESSMENT_OVERDUE, late, late)]


@settings(max_examples=150, deadline=None)
@given(data=st.data(), control_group=st.sampled_from([False, False, False, True]),
       length=st.integers(min_value=1, max_value=40))
def test_every_walk_keeps_the_case_invariants(data: st.DataObject, control_group: bool, length: int) -> None:
    walk = Walk(new_case(control_group=control_group))
    check_state(walk.state)
    for _ in range(length):
        take_step(walk, data)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), control_group=st.booleans(), study_end=STUDY_ENDS,
       length=st.integers(min_value=1, max_value=40))
def test_res2_every_walk_with_research_assessments_keeps_the_case_invariants(
        data: st.DataObject, control_group: bool, study_end: int | None, length: int) -> None:
    ends_on = None if study_end is None else APPLIED_ON + days(study_end)
    walk = Walk(research_case(control_group=control_group, study_ends_on=ends_on))
    check_state(walk.state)
    for _ in range(length):
        take_step(walk, data)
        state = walk.state
        if ends_on is not None and control_group and walk.now >= start_of_day(ends_on) \
                and timers.next_wake(state) is None:
            assert state.status is S.CLOSED  # RES-2: the study's end closed it (or the case was closed before)
    recorded = [c for c in walk.changes if c.action == "research_assessed"]
    assert [c.details["number"] for c in recorded] == list(range(1, len(recorded) + 1))
    days_assessed = [date.fromisoformat(c.details["assessed_on"]) for c in recorded]
    assert days_assessed == sorted(days_assessed)
    assert all(c.details["control_group"] is control_group for c in recorded)


def test_steered_walks_reach_every_step() -> None:
    """The walk above is worth its time only if it reaches the late steps of §5."""
    reached: set[str] = set()

    @settings(max_examples=100, deadline=None, database=None, derandomize=True)
    @given(data=st.data())
    def walk_once(data: st.DataObject) -> None:
        walk = Walk(research_case() if data.draw(st.booleans(), label="research") else new_case())
        for _ in range(40):
            take_step(walk, data)
        reached.update(walk.successes)

    walk_once()
    assert reached == MANAGER_STEPS | ASSISTANT_STEPS
