"""CAP-6: a referral reserves the place through an Update on the assistant's workflow.

A workflow cannot send an Update to another workflow, so the case workflow runs
this activity, which does. Reserving a case already held succeeds again, so a
retried activity never takes two places.

At most :data:`IN_FLIGHT_PER_ASSISTANT` reservations for one assistant are in flight from a worker
process at once; the rest wait in line (issue 8, benchmark (3)). With 16 referrals for one
assistant's last places sent at once, the Temporal server now and then lost the pilot's workflow
tasks ("Task not found when completing" in the worker) and aborted the waiting Updates ("workflow
update was aborted", then sent again): 68-94 aborts in five of six runs, the slowest referral up to
7.8 s. The same happened without the Update's validator, so it is the number of Updates in flight
on one workflow, not their rejection. One at a time: no aborts, but the first loop's referrals to
the same assistant waited for each other (benchmark (2) fell from about 5.8 to 4.9 loops/s at 64
clients). Six, the most clients an assistant can hold: no aborts in the 4 runs of (3) counted, the
slowest referral 2.4-3.5 s in 6 runs, and (2) as before. CAP-6 does not rest on this line: the pilot's workflow decides.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

from temporalio import activity
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from domain.caseload import WEIGHTS
from workflows.assistant_pilot import AssistantPilotWorkflow, assistant_workflow_id
from workflows.case_projection import ReservePlaceRequest

# CAP-2: the most clients one assistant can hold, at 1.0 FTE of the lightest weight (1/6): six.
IN_FLIGHT_PER_ASSISTANT = int(1 / min(WEIGHTS.values()))


class CaseloadActivities:
    def __init__(self, client: Client) -> None:
        self._client = client
        # one line per assistant met by this process (2,500 at national scale): small, kept
        self._in_line: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(IN_FLIGHT_PER_ASSISTANT))

    @activity.defn(name="reserve_place")
    async def reserve_place(self, request: ReservePlaceRequest) -> str:
        """Returns the assistant's load after the reservation; refusals are not retried."""
        handle = self._client.get_workflow_handle(assistant_workflow_id(request.assistant_id))
        try:
            async with self._in_line[request.assistant_id]:
                state = await handle.execute_update(AssistantPilotWorkflow.reserve_place, request.place)
        except WorkflowUpdateFailedError as failed:
            cause = failed.cause
            if isinstance(cause, ApplicationError):
                raise ApplicationError(cause.message, *cause.details, type=cause.type, non_retryable=True) from None
            raise
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:
                raise ApplicationError("the assistant has no running pilot, so cannot serve clients",
                                       {"assistant_id": request.assistant_id}, type="CAP-1",
                                       non_retryable=True) from None
            raise
        return state.load()
