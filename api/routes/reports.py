"""Quarterly reports (HRS-6, HRS-7): lists with totals, the steps, CSV and PDF."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import QueryableAttribute, defer
from sqlmodel import Session, col, select
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from api.acting import step_roles
from api.auth import Principal, PrincipalDep, forbidden, require_roles, roles_acting_in
from api.db_calls import in_thread
from api.deps import SessionDep, SessionsDep, SettingsDep, TemporalDep
from api.document_language import Lang, LangDep
from api.idempotency import RequestKeyDep
from api.pagination import Key, Keyset, Page, PageDep, fetch_page
from api.report_documents import report_csv, report_facts
from api.report_pdf import report_pdf
from api.steps import body_model, run_update, summary_of
from domain import report_state as messages
from domain.case_commands import Command
from domain.errors import RuleViolation
from domain.quarters import Quarter
from domain.report_state import ReportState, ReportStatus
from domain.roles import CASE_MANAGERS, Role
from famassist.schedules import report_timings
from persistence.models import QuarterlyReport, ReportEvent
from workflows.quarterly_report import (
    QuarterlyReportRoundWorkflow,
    QuarterlyReportWorkflow,
    RoundInput,
    report_workflow_id,
)

router = APIRouter(prefix="/reports", tags=["reports"])


class ReportPublic(BaseModel):
    report_id: str
    municipality: str
    year: int
    quarter: int
    status: str
    due_on: str
    service_hours: str
    compensable_hours: str
    amount: str
    snapshot_version: int
    returned_reasons: str | None
    payment_date: str | None
    payment_reference: str | None


class ReportDetail(ReportPublic):
    snapshot: dict[str, Any]
    live: ReportState | None = None


class ReportPage(Page[ReportPublic]):
    total_amount: str = Field(description="The amounts of every report the filters select (all pages).")
    total_compensable_hours: str = Field(description="The compensable hours of every report the filters select.")


def _public(row: QuarterlyReport) -> dict[str, Any]:
    data = {name: getattr(row, name) for name in ReportPublic.model_fields}  # never the snapshot: lists defer it
    data["due_on"] = row.due_on.isoformat()
    data["payment_date"] = row.payment_date.isoformat() if row.payment_date else None
    return data


def visible_report(sessions: SessionsDep, principal: PrincipalDep,
                   report_id: Annotated[str, Path(max_length=40)]) -> QuarterlyReport:
    """The ministry sees every report; a municipality's staff their own; nobody else any (404).

    A sync dependency: read in a worker thread on a session of its own, returned detached (api/deps.py).
    """
    with sessions() as session:
        row = session.get(QuarterlyReport, report_id)
    allowed = row is not None and (principal.has(Role.MINISTRY) or (
        principal.has(*CASE_MANAGERS) and row.municipality == principal.municipality))
    if row is None or not allowed:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such report")
    return row


VisibleReport = Annotated[QuarterlyReport, Depends(visible_report)]


async def live_report(temporal: Client, report_id: str) -> ReportState | None:
    try:
        return await temporal.get_workflow_handle(report_workflow_id(report_id)).query(QuarterlyReportWorkflow.state)
    except RPCError:
        return None


SNAPSHOT = cast(QueryableAttribute[Any], QuarterlyReport.snapshot)
REPORT_ORDER = Keyset("reports", (Key("year", col(QuarterlyReport.year), int, descending=True),
                                  Key("quarter", col(QuarterlyReport.quarter), int, descending=True),
                                  Key("municipality", col(QuarterlyReport.municipality), str)))


@router.get("")
def list_reports(principal: PrincipalDep, session: SessionDep, page: PageDep,
                 year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
                 quarter: Annotated[int | None, Query(ge=1, le=4)] = None, status_: Annotated[
                     ReportStatus | None, Query(alias="status")] = None,
                 municipality: str | None = None) -> ReportPage:
    """Reports by quarter and status, newest quarter first, with the totals of all the filters select.

    The list never loads the snapshots (issue 8): `GET /reports/{id}` gives one.
    """
    filters: list[Any] = []
    if principal.has(Role.MINISTRY):
        pass  # every municipality's
    elif principal.has(*CASE_MANAGERS):
        filters.append(QuarterlyReport.municipality == principal.municipality)
    else:
        raise forbidden(principal, "reports")
    if year is not None:
        filters.append(QuarterlyReport.year == year)
    if quarter is not None:
        filters.append(QuarterlyReport.quarter == quarter)
    if status_ is not None:
        filters.append(QuarterlyReport.status == status_.value)
    if municipality is not None:
        filters.append(QuarterlyReport.municipality == municipality)
    query = select(QuarterlyReport).where(*filters).options(defer(SNAPSHOT, raiseload=True))
    found = fetch_page(session, query, REPORT_ORDER, page)
    sums = session.exec(select(QuarterlyReport.amount, QuarterlyReport.compensable_hours).where(*filters)).all()
    return ReportPage(items=[ReportPublic(**_public(r)) for r in found.rows], has_more=found.has_more,
                      next_cursor=found.next_cursor,
                      total_amount=str(sum((Decimal(a) for a, _ in sums), Decimal("0.00"))),
                      total_compensable_hours=str(sum((Decimal(h) for _, h in sums), Decimal(0))))


class RoundCreate(BaseModel):
    quarter: str  # e.g. "2026Q3"


@router.post("/rounds", status_code=status.HTTP_202_ACCEPTED, dependencies=[require_roles(Role.MINISTRY)])
async def start_round(body: RoundCreate, temporal: TemporalDep, settings: SettingsDep) -> dict[str, str]:
    """Start a quarter's round by hand (the Schedule does it at each quarter's start).

    Once per quarter: a second start, while the round runs or after it ended, is refused with
    409 REPORT-STATE naming the quarter (a retry with the same Idempotency-Key gets the first answer).
    """
    try:
        quarter = Quarter.parse(body.quarter)
    except ValueError as exc:
        raise HTTPException(422, [{"loc": ["body", "quarter"], "msg": str(exc), "type": "value_error"}]) from None
    try:
        handle = await temporal.start_workflow(
            QuarterlyReportRoundWorkflow.run, RoundInput(quarter=quarter.label, timings=report_timings(settings)),
            id=f"report-round-{quarter.label}-manual", task_queue=settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)  # never a second manual round of a quarter
    except WorkflowAlreadyStartedError:
        raise RuleViolation("REPORT-STATE", f"the round of {quarter.label} has been started by hand already",
                            quarter=quarter.label) from None
    return {"workflow_id": handle.id, "quarter": quarter.label}


def snapshot_for(principal: Principal, snapshot: dict[str, Any]) -> dict[str, Any]:
    """The ministry reads assistants by id, without their names (as everywhere else); a caller who is also
    the municipality's service head or social worker reads their own municipality's with them."""
    if not principal.has(Role.MINISTRY) or (principal.has(*CASE_MANAGERS)
                                             and snapshot.get("municipality") == principal.municipality):
        return snapshot
    return {**snapshot, "assistants": [{**a, "name": None} for a in snapshot.get("assistants", [])]}


@router.get("/{report_id}")
async def read_report(row: VisibleReport, principal: PrincipalDep, temporal: TemporalDep) -> ReportDetail:
    """The report, its snapshot (per assistant, per month) and the workflow's live state."""
    return ReportDetail(**_public(row), snapshot=snapshot_for(principal, row.snapshot),
                        live=await live_report(temporal, row.report_id))


class ReportEventPublic(BaseModel):
    seq: int
    at: str
    actor_id: str
    actor_role: str
    action: str
    reason: str | None
    details: dict[str, Any]


REPORT_EVENT_ORDER = Keyset("report-events", (Key("seq", col(ReportEvent.seq), int),))


@router.get("/{report_id}/events")
def report_events(row: VisibleReport, session: SessionDep, page: PageDep) -> Page[ReportEventPublic]:
    """The report's audit trail: every step, who, when, why (a page at a time)."""
    found = fetch_page(session, select(ReportEvent).where(ReportEvent.report_id == row.report_id),
                       REPORT_EVENT_ORDER, page)
    return found.page([ReportEventPublic(seq=e.seq, at=e.at.isoformat(), actor_id=e.actor_id,
                                         actor_role=e.actor_role, action=e.action, reason=e.reason,
                                         details=e.details) for e in found.rows])


DOCUMENT_ERRORS: dict[int | str, dict[str, Any]] = {422: {"description": "`lang` is neither `lv` nor `en`."}}
LANGUAGE_HEADERS = {"Content-Language": {"description": "`lv` or `en`", "schema": {"type": "string"}},
                    "Vary": {"description": "Accept-Language", "schema": {"type": "string"}}}


def _document(content: bytes, media_type: str, filename: str, lang: Lang) -> Response:
    return Response(content, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Content-Language": lang.value,
        "Vary": "Accept-Language"})


@router.get("/{report_id}/csv", response_class=Response, responses={**DOCUMENT_ERRORS, 200: {
    "description": "UTF-8 with BOM; `lv`: `;` and decimal comma, `en`: `,` and decimal point.",
    "headers": LANGUAGE_HEADERS, "content": {"text/csv": {"schema": {"type": "string"}}}}})
def report_as_csv(row: VisibleReport, principal: PrincipalDep, lang: LangDep) -> Response:
    """The report as CSV for a spreadsheet: one header row, then one row per assistant and month.

    Latvian by default (`;`-separated, decimal comma, months mm.gggg), English with `?lang=en` or
    `Accept-Language: en` (`,`-separated, decimal point, months yyyy-mm); UTF-8 with a byte-order mark;
    data rows only (no totals, no metadata: those are the PDF's)."""
    return _document(report_csv(snapshot_for(principal, row.snapshot), lang), "text/csv",
                     f"{row.report_id}.csv", lang)


@router.get("/{report_id}/pdf", response_class=Response, responses={**DOCUMENT_ERRORS, 200: {
    "description": "The PDF to file.", "headers": LANGUAGE_HEADERS,
    "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}})
def report_as_pdf(row: VisibleReport, principal: PrincipalDep, session: SessionDep, lang: LangDep) -> Response:
    """The report as a PDF to file with the ministry (HRS-6): the ministry and the municipality, the period,
    the report's number, its dates of submission, approval and payment and the payment reference, the hours
    per assistant and month with the amounts (the table's header on every page), the yearly cap's use,
    and a prepared/approved signature block; pages numbered "1. lpp. no 3".

    Latvian by default (decimal comma, dates dd.mm.gggg), English with `?lang=en` or `Accept-Language: en`
    (decimal point, ISO dates)."""
    document = report_pdf(snapshot_for(principal, row.snapshot), report_facts(session, row), lang)
    return _document(document, "application/pdf", f"{row.report_id}.pdf", lang)


STEPS: list[tuple[str, Any, type[Command], str]] = [
    ("rebuild", QuarterlyReportWorkflow.rebuild, messages.Rebuild,
     "The service head refreshes the draft from the timesheets."),
    ("submission", QuarterlyReportWorkflow.submit, messages.Submit,
     "The service head submits: the report is rebuilt and frozen (HRS-6, HRS-7)."),
    ("approval", QuarterlyReportWorkflow.approve, messages.Approve, "The ministry approves the report (HRS-6)."),
    ("return", QuarterlyReportWorkflow.return_report, messages.Return,
     "The ministry returns the report with reasons; the quarter reopens for corrections (HRS-7)."),
    ("payment", QuarterlyReportWorkflow.pay, messages.Pay,
     "The ministry records the payment: date and reference (HRS-6)."),
]


def _acting_roles(principal: Principal, row: QuarterlyReport) -> frozenset[Role]:
    """The ministry acts on every municipality's report; its staff on their own (404 elsewhere)."""
    return roles_acting_in(principal, row.municipality, everywhere={Role.MINISTRY})


def _report_detail(session: Session, principal: Principal, report_id: str, live: ReportState | None) -> ReportDetail:
    """The report as it is now (read afresh: the step has just projected into it) and ``live``."""
    row = session.get(QuarterlyReport, report_id)
    assert row is not None, "a report row is never removed"
    return ReportDetail(**_public(row), snapshot=snapshot_for(principal, row.snapshot), live=live)


def _add_step(path: str, update: Any, command: type[Command], doc: str) -> None:
    Body = body_model(command)

    async def step(body: Body, row: VisibleReport, principal: PrincipalDep,  # type: ignore[valid-type]
                   sessions: SessionsDep, temporal: TemporalDep, request_key: RequestKeyDep) -> ReportDetail:
        among = _acting_roles(principal, row)
        message = command(actor=principal.actor(step_roles(command), among), **body.model_dump())  # type: ignore[attr-defined]
        handle = temporal.get_workflow_handle(report_workflow_id(row.report_id))
        live = await run_update(handle, update, message, request_key)  # no database connection held meanwhile
        return await in_thread(sessions, _report_detail, principal, row.report_id, live)

    step.__doc__ = doc
    step.__annotations__["body"] = Body
    router.add_api_route(f"/{{report_id}}/{path}", step, methods=["POST"], name=f"report_{path}",
                         summary=summary_of(doc))


for _step in STEPS:
    _add_step(*_step)

