"""The coded export's pure rules (RES-3): pseudonyms, months, steps, scores."""

from __future__ import annotations

import hashlib
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from domain.research_export import (
    DEFAULT_DOMAINS,
    AssessmentFacts,
    CaseFacts,
    CaseSteps,
    ExportTable,
    assessment_columns,
    client_row,
    columns_of,
    first_day,
    last_day,
    month_of,
    pseudonym,
)

CASE = CaseFacts(case_id="c-1", municipality="CESIS", status="closed", control_group=False,
                 applied_on=date(2026, 1, 10), target_group="family_with_children", child_safety_risk="high",
                 decision="granted", urgent=True, needs_reassignment=False, visits=3, closure_reason="moved_away",
                 follow_up_done=False)


@given(st.uuids().map(str) | st.text(min_size=1, max_size=36))
def test_res3_a_pseudonym_is_stable_keyed_and_never_the_plain_hash(case_id: str) -> None:
    one = pseudonym(b"key-one", case_id)
    assert one == pseudonym(b"key-one", case_id) and len(one) == 64
    assert one != pseudonym(b"key-two", case_id)
    assert one != hashlib.sha256(case_id.encode()).hexdigest()
    assert len(case_id) < 8 or case_id not in one


def test_res3_months_are_the_finest_dates_and_bound_a_range() -> None:
    assert month_of(date(2026, 2, 28)) == "2026-02" and month_of(None) is None
    assert (first_day("2024-02"), last_day("2024-02")) == (date(2024, 2, 1), date(2024, 2, 29))
    assert last_day("9999-12") == date(9999, 12, 31)


def test_res3_the_steps_give_months_durations_in_days_and_service_days() -> None:
    steps = CaseSteps()
    steps.add("assessed", date(2026, 1, 20), {"assessed_on": "2026-01-15", "assessment": {
        "opinion": "free text", "multiple_social_problems": False, "partially_independent": True}})
    steps.add("decision_granted", date(2026, 2, 1), {"decided_on": "2026-01-30"})
    steps.add("referred", date(2026, 2, 5), {"referred_on": "2026-02-04", "plan": {"goals": ["free text"]}})
    steps.add("service_started", date(2026, 2, 6), {"period": {"number": 1, "starts_on": "2026-02-06",
                                                               "ends_on": "2026-08-05"}})
    steps.add("re-referred", date(2026, 3, 1), {"referred_on": "2026-03-01"})
    steps.add("closed", date(2026, 3, 12), {"closed_on": "2026-03-10"})
    row = client_row(b"k", CASE, steps, today=date(2026, 11, 24))
    assert row["needs_assessed_month"] == "2026-01" and row["decided_month"] == "2026-01"
    assert row["referred_month"] == "2026-02" and row["referrals"] == 2 and row["closed_month"] == "2026-03"
    assert row["days_to_decision"] == 20 and row["days_decision_to_referral"] == 5
    assert row["service_days"] == 33 and row["service_end_month"] == "2026-03"  # 6 Feb … 10 Mar
    assert row["multiple_social_problems"] is True  # §4: a high child-safety risk implies it
    assert row["partially_independent"] is True and row["group"] == "service"
    assert set(row) == {name for name, _ in columns_of(ExportTable.CLIENTS)}
    assert "free text" not in str(row) and "c-1" not in str(row)


def test_res3_an_open_period_counts_service_days_up_to_today() -> None:
    steps = CaseSteps(periods=[(date(2026, 11, 1), date(2027, 4, 30))])
    assert steps.service_days(date(2026, 11, 24)) == 24
    assert CaseSteps().service_days(date(2026, 11, 24)) is None


def test_res2_scores_are_one_to_five_or_null_one_column_per_domain() -> None:
    scores = {"housing": 5, "health": None, "employment": 9, "education": True, "unknown": 3}
    found = AssessmentFacts(number=2, due_on=date(2026, 7, 10), assessed_on=date(2026, 7, 14),
                            control_group=True, scores=scores)
    row = assessment_columns(CASE, found, DEFAULT_DOMAINS)
    assert row["score_housing"] == 5 and row["score_health"] is None
    assert row["score_employment"] is None and row["score_education"] is None  # never passed through
    assert "score_unknown" not in row and row["assessment_days_late"] == 4
    assert row["assessment_group"] == "control" and row["assessment_month"] == "2026-07"
    names = [name for name, _ in columns_of(ExportTable.ASSESSMENTS)]
    assert set(row) | {name for name, _ in columns_of(ExportTable.CLIENTS)} == set(names)
