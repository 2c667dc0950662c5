"""CAP-6: a referral reserves the place through an Update on the assistant's workflow.

A workflow cannot send an Update to another workflow, so the case workflow runs
this activity, which does. Reserving a case already held succeeds again, so a
retried activity never takes two places.
"""

from __future__ import annotations

from temporalio import activity
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from workflows.assistant_pilot import AssistantPilotWorkflow, assistant_workflow_id
from workflows.case_projection import ReservePlaceRequest


class CaseloadActivities:
    def __init__(self, client: Client) -> None:
        self._client = client

    @activity.defn(name="reserve_place")
    async def reserve_place(self, request: ReservePlaceRequest) -> str:
        """Returns the assistant's load after the reservation; refusals are not retried."""
        handle = self._client.get_workflow_handle(assistant_workflow_id(request.assistant_id))
        try:
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
