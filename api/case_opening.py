"""Opening a case all or nothing (§5.1, CASE-6): the row, the client's data and the workflow.

The row, the client's data and the registration (CASE-4, the case's first change) are
written in one transaction, marked unfinished; then the workflow is started under an id
derived from the case id (with nothing left to record before its first step: issue 8,
cheap case starts), and the row is marked complete (so is it by the workflow's first
projected change). A crash in
between leaves an unfinished row that nobody sees (lists and reads skip it): a retry
with the same ``Idempotency-Key`` derives the same case id and completes it (a retry
with other data is refused: the key was used for another application), and
:func:`repair_unfinished_openings` completes any opening the callers left behind by
starting its workflow from the row. Nothing is ever deleted, so a repair and a retry
racing each other both end in the same complete case.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import anyio
import structlog
from sqlalchemy import bindparam, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select
from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from activities.projection import reminder_row
from domain.case_model import CaseStatus
from domain.case_state import CaseChange, CaseState, CaseTimings
from domain.roles import Actor, Role
from famassist.settings import Settings
from persistence.db import SessionFactory
from persistence.models import CaseClient, CaseEvent, CaseLiveState, CaseRecord
from persistence.new_rows import insert_new, table_of
from persistence.unit_of_work import begin_write, lock_name
from workflows.client_case import CASE_STATUS, MUNICIPALITY, CaseInput, ClientCaseWorkflow, case_workflow_id

log = structlog.get_logger(__name__)

# Core statements on the table, compiled once: no ORM preparation per opening (persistence/new_rows.py)
_CASES = table_of(CaseRecord)
_WRITTEN_BEFORE = select(_CASES.c.case_id).where(_CASES.c.case_id == bindparam("case"))
_MARK_STARTED = update(_CASES).where(_CASES.c.case_id == bindparam("opened")).values(workflow_started=True)


@dataclass(frozen=True)
class Application:
    row: CaseRecord
    client: CaseClient | None
    written_now: bool


def write_application(session: Session, row: CaseRecord, client: CaseClient,
                      registration: CaseChange | None = None, state: CaseState | None = None) -> Application:
    """Write the unfinished row and the client's data at once; what is there already on a retry.

    With ``registration`` (CASE-4), the case's first change is written with them, and the row
    as that change leaves it: its workflow then has nothing to record before its first step.
    ``state``: the state the registration leaves, kept for ``GET /cases/{id}``.
    """
    # made before the write lock is taken: SQLite's writers wait in line for it (persistence/write_gate.py)
    event = None if registration is None else CaseEvent(
        case_id=row.case_id, seq=registration.seq, at=registration.at, actor_id=registration.actor.user_id,
        actor_role=registration.actor.role.value, action=registration.action, reason=registration.reason,
        details=registration.details)
    row.workflow_started = False
    new_rows: list[SQLModel] = [row, client]
    if registration is not None and event is not None:
        row.version = registration.seq
        # RES-2: the research assessment due at registration is raised with it
        new_rows += [event, *(reminder_row(r, row.municipality, case_id=row.case_id) for r in registration.raised)]
        if state is not None:  # the row is new: so is its kept state
            new_rows.append(CaseLiveState(case_id=row.case_id, version=registration.seq,
                                          state=state.model_dump(mode="json")))
    begin_write(session)  # one opening of this case at a time, on both databases
    lock_name(session, f"case:{row.case_id}")
    if session.scalar(_WRITTEN_BEFORE, {"case": row.case_id}) is None:
        try:  # new rows, keys of their own: Core INSERTs (persistence/new_rows.py), not the ORM's flush
            insert_new(session, *new_rows)
            session.commit()
            return Application(row, client, written_now=True)
        except IntegrityError:  # a concurrent retry of the same request wrote it first
            session.rollback()
            if session.get(CaseRecord, row.case_id) is None:
                raise
    found = session.get(CaseRecord, row.case_id)
    assert found is not None, "a case row is never removed"
    return Application(found, session.get(CaseClient, found.case_id), written_now=False)


def same_application(kept: Application, client: CaseClient, *, applied_on: object, case_manager_id: object,
                     control_group: bool) -> bool:
    """Whether a retry asks for what was written: the client's data and the fields it gave."""
    row, person = kept.row, kept.client
    return (person is not None
            and (person.full_name, person.personal_code, person.birth_date, person.address)
            == (client.full_name, client.personal_code, client.birth_date, client.address)
            and applied_on in (None, row.applied_on) and case_manager_id in (None, row.case_manager_id)
            and control_group == row.control_group)


def case_timings(settings: Settings) -> CaseTimings:
    """The case durations in force now: fixed for a case when it is opened."""
    return CaseTimings.model_validate(settings.model_dump(include=set(CaseTimings.model_fields)))


def case_input_of(row: CaseRecord, timings: CaseTimings) -> CaseInput:
    """The workflow's input, from the row alone (the repair has nothing else)."""
    registered_by = Actor(user_id=row.registered_by or row.case_manager_id,
                          role=Role(row.registered_by_role or Role.SOCIAL_WORKER.value))
    return CaseInput(case_id=row.case_id, municipality=row.municipality, case_manager_id=row.case_manager_id,
                     applied_on=row.applied_on, registered_by=registered_by, control_group=row.control_group,
                     timings=timings, registered_at=row.created_at)


async def start_case_workflow(temporal: Client, row: CaseRecord, case_input: CaseInput, task_queue: str) -> None:
    """Start the case's workflow, or find it started (a retry); never a second run for one case."""
    # it may have run and finished before this retry: then the case is complete
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await temporal.start_workflow(
            ClientCaseWorkflow.run, case_input, id=case_workflow_id(row.case_id), task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            # started with the status it begins in: its first change upserts nothing (a write fewer per case)
            search_attributes=TypedSearchAttributes([SearchAttributePair(MUNICIPALITY, row.municipality),
                                                     SearchAttributePair(CASE_STATUS, CaseStatus.REGISTERED.value)]),
        )


def mark_started(session: Session, case_id: str) -> None:
    # a Core UPDATE of the table: no row of this session to bring up to date, and the ORM's preparation of
    # its own UPDATE would be CPU spent holding SQLite's write lock
    session.execute(_MARK_STARTED, {"opened": case_id})
    session.commit()


@dataclass
class RepairReport:
    completed: list[str] = field(default_factory=list)


async def repair_unfinished_openings(sessions: SessionFactory, temporal: Client, *, older_than: timedelta,
                                     now: datetime, timings: CaseTimings, task_queue: str,
                                     batch: int = 100) -> RepairReport:
    """Complete the case openings left unfinished for longer than ``older_than``.

    The application was written whole (row and client data), only its workflow may be
    missing: it is started from the row (or found running), and the row marked complete.
    Nothing is decided while Temporal cannot be reached.
    """

    def unfinished() -> list[CaseRecord]:
        with sessions() as session:
            return list(session.exec(select(CaseRecord).where(
                col(CaseRecord.workflow_started).is_(False), col(CaseRecord.created_at) <= now - older_than)
                .limit(batch)).all())

    report = RepairReport()
    for row in await anyio.to_thread.run_sync(unfinished):
        try:
            await start_case_workflow(temporal, row, case_input_of(row, timings), task_queue)
        except RPCError as exc:
            log.warning("unfinished case opening left for later: temporal unavailable", case_id=row.case_id,
                        status=str(exc.status))
            continue
        await anyio.to_thread.run_sync(_complete, sessions, row.case_id)
        log.warning("unfinished case opening completed by the repair", case_id=row.case_id)
        report.completed.append(row.case_id)
    return report


def _complete(sessions: SessionFactory, case_id: str) -> None:
    with sessions() as session:
        mark_started(session, case_id)
