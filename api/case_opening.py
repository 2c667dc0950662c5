"""Opening a case all or nothing (§5.1, CASE-6): the row, the client's data and the workflow.

The row and the client's data are written in one transaction, marked unfinished;
then the workflow is started under an id derived from the case id, and the row is
marked complete (so is it by the workflow's first projected change). A crash in
between leaves an unfinished row that nobody sees (lists and reads skip it): a retry
with the same ``Idempotency-Key`` derives the same case id and completes it, and
:func:`repair_unfinished_openings` completes (if its workflow runs after all) or
removes (if it never started) any the callers left behind.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import anyio
import structlog
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from persistence.db import SessionFactory
from persistence.models import CaseClient, CaseRecord
from workflows.client_case import MUNICIPALITY, CaseInput, ClientCaseWorkflow, case_workflow_id

log = structlog.get_logger(__name__)


def write_application(session: Session, row: CaseRecord, client: CaseClient) -> CaseRecord:
    """Write the unfinished row and the client's data at once; the row already there on a retry."""
    found = session.get(CaseRecord, row.case_id)
    if found is not None:
        return found
    row.workflow_started = False
    session.add(row)
    session.flush()
    session.add(client)
    try:
        session.commit()
    except IntegrityError:  # a concurrent retry of the same request wrote it first
        session.rollback()
        found = session.get(CaseRecord, row.case_id)
        if found is None:
            raise
        return found
    return row


async def start_case_workflow(temporal: Client, row: CaseRecord, case_input: CaseInput, task_queue: str) -> None:
    """Start the case's workflow, or find it started (a retry); never a second run for one case."""
    # it may have run and finished before this retry: then the case is complete
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await temporal.start_workflow(
            ClientCaseWorkflow.run, case_input, id=case_workflow_id(row.case_id), task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            search_attributes=TypedSearchAttributes([SearchAttributePair(MUNICIPALITY, row.municipality)]),
        )


def mark_started(session: Session, case_id: str) -> None:
    session.exec(update(CaseRecord).where(col(CaseRecord.case_id) == case_id)
                 .values(workflow_started=True))
    session.commit()


@dataclass
class RepairReport:
    completed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


async def repair_unfinished_openings(sessions: SessionFactory, temporal: Client, *, older_than: timedelta,
                                     now: datetime, batch: int = 100) -> RepairReport:
    """Complete or remove case openings left unfinished for longer than ``older_than``.

    A row whose workflow runs is marked complete; a row whose workflow never started is
    removed with the client's data (the caller had no answer; a retry with the same key
    opens it again). Nothing is decided while Temporal cannot say which.
    """

    def unfinished() -> list[str]:
        with sessions() as session:
            return list(session.exec(select(CaseRecord.case_id).where(
                col(CaseRecord.workflow_started).is_(False), col(CaseRecord.created_at) <= now - older_than)
                .limit(batch)).all())

    report = RepairReport()
    for case_id in await anyio.to_thread.run_sync(unfinished):
        try:
            await temporal.get_workflow_handle(case_workflow_id(case_id)).describe()
            started = True
        except RPCError as exc:
            if exc.status is not RPCStatusCode.NOT_FOUND:
                log.warning("unfinished case opening left for later: temporal unavailable", case_id=case_id)
                continue
            started = False
        if started:
            await anyio.to_thread.run_sync(_complete, sessions, case_id)
            log.info("unfinished case opening completed: its workflow runs", case_id=case_id)
            report.completed.append(case_id)
        elif await anyio.to_thread.run_sync(_remove, sessions, case_id):
            log.warning("unfinished case opening removed: its workflow never started", case_id=case_id)
            report.removed.append(case_id)
    return report


def _complete(sessions: SessionFactory, case_id: str) -> None:
    with sessions() as session:
        mark_started(session, case_id)


def _remove(sessions: SessionFactory, case_id: str) -> bool:
    with sessions() as session:
        row = session.get(CaseRecord, case_id)
        if row is None or row.workflow_started:
            return False
        session.exec(delete(CaseClient).where(col(CaseClient.case_id) == case_id))
        session.exec(delete(CaseRecord).where(col(CaseRecord.case_id) == case_id,
                                              col(CaseRecord.workflow_started).is_(False)))
        session.commit()
        return True
