"""How many clients an assistant may hold (DOMAIN.md §4, CAP-1…CAP-5, CAP-7): every worked
number of §4, then properties checked against an independent statement of the rules."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.case_model import ChildSafetyRisk, TargetGroup
from domain.caseload import (
    WEIGHTS,
    CaseloadLimits,
    CaseloadViolation,
    ClientLoad,
    capacity_of,
    caseload_violations,
    fte_change_violations,
    load_of,
)
from domain.pilot_phase import END_PHASES, SERVING_PHASES, AssistantPhase

FULL = AssistantPhase.FULL_SERVICE
LIMITED = AssistantPhase.LIMITED_SERVICE
FAMILY = TargetGroup.FAMILY_WITH_CHILDREN
ADULT = TargetGroup.ADULT_WITH_MENTAL_DISORDER
YOUTH = TargetGroup.YOUTH_LEAVING_CARE

_ids = itertools.count(1)


def client(
    group: TargetGroup = FAMILY,
    *,
    risk: ChildSafetyRisk | None = None,
    multiple: bool = False,
    independent: bool = False,
    case_id: str | None = None,
) -> ClientLoad:
    if group is FAMILY and risk is None:
        risk = ChildSafetyRisk.LOW
    return ClientLoad(
        case_id=case_id or f"case-{next(_ids)}",
        target_group=group,
        child_safety_risk=risk,
        multiple_social_problems=multiple,
        partially_independent=independent,
    )


def many(n: int, group: TargetGroup, *, multiple: bool = False, independent: bool = False) -> list[ClientLoad]:
    return [client(group, multiple=multiple, independent=independent) for _ in range(n)]


def rules(violations: Sequence[CaseloadViolation]) -> list[str]:
    return [v.rule for v in violations]


def check(phase: AssistantPhase, fte: str, current: Sequence[ClientLoad], candidate: ClientLoad) -> list[str]:
    return rules(caseload_violations(phase, Decimal(fte), current, candidate))


# --- the phases (§3) ---------------------------------------------------------------


def test_phases_serving_and_end_phases_are_as_in_the_table_of_section_3():
    assert [p.value for p in AssistantPhase] == [
        "nominated",
        "interviewed",
        "rejected",
        "contracted",
        "training",
        "limited_service",
        "full_service",
        "completed",
        "withdrawn",
    ]
    assert {"limited_service", "full_service"} == set(SERVING_PHASES)
    assert {"rejected", "completed", "withdrawn"} == set(END_PHASES)


# --- CAP-1 -------------------------------------------------------------------------


@pytest.mark.parametrize("phase", [p for p in AssistantPhase if p not in SERVING_PHASES])
def test_cap1_an_assistant_outside_the_service_phases_takes_no_client(phase: AssistantPhase):
    violations = caseload_violations(phase, Decimal("1.0"), [], client())
    assert rules(violations) == ["CAP-1"]
    assert violations[0].numbers == {"phase": phase.value}
    assert phase.value in violations[0].message


@pytest.mark.parametrize("phase", sorted(SERVING_PHASES))
def test_cap1_an_assistant_in_a_service_phase_takes_a_low_risk_client(phase: AssistantPhase):
    assert check(phase, "0.3", [], client()) == []


# --- CAP-2 -------------------------------------------------------------------------


def test_cap2_weights_are_a_quarter_a_quarter_and_a_sixth():
    assert {FAMILY: Fraction(1, 4), ADULT: Fraction(1, 4), YOUTH: Fraction(1, 6)} == WEIGHTS
    assert client(FAMILY).weight == Fraction(1, 4)
    assert client(ADULT).weight == Fraction(1, 4)
    assert client(YOUTH).weight == Fraction(1, 6)


def test_cap2_weights_are_exact_so_six_youths_make_exactly_one_full_time_assistant():
    assert load_of(many(6, YOUTH)) == 1
    assert load_of(many(3, YOUTH)) == Fraction(1, 2)
    assert capacity_of(Decimal("0.3")) == Fraction(3, 10)
    assert capacity_of(Decimal("1.0")) == 1


@pytest.mark.parametrize(("group", "fits"), [(FAMILY, 4), (ADULT, 4), (YOUTH, 6)])
def test_cap2_at_full_time_an_assistant_takes_four_families_or_four_adults_or_six_youths(group: TargetGroup, fits: int):
    held: list[ClientLoad] = []
    for _ in range(fits):
        assert check(FULL, "1.0", held, client(group)) == []
        held.append(client(group))
    violations = caseload_violations(FULL, Decimal("1.0"), held, client(group))
    assert rules(violations) == ["CAP-2"]
    adding = WEIGHTS[group]
    assert violations[0].numbers == {
        "used": "1",
        "adding": str(adding),
        "total": str(1 + adding),
        "capacity": "1",
    }
    assert violations[0].message == f"weights 1 + {adding} = {1 + adding} exceed the FTE 1"


@pytest.mark.parametrize(("group", "fits"), [(FAMILY, 2), (ADULT, 2), (YOUTH, 3)])
@pytest.mark.parametrize("phase", [LIMITED, FULL])
def test_cap2_at_half_time_two_families_two_adults_or_three_youths(
    phase: AssistantPhase, group: TargetGroup, fits: int
):
    held = many(fits, group)
    assert load_of(held) == Fraction(1, 2)
    assert check(phase, "0.5", held[:-1], held[-1]) == []
    violations = caseload_violations(phase, Decimal("0.5"), held, client(group))
    assert rules(violations) == ["CAP-2"]
    assert violations[0].numbers["capacity"] == "1/2"
    assert "exceed the FTE 0.5" in violations[0].message


def test_cap2_at_0_3_fte_one_family_fits_and_a_second_does_not():
    assert check(LIMITED, "0.3", [], client()) == []
    assert check(LIMITED, "0.3", [client()], client()) == ["CAP-2"]
    # but a youth (1/6) and another youth (1/3 > 3/10) likewise: one youth only
    assert check(LIMITED, "0.3", [client(YOUTH)], client(YOUTH)) == ["CAP-2"]


def test_cap2_fte_change_is_refused_when_the_current_load_exceeds_the_new_fte():
    held = many(3, FAMILY)  # 3/4
    assert fte_change_violations(Decimal("0.8"), held) == []
    assert fte_change_violations(Decimal("0.75"), held) == []
    violations = fte_change_violations(Decimal("0.5"), held)
    assert rules(violations) == ["CAP-2"]
    assert violations[0].numbers == {"used": "3/4", "capacity": "1/2"}
    assert "3/4" in violations[0].message and "0.5" in violations[0].message
    assert fte_change_violations(Decimal("0.3"), []) == []


# --- CAP-3 -------------------------------------------------------------------------


def test_cap3_in_limited_service_a_family_with_high_child_safety_risk_is_refused():
    violations = caseload_violations(LIMITED, Decimal("0.5"), [], client(risk=ChildSafetyRisk.HIGH))
    assert rules(violations) == ["CAP-3"]
    assert "high child-safety risk" in violations[0].message
    assert violations[0].numbers["child_safety_risk"] == "high"


@pytest.mark.parametrize("group", list(TargetGroup))
def test_cap3_in_limited_service_a_client_with_multiple_social_problems_is_refused(group: TargetGroup):
    violations = caseload_violations(LIMITED, Decimal("0.5"), [], client(group, multiple=True))
    assert rules(violations) == ["CAP-3"]
    assert "multiple social problems" in violations[0].message


@pytest.mark.parametrize("risk", [ChildSafetyRisk.LOW, ChildSafetyRisk.MEDIUM])
def test_cap3_in_limited_service_low_or_medium_child_safety_risk_is_allowed(risk: ChildSafetyRisk):
    assert check(LIMITED, "0.5", [], client(risk=risk)) == []


def test_cap3_in_full_service_high_risk_and_multiple_problems_are_allowed():
    assert check(FULL, "0.5", [], client(risk=ChildSafetyRisk.HIGH)) == []
    assert check(FULL, "0.5", [], client(ADULT, multiple=True)) == []


def test_cap3_high_child_safety_risk_always_implies_multiple_social_problems():
    assert client(risk=ChildSafetyRisk.HIGH).has_multiple_problems
    assert client(risk=ChildSafetyRisk.HIGH, multiple=False).multiple_social_problems is False
    assert not client(risk=ChildSafetyRisk.MEDIUM).has_multiple_problems
    assert client(YOUTH, multiple=True).has_multiple_problems


# --- CAP-4 -------------------------------------------------------------------------


def test_cap4_at_full_time_three_families_with_multiple_problems_fit_and_a_fourth_is_refused_by_cap4_alone():
    held: list[ClientLoad] = []
    for _ in range(3):
        candidate = client(multiple=True)
        assert check(FULL, "1.0", held, candidate) == []
        held.append(candidate)
    # CAP-2 would still allow a fourth family (4 × 1/4 = 1): only CAP-4 refuses it.
    assert check(FULL, "1.0", held, client()) == []
    violations = caseload_violations(FULL, Decimal("1.0"), held, client(risk=ChildSafetyRisk.HIGH))
    assert rules(violations) == ["CAP-4"]
    assert violations[0].numbers == {"count": "4", "max": "3"}
    assert violations[0].message == "4 clients with multiple social problems exceed the maximum 3"


def test_cap4_a_fourth_client_with_multiple_problems_is_refused_even_with_room():
    held = many(3, YOUTH, multiple=True)  # 1/2 of 1.0
    assert check(FULL, "1.0", held, client(YOUTH, multiple=True)) == ["CAP-4"]
    assert check(FULL, "1.0", held, client(YOUTH)) == []


def test_cap4_the_limit_comes_from_the_caller():
    held = many(3, YOUTH, multiple=True)
    loose = CaseloadLimits(max_multiple_problem_clients=4)
    assert caseload_violations(FULL, Decimal("1.0"), held, client(YOUTH, multiple=True), loose) == []


# --- CAP-5 -------------------------------------------------------------------------


def test_cap5_clients_of_mixed_target_groups_three_fit_and_a_fourth_is_refused():
    held = [client(FAMILY), client(YOUTH), client(ADULT)]  # 2/3
    assert check(FULL, "1.0", held[:2], held[2]) == []
    violations = caseload_violations(FULL, Decimal("1.0"), held, client(YOUTH))  # 5/6 fits CAP-2
    assert rules(violations) == ["CAP-5"]
    assert violations[0].numbers == {"clients": "4", "target_groups": "3", "partially_independent": "0", "max": "3"}


def test_cap5_mixed_target_groups_with_one_partially_independent_client_still_three():
    held = [client(FAMILY, independent=True), client(YOUTH), client(ADULT)]
    assert check(FULL, "1.0", held, client(YOUTH)) == ["CAP-5"]


def test_cap5_with_two_partially_independent_clients_four_fit_and_a_fifth_is_refused():
    held = [client(FAMILY), client(YOUTH, independent=True), client(ADULT)]
    fourth = client(YOUTH, independent=True)
    assert check(FULL, "1.0", held, fourth) == []
    held.append(fourth)  # 5/6
    violations = caseload_violations(FULL, Decimal("1.0"), held, client(YOUTH, independent=True))  # 1: CAP-2 ok
    assert rules(violations) == ["CAP-5"]
    assert violations[0].numbers["max"] == "4"
    assert violations[0].numbers["partially_independent"] == "3"


def test_cap5_adding_a_second_target_group_to_four_families_is_refused():
    held = many(3, FAMILY)
    assert check(FULL, "1.0", held, client(YOUTH)) == ["CAP-5"]


@pytest.mark.parametrize(("group", "fits"), [(FAMILY, 4), (ADULT, 4), (YOUTH, 6)])
def test_cap5_a_single_target_group_is_not_limited_by_cap5(group: TargetGroup, fits: int):
    held = many(fits - 1, group)
    assert check(FULL, "1.0", held, client(group)) == []


# --- CAP-7 -------------------------------------------------------------------------


def test_cap7_a_refusal_names_every_rule_it_breaks_limited_service_full_and_high_risk():
    held = [client()]  # 1/4 of 0.3
    violations = caseload_violations(LIMITED, Decimal("0.3"), held, client(risk=ChildSafetyRisk.HIGH))
    assert rules(violations) == ["CAP-2", "CAP-3"]
    assert violations[0].message == "weights 1/4 + 1/4 = 1/2 exceed the FTE 0.3"
    assert violations[0].numbers["capacity"] == "3/10"


def test_cap7_a_refusal_names_four_rules_in_rule_order():
    held = [*many(3, YOUTH, multiple=True), client(ADULT, independent=True)]  # 3/4, mixed, 3 multiple
    candidate = client(FAMILY, risk=ChildSafetyRisk.HIGH)
    assert check(LIMITED, "0.8", held, candidate) == ["CAP-2", "CAP-3", "CAP-4", "CAP-5"]


def test_cap7_outside_the_service_phases_cap1_is_named_with_the_other_broken_rules():
    assert check(AssistantPhase.WITHDRAWN, "0.3", [client()], client()) == ["CAP-1", "CAP-2"]


def test_a_case_already_held_is_not_a_new_client():
    held = many(4, FAMILY)
    assert check(FULL, "1.0", held, held[2]) == []
    same_case = client(YOUTH, case_id=held[0].case_id)
    assert check(FULL, "1.0", held, same_case) == []


def test_a_violation_serializes_as_plain_strings():
    violation = caseload_violations(FULL, Decimal("1.0"), many(4, FAMILY), client())[0]
    dumped = violation.model_dump(mode="json")
    assert dumped["rule"] == "CAP-2"
    assert all(isinstance(v, str) for v in dumped["numbers"].values())
    assert CaseloadViolation.model_validate(dumped) == violation


# --- properties --------------------------------------------------------------------

FTES = [Decimal(f"0.{n}") for n in range(3, 10)] + [Decimal("1.0")]
LIMITS = CaseloadLimits()


@st.composite
def client_facts(draw: st.DrawFn) -> dict[str, object]:
    group = draw(st.sampled_from(list(TargetGroup)))
    risk = draw(st.sampled_from(list(ChildSafetyRisk))) if group is FAMILY else None
    return {
        "target_group": group,
        "child_safety_risk": risk,
        "multiple_social_problems": draw(st.booleans()),
        "partially_independent": draw(st.booleans()),
    }


def client_lists(max_size: int = 12) -> st.SearchStrategy[list[ClientLoad]]:
    return st.lists(client_facts(), max_size=max_size).map(
        lambda facts: [ClientLoad(case_id=f"p-{i}", **f) for i, f in enumerate(facts)]
    )


phases = st.sampled_from(list(AssistantPhase))
ftes = st.sampled_from(FTES)


def broken_rules(phase: AssistantPhase, fte: Decimal, clients: Sequence[ClientLoad]) -> set[str]:
    """An independent statement of §4: which rules a whole caseload breaks."""
    broken = set()
    if clients and phase not in (LIMITED, FULL):
        broken.add("CAP-1")
    if sum(Fraction(1, 6) if c.target_group is YOUTH else Fraction(1, 4) for c in clients) > Fraction(str(fte)):
        broken.add("CAP-2")
    hard = [c for c in clients if c.multiple_social_problems or c.child_safety_risk == "high"]
    if phase is LIMITED and hard:
        broken.add("CAP-3")
    if len(hard) > 3:
        broken.add("CAP-4")
    if len({c.target_group for c in clients}) > 1:
        independent = sum(c.partially_independent for c in clients)
        if len(clients) > (4 if independent >= 2 else 3):
            broken.add("CAP-5")
    return broken


def fill(phase: AssistantPhase, fte: Decimal, candidates: Sequence[ClientLoad]) -> list[ClientLoad]:
    """Greedy filling: take each candidate only when the check accepts it."""
    held: list[ClientLoad] = []
    for candidate in candidates:
        if not caseload_violations(phase, fte, held, candidate):
            held.append(candidate)
    return held


@settings(deadline=None)
@given(phase=phases, fte=ftes, candidates=client_lists(16))
def test_property_greedy_filling_never_exceeds_any_limit(phase, fte, candidates):
    held = fill(phase, fte, candidates)
    assert broken_rules(phase, fte, held) == set()
    assert load_of(held) <= capacity_of(fte)
    assert sum(c.has_multiple_problems for c in held) <= 3
    if phase not in SERVING_PHASES:
        assert held == []


@settings(deadline=None)
@given(phase=phases, fte=ftes, candidates=client_lists(16), extra=client_facts())
def test_property_cap7_a_valid_caseload_accepts_a_client_iff_no_rule_breaks_and_names_exactly_the_broken_rules(
    phase, fte, candidates, extra
):
    held = fill(phase, fte, candidates)
    candidate = ClientLoad(case_id="new", **extra)
    violations = caseload_violations(phase, fte, held, candidate)
    expected = broken_rules(phase, fte, [*held, candidate])
    assert set(rules(violations)) == expected
    assert rules(violations) == sorted(rules(violations))  # rule order
    assert len(set(rules(violations))) == len(violations)  # each rule once
    if not violations:
        after = [*held, candidate]
        assert load_of(after) <= capacity_of(fte)
        assert sum(c.has_multiple_problems for c in after) <= LIMITS.max_multiple_problem_clients
        if len({c.target_group for c in after}) > 1:
            independent = sum(c.partially_independent for c in after)
            bound = (
                LIMITS.mixed_group_max_with_partially_independent
                if independent >= LIMITS.partially_independent_needed
                else LIMITS.mixed_group_max_clients
            )
            assert len(after) <= bound


@settings(deadline=None)
@given(phase=phases, fte=ftes, current=client_lists(), extra=client_facts(), data=st.data())
def test_property_the_answer_does_not_depend_on_the_order_of_current(phase, fte, current, extra, data):
    candidate = ClientLoad(case_id="new", **extra)
    shuffled = data.draw(st.permutations(current))
    assert caseload_violations(phase, fte, current, candidate) == caseload_violations(phase, fte, shuffled, candidate)


@settings(deadline=None)
@given(phase=phases, fte=ftes, current=client_lists(), data=st.data())
def test_property_a_candidate_already_in_current_is_accepted(phase, fte, current, data):
    if not current:
        return
    candidate = data.draw(st.sampled_from(current))
    assert caseload_violations(phase, fte, current, candidate) == []


@settings(deadline=None)
@given(fte=ftes, current=client_lists())
def test_property_cap2_an_fte_change_is_allowed_iff_the_load_fits_it(fte, current):
    violations = fte_change_violations(fte, current)
    assert (violations == []) == (load_of(current) <= Fraction(str(fte)))
    assert rules(violations) in ([], ["CAP-2"])


@settings(deadline=None)
@given(counts=st.tuples(st.integers(0, 12), st.integers(0, 12), st.integers(0, 12)))
def test_property_cap2_weights_are_exact_fractions(counts):
    families, adults, youths = counts
    held = many(families, FAMILY) + many(adults, ADULT) + many(youths, YOUTH)
    assert load_of(held) == Fraction(families + adults, 4) + Fraction(youths, 6)
    assert isinstance(load_of(held), Fraction)
