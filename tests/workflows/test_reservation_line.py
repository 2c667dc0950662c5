"""CAP-6 / issue 8: one assistant's reservations in flight from a worker process are limited.

Sixteen referrals for one assistant's last places at once made the Temporal server lose the
pilot's workflow tasks and abort the waiting Updates, dozens of times, so the refusals answered
after seconds (bench/README.md, benchmark (3)). ``reserve_place`` therefore keeps at most
``IN_FLIGHT_PER_ASSISTANT`` (six, the most clients an assistant can hold) of one assistant's
Updates in flight; different assistants' go out together, and a refusal or a missing pilot frees
its place in line. Run through the activity's own interface (``ActivityEnvironment``) against a
client that counts the Updates in flight.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any, cast

from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import ActivityEnvironment

from activities.caseload import IN_FLIGHT_PER_ASSISTANT, CaseloadActivities
from domain.case_model import TargetGroup
from domain.caseload import ClientLoad
from domain.pilot_commands import ReservePlace
from workflows.case_projection import ReservePlaceRequest
from workflows.messages import assistant_workflow_id


class Load:
    def load(self) -> str:
        return "1/6"


class CountingPilots:
    """Stands in for the Temporal client: each Update takes a moment; counts those in flight."""

    def __init__(self, missing: frozenset[str] = frozenset()) -> None:
        self.in_flight: Counter[str] = Counter()
        self.most: Counter[str] = Counter()
        self.most_at_once = 0
        self.sent: list[str] = []
        self.missing = missing  # case ids whose reservation finds no pilot

    def get_workflow_handle(self, workflow_id: str) -> Handle:
        return Handle(self, workflow_id)


class Handle:
    def __init__(self, pilots: CountingPilots, workflow_id: str) -> None:
        self.pilots, self.workflow_id = pilots, workflow_id

    async def execute_update(self, _update: Any, place: ReservePlace) -> Load:
        pilots = self.pilots
        pilots.in_flight[self.workflow_id] += 1
        pilots.most[self.workflow_id] = max(pilots.most[self.workflow_id], pilots.in_flight[self.workflow_id])
        pilots.most_at_once = max(pilots.most_at_once, sum(pilots.in_flight.values()))
        try:
            await asyncio.sleep(0.01)
            pilots.sent.append(place.case_id)
            if place.case_id in pilots.missing:
                raise RPCError("workflow not found", RPCStatusCode.NOT_FOUND, b"")
            return Load()
        finally:
            pilots.in_flight[self.workflow_id] -= 1


def request(assistant_id: str, case_id: str) -> ReservePlaceRequest:
    return ReservePlaceRequest(assistant_id=assistant_id, place=ReservePlace(
        case_id=case_id, client=ClientLoad(case_id=case_id, target_group=TargetGroup.FAMILY_WITH_CHILDREN)))


async def reserve_all(pilots: CountingPilots, requests: list[ReservePlaceRequest]) -> list[object]:
    activities = CaseloadActivities(cast(Client, pilots))
    env = ActivityEnvironment()
    return await asyncio.gather(*(env.run(activities.reserve_place, r) for r in requests), return_exceptions=True)


def test_cap6_the_line_is_the_most_clients_an_assistant_can_hold() -> None:
    assert IN_FLIGHT_PER_ASSISTANT == 6  # CAP-2: six youths leaving care (1/6 each) at 1.0 FTE


async def test_cap6_one_assistants_reservations_wait_in_line_others_go_together() -> None:
    pilots = CountingPilots()
    many, few = 3 * IN_FLIGHT_PER_ASSISTANT, 2
    answers = await reserve_all(pilots, [request("a-1", f"c{n}") for n in range(many)]
                                + [request("a-2", f"d{n}") for n in range(few)])
    assert answers == ["1/6"] * (many + few)
    assert pilots.most[assistant_workflow_id("a-1")] == IN_FLIGHT_PER_ASSISTANT
    assert pilots.most[assistant_workflow_id("a-2")] == few
    assert pilots.most_at_once == IN_FLIGHT_PER_ASSISTANT + few  # the other assistant did not wait
    assert sorted(pilots.sent) == sorted([f"c{n}" for n in range(many)] + [f"d{n}" for n in range(few)])


async def test_cap6_a_refusal_frees_its_place_in_line() -> None:
    missing = frozenset(f"c{n}" for n in range(IN_FLIGHT_PER_ASSISTANT))  # the whole first batch
    pilots = CountingPilots(missing=missing)
    answers = await reserve_all(pilots, [request("a-1", f"c{n}") for n in range(2 * IN_FLIGHT_PER_ASSISTANT)])
    for refused in answers[:IN_FLIGHT_PER_ASSISTANT]:
        assert isinstance(refused, ApplicationError) and refused.type == "CAP-1" and refused.non_retryable
    assert answers[IN_FLIGHT_PER_ASSISTANT:] == ["1/6"] * IN_FLIGHT_PER_ASSISTANT
    assert pilots.most[assistant_workflow_id("a-1")] == IN_FLIGHT_PER_ASSISTANT
