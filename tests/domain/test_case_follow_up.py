"""§5.8: the follow-up check is recorded when it falls due, not at closure."""

from __future__ import annotations

import pytest

from domain import case_rules as rules
from domain.calendar import days
from domain.case_state import ReminderKind
from domain.errors import RuleViolation
from tests.domain._case_helpers import IN_SERVICE_AT, closed_case, follow_up_cmd, follow_up_due_case


def test_the_follow_up_is_refused_before_its_reminder_is_raised() -> None:
    state = closed_case()
    before = state.model_dump()
    with pytest.raises(RuleViolation) as refused:
        rules.record_follow_up(state, follow_up_cmd(), IN_SERVICE_AT + days(1))
    assert refused.value.rule == "CASE-STATE" and "due from" in refused.value.message
    assert state.model_dump() == before


def test_the_follow_up_is_recorded_once_due_and_resolves_its_reminder() -> None:
    state = follow_up_due_case()
    change = rules.record_follow_up(state, follow_up_cmd(), IN_SERVICE_AT + days(101))
    assert state.follow_up_done and state.finished
    assert [r.kind for r in change.resolved] == [ReminderKind.FOLLOW_UP_DUE]
