"""The contract load (PH-3) and the caseload step of the pilot (CAP-1…CAP-7 through
domain/pilot_rules.py): amendments, reserving and releasing places, changed clients."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from domain import pilot_rules as rules
from domain.case_model import ChildSafetyRisk, TargetGroup
from domain.caseload import ClientLoad
from domain.pilot import FteAmendment, capacity_fte, fte_on
from domain.pilot_phase import AssistantPhase
from domain.roles import Actor
from tests.domain._pilot_helpers import (
    ALL_ACTORS,
    FULL_FROM,
    HEAD,
    LIMITED_AT,
    LIMITED_FROM,
    SERVING_AT,
    SIGNED_ON,
    START,
    amend_cmd,
    applied,
    at,
    changed_req,
    client,
    contracted,
    dump,
    in_phase,
    interviewed,
    refused,
    release_req,
    reserve_req,
    serving,
)

# --- PH-3: contract amendments ------------------------------------------------------------

@pytest.mark.parametrize(("fte", "effective_from"), [
    ("0.3", LIMITED_FROM), ("0.5", date(2020, 12, 31)), ("1.0", FULL_FROM), ("0.6", date(2021, 6, 1)),
], ids=["0.3 in month 2", "0.5 on the last day of month 3", "1.0 from month 4", "0.6 later"])
def test_ph3_an_amendment_within_the_bounds_of_its_effective_date_is_accepted(fte: str,
                                                                              effective_from: date) -> None:
    state = in_phase(AssistantPhase.TRAINING)
    change = rules.amend_fte(state, amend_cmd(fte, effective_from), at(START, 10))
    assert state.amendments[-1] == FteAmendment(effective_from=effective_from, fte=Decimal(fte))
    assert change.action == "fte_amended"
    assert change.details == {"fte": fte, "effective_from": effective_from.isoformat()}


@pytest.mark.parametrize(("fte", "effective_from", "low", "high"), [
    ("0.6", LIMITED_FROM, "0.3", "0.5"),
    ("0.25", LIMITED_FROM, "0.3", "0.5"),
    ("1.0", date(2020, 12, 31), "0.3", "0.5"),
], ids=["0.6 in month 2", "0.25 in month 2", "1.0 on the last day of month 3"])
def test_ph3_an_amendment_outside_0_3_to_0_5_before_full_service_is_refused(fte: str, effective_from: date,
                                                                           low: str, high: str) -> None:
    state = in_phase(AssistantPhase.TRAINING)
    before = dump(state)
    error = refused(lambda: rules.amend_fte(state, amend_cmd(fte, effective_from), at(START, 10)))
    assert error.rule == "PH-3"
    assert error.details["min"] == low
    assert error.details["max"] == high
    assert dump(state) == before


@pytest.mark.parametrize("actor", [a for a in ALL_ACTORS if a is not HEAD], ids=lambda a: a.role.value)
def test_role_only_the_service_head_amends_the_contract(actor: Actor) -> None:
    state = in_phase(AssistantPhase.TRAINING)
    error = refused(lambda: rules.amend_fte(state, amend_cmd("0.4", LIMITED_FROM, actor), at(START, 10)))
    assert error.rule == "ROLE"


def test_pilot_state_an_amendment_needs_a_contract() -> None:
    state = interviewed()
    assert refused(lambda: rules.amend_fte(state, amend_cmd("0.4", LIMITED_FROM), at(START))).rule == "PILOT-STATE"


def test_ph3_fte_on_picks_the_newest_amendment_in_force() -> None:
    amendments = [FteAmendment(effective_from=SIGNED_ON, fte=Decimal("0.5")),
                  FteAmendment(effective_from=date(2021, 6, 1), fte=Decimal("0.8")),
                  FteAmendment(effective_from=FULL_FROM, fte=Decimal("1.0"))]  # recorded out of date order
    assert fte_on(date(2020, 9, 24), amendments) == 0
    assert fte_on(SIGNED_ON, amendments) == Decimal("0.5")
    assert fte_on(date(2020, 12, 31), amendments) == Decimal("0.5")
    assert fte_on(FULL_FROM, amendments) == Decimal("1.0")
    assert fte_on(date(2021, 5, 31), amendments) == Decimal("1.0")
    assert fte_on(date(2021, 6, 1), amendments) == Decimal("0.8")


def test_ph3_of_two_amendments_from_the_same_day_the_last_recorded_wins() -> None:
    amendments = [FteAmendment(effective_from=FULL_FROM, fte=Decimal("1.0")),
                  FteAmendment(effective_from=FULL_FROM, fte=Decimal("0.7"))]
    assert fte_on(FULL_FROM, amendments) == Decimal("0.7")


def test_ph3_cap2_capacity_takes_a_lower_future_amendment_into_account() -> None:
    amendments = [FteAmendment(effective_from=SIGNED_ON, fte=Decimal("0.5")),
                  FteAmendment(effective_from=FULL_FROM, fte=Decimal("1.0")),
                  FteAmendment(effective_from=date(2021, 6, 1), fte=Decimal("0.5"))]
    assert fte_on(date(2021, 2, 1), amendments) == Decimal("1.0")
    assert capacity_fte(date(2021, 2, 1), amendments) == Decimal("0.5")
    assert capacity_fte(date(2020, 11, 2), amendments) == Decimal("0.5")  # a higher future one does not count
    assert capacity_fte(date(2021, 6, 1), amendments) == Decimal("0.5")


def test_cap2_a_reservation_must_fit_a_lower_load_already_agreed_for_later() -> None:
    state = serving("1.0")
    rules.amend_fte(state, amend_cmd("0.5", date(2021, 6, 1)), SERVING_AT)
    applied(rules.reserve(state, reserve_req(client("c1")), SERVING_AT))
    applied(rules.reserve(state, reserve_req(client("c2")), SERVING_AT))
    error = refused(lambda: rules.reserve(state, reserve_req(client("c3")), SERVING_AT))
    assert error.rule == "CAP-2"
    assert error.details["violations"][0]["numbers"]["capacity"] == "1/2"


# --- CAP-2 for an amendment: never below the current clients' load --------------------------

def test_cap2_an_amendment_below_the_current_clients_load_is_refused_with_the_numbers() -> None:
    state = serving("1.0", clients=(client("c1"), client("c2"), client("c3")))
    before = dump(state)
    error = refused(lambda: rules.amend_fte(state, amend_cmd("0.5", date(2021, 6, 1)), SERVING_AT))
    assert error.rule == "CAP-2"
    assert error.details["rules"] == ["CAP-2"]
    [violation] = error.details["violations"]
    assert violation["rule"] == "CAP-2"
    assert violation["numbers"] == {"used": "3/4", "capacity": "1/2"}
    assert "3/4" in error.message
    assert dump(state) == before


def test_cap2_an_amendment_exactly_at_the_current_load_is_accepted() -> None:
    state = serving("1.0", clients=(client("c1"), client("c2"), client("c3")))
    rules.amend_fte(state, amend_cmd("0.75", date(2021, 6, 1)), SERVING_AT)
    assert state.amendments[-1].fte == Decimal("0.75")


# --- reserving a place (CAP-1…CAP-7) -------------------------------------------------------

@pytest.mark.parametrize(("phase", "moment"), [(AssistantPhase.CONTRACTED, at(SIGNED_ON, 12)),
                                               (AssistantPhase.TRAINING, at(START, 12))],
                         ids=["contracted", "training"])
def test_cap1_no_client_before_limited_service(phase: AssistantPhase, moment: datetime) -> None:
    state = contracted() if phase is AssistantPhase.CONTRACTED else in_phase(phase)
    before = dump(state)
    error = refused(lambda: rules.reserve(state, reserve_req(client("c1")), moment))
    assert error.rule == "CAP-1"
    assert "CAP-1" in error.details["rules"]
    assert dump(state) == before


@pytest.mark.parametrize("load", [client("c1", risk=ChildSafetyRisk.HIGH), client("c1", multiple=True),
                                  client("c1", TargetGroup.ADULT_WITH_MENTAL_DISORDER, multiple=True)],
                         ids=["high child-safety risk", "multiple social problems", "adult, multiple problems"])
def test_cap3_in_limited_service_a_high_risk_client_is_refused(load: ClientLoad) -> None:
    state = in_phase(AssistantPhase.LIMITED_SERVICE)
    before = dump(state)
    error = refused(lambda: rules.reserve(state, reserve_req(load), LIMITED_AT))
    assert error.rule == "CAP-3"
    assert error.details["rules"] == ["CAP-3"]
    assert dump(state) == before


@pytest.mark.parametrize("risk", [ChildSafetyRisk.LOW, ChildSafetyRisk.MEDIUM])
def test_cap3_in_limited_service_a_low_or_medium_risk_family_is_accepted(risk: ChildSafetyRisk) -> None:
    state = in_phase(AssistantPhase.LIMITED_SERVICE)
    change = applied(rules.reserve(state, reserve_req(client("c1", risk=risk)), LIMITED_AT))
    assert state.client_ids() == ["c1"]
    assert change.action == "place_reserved"
    assert change.details == {"case_id": "c1", "load": "1/4"}


def test_cap2_at_0_5_fte_in_limited_service_two_families_fit_and_a_third_does_not() -> None:
    state = in_phase(AssistantPhase.LIMITED_SERVICE)
    applied(rules.reserve(state, reserve_req(client("c1")), LIMITED_AT))
    applied(rules.reserve(state, reserve_req(client("c2")), LIMITED_AT))
    error = refused(lambda: rules.reserve(state, reserve_req(client("c3")), LIMITED_AT))
    assert error.rule == "CAP-2"
    assert state.client_ids() == ["c1", "c2"]


def test_cap2_cap7_at_1_0_fte_four_families_are_accepted_and_the_fifth_is_refused_with_the_numbers() -> None:
    state = serving("1.0")
    for n in range(1, 5):
        applied(rules.reserve(state, reserve_req(client(f"c{n}")), SERVING_AT))
    assert state.load() == "1"
    before = dump(state)
    error = refused(lambda: rules.reserve(state, reserve_req(client("c5")), SERVING_AT))
    assert error.rule == "CAP-2"
    assert error.details["rules"] == ["CAP-2"]
    assert error.details["violations"][0]["numbers"] == {"used": "1", "adding": "1/4", "total": "5/4",
                                                         "capacity": "1"}
    assert dump(state) == before


def test_cap7_a_refusal_names_every_rule_it_breaks() -> None:
    state = in_phase(AssistantPhase.LIMITED_SERVICE)
    applied(rules.reserve(state, reserve_req(client("c1")), LIMITED_AT))
    applied(rules.reserve(state, reserve_req(client("c2")), LIMITED_AT))
    error = refused(lambda: rules.reserve(state, reserve_req(client("c3", risk=ChildSafetyRisk.HIGH)), LIMITED_AT))
    assert error.details["rules"] == ["CAP-2", "CAP-3"]
    assert "CAP-2" in error.message and "CAP-3" in error.message


def test_cap6_re_reserving_a_held_case_returns_none_and_adds_nothing() -> None:
    state = serving("1.0", clients=(client("c1"),))
    before = dump(state)
    assert rules.reserve(state, reserve_req(client("c1")), SERVING_AT) is None
    assert dump(state) == before


def test_cap6_re_reserving_a_held_case_is_idempotent_even_when_the_assistant_is_full() -> None:
    state = serving("1.0", clients=tuple(client(f"c{n}") for n in range(1, 5)))
    assert rules.reserve(state, reserve_req(client("c4")), SERVING_AT) is None
    assert len(state.clients) == 4


def test_release_frees_the_place_and_a_second_release_returns_none() -> None:
    state = serving("1.0", clients=tuple(client(f"c{n}") for n in range(1, 5)))
    change = applied(rules.release(state, release_req("c2"), SERVING_AT))
    assert state.client_ids() == ["c1", "c3", "c4"]
    assert state.load() == "3/4"
    assert change.action == "place_released"
    assert change.reason == "Case closed."
    assert change.details == {"case_id": "c2", "load": "3/4"}
    before = dump(state)
    assert rules.release(state, release_req("c2"), SERVING_AT) is None
    assert dump(state) == before
    applied(rules.reserve(state, reserve_req(client("c5")), SERVING_AT))  # the freed place is taken again
    assert state.load() == "1"


# --- client_changed (CASE-2 with CAP-3) ----------------------------------------------------

def test_cap3_in_limited_service_a_client_raised_to_high_risk_is_flagged_for_reassignment() -> None:
    state = in_phase(AssistantPhase.LIMITED_SERVICE)
    applied(rules.reserve(state, reserve_req(client("c1")), LIMITED_AT))
    applied(rules.reserve(state, reserve_req(client("c2")), LIMITED_AT))
    raised = client("c1", risk=ChildSafetyRisk.HIGH)
    change = applied(rules.client_changed(state, changed_req(raised), LIMITED_AT))
    assert change.flag_cases == ["c1"]
    assert change.flag_rule == "CAP-3"
    assert change.action == "client_changed"
    assert change.details == {"case_id": "c1", "multiple_problems": True}
    assert state.clients[0] == raised


def test_cap3_in_limited_service_a_client_who_stays_low_risk_is_not_flagged() -> None:
    state = in_phase(AssistantPhase.LIMITED_SERVICE)
    applied(rules.reserve(state, reserve_req(client("c1")), LIMITED_AT))
    change = applied(rules.client_changed(state, changed_req(client("c1", risk=ChildSafetyRisk.MEDIUM)),
                                          LIMITED_AT))
    assert change.flag_cases == []
    assert change.flag_rule is None


def test_in_full_service_a_changed_client_updates_the_load_without_flags() -> None:
    state = serving("1.0", clients=(client("c1", TargetGroup.YOUTH_LEAVING_CARE), client("c2")))
    assert state.load() == "5/12"
    family = client("c1", risk=ChildSafetyRisk.HIGH)
    change = applied(rules.client_changed(state, changed_req(family), SERVING_AT))
    assert state.load() == "1/2"
    assert state.clients == [family, client("c2")]
    assert change.flag_cases == []
    assert change.flag_rule is None


def test_a_change_of_an_unknown_case_returns_none() -> None:
    state = serving("1.0", clients=(client("c1"),))
    before = dump(state)
    assert rules.client_changed(state, changed_req(client("c9", risk=ChildSafetyRisk.HIGH)), SERVING_AT) is None
    assert dump(state) == before


def test_cap3_limited_service_ends_at_full_service_so_high_risk_clients_are_then_accepted() -> None:
    state = in_phase(AssistantPhase.LIMITED_SERVICE)
    rules.fire_timers(state, at(FULL_FROM))
    change = rules.reserve(state, reserve_req(client("c1", risk=ChildSafetyRisk.HIGH)), at(FULL_FROM, 10))
    assert change is not None


def test_cap4_a_fourth_client_raised_to_multiple_problems_is_flagged_for_reassignment() -> None:
    state = serving("1.0")
    for n in range(4):
        risk = ChildSafetyRisk.HIGH if n < 3 else ChildSafetyRisk.LOW
        applied(rules.reserve(state, reserve_req(client(f"c{n}", risk=risk)), SERVING_AT))
    raised = ClientLoad(case_id="c3", target_group=TargetGroup.FAMILY_WITH_CHILDREN,
                        child_safety_risk=ChildSafetyRisk.HIGH)
    change = rules.client_changed(state, changed_req(raised), SERVING_AT)
    assert change is not None and change.flag_cases == ["c3"] and change.flag_rule == "CAP-4"
