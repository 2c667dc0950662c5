"""The tables. Personal identifiers live in ``case_client`` and nowhere else (CASE-6)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint, text
from sqlalchemy import true as sa_true
from sqlmodel import Field, SQLModel

from persistence.types import UTCDateTime


def _utc(**kw: Any) -> Any:
    return Field(sa_column=Column(UTCDateTime(), **kw))


class CaseRecord(SQLModel, table=True):
    """The read model of a case, projected from its workflow (lists and filters)."""

    __tablename__ = "case_record"
    __table_args__ = (  # GET /cases: newest first, for each of its scopes and filters (issue 8)
        Index("ix_case_record_created", "created_at", "case_id"),
        Index("ix_case_record_municipality_created", "municipality", "created_at", "case_id"),
        Index("ix_case_record_status_created", "status", "created_at", "case_id"),
        Index("ix_case_record_assistant_created", "assistant_id", "created_at", "case_id"),
    )

    case_id: str = Field(primary_key=True, max_length=36)
    municipality: str = Field(index=True, max_length=20)
    status: str = Field(index=True, max_length=20)
    case_manager_id: str = Field(index=True, max_length=100)
    assistant_id: str | None = Field(default=None, index=True, max_length=100)
    applied_on: date
    control_group: bool = False
    target_group: str | None = Field(default=None, max_length=40)
    child_safety_risk: str | None = Field(default=None, max_length=10)
    decision: str | None = Field(default=None, max_length=10)
    urgent: bool = False
    needs_reassignment: bool = False
    period_number: int = 0
    period_ends_on: date | None = None
    visits: int = 0
    closure_reason: str | None = Field(default=None, max_length=40)
    follow_up_done: bool = False
    # MIN-2…MIN-4 (issue 9, migration 0012): the days of the steps the ministry's figures count by (Riga dates,
    # the steps' own days), written with the change that made them (activities/milestones.py).
    decided_on: date | None = None
    decision_days: int | None = None  # decided_on − applied_on (§5.3: due within a settable period)
    first_referred_on: date | None = None
    closed_on: date | None = None
    service_days: int | None = None  # closed_on − first_referred_on, for a case closed after a referral
    version: int = 0  # the last audit sequence projected
    # False from the moment the row is written until the case's workflow is known to run: such a row
    # is unfinished (never listed) and is completed by a retry with the same key or by the repair.
    workflow_started: bool = Field(default=True, index=True, sa_column_kwargs={"server_default": sa_true()})
    registered_by: str | None = Field(default=None, max_length=100)  # the user who opened it (for the repair)
    registered_by_role: str | None = Field(default=None, max_length=20)
    created_at: datetime = _utc(nullable=False)
    updated_at: datetime = _utc(nullable=False)


class CaseClient(SQLModel, table=True):
    """The client's personal data: only here, never in workflows or logs (CASE-6)."""

    __tablename__ = "case_client"

    case_id: str = Field(primary_key=True, foreign_key="case_record.case_id", max_length=36)
    full_name: str = Field(max_length=200)
    personal_code: str = Field(max_length=12)
    birth_date: date | None = None
    address: str | None = Field(default=None, max_length=500)
    consent_given: bool


class CaseLiveState(SQLModel, table=True):
    """The case workflow's state as its last recorded change left it: ``GET /cases/{id}`` reads it
    here instead of asking the workflow (a Query waits behind the workflow's tasks under load).

    Written in the transaction of every change (activities/case_records.py) and of the
    registration (api/case_opening.py); a run that has recorded no change since this table
    came has no row here, and its case is read by Query.
    """

    __tablename__ = "case_live_state"

    case_id: str = Field(primary_key=True, foreign_key="case_record.case_id", max_length=36)
    version: int  # the audit sequence of the change that left this state
    state: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class CaseEvent(SQLModel, table=True):
    """The append-only audit trail of a case (CASE-4: who, when, what, why)."""

    __tablename__ = "case_event"
    __table_args__ = (UniqueConstraint("case_id", "seq", name="uq_case_event_case_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(index=True, foreign_key="case_record.case_id", max_length=36)
    seq: int
    at: datetime = _utc(nullable=False)
    actor_id: str = Field(max_length=100)
    actor_role: str = Field(max_length=20)
    action: str = Field(max_length=60)
    reason: str | None = None
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


OPEN_ONLY: dict[str, Any] = {f"{dialect}_where": text("resolved_at IS NULL") for dialect in ("sqlite", "postgresql")}


class ReminderRecord(SQLModel, table=True):
    """A reminder a timer raised; resolved when the awaited action happens."""

    __tablename__ = "reminder"
    __table_args__ = (  # GET /reminders: oldest due first, of all or of the open ones only (issue 8)
        Index("ix_reminder_due", "due_at", "reminder_id"),
        Index("ix_reminder_municipality_due", "municipality", "due_at", "reminder_id"),
        Index("ix_reminder_open_due", "due_at", "reminder_id", **OPEN_ONLY),
        Index("ix_reminder_municipality_open_due", "municipality", "due_at", "reminder_id", **OPEN_ONLY),
    )

    reminder_id: str = Field(primary_key=True, max_length=120)
    case_id: str | None = Field(default=None, index=True, foreign_key="case_record.case_id", max_length=36)
    assistant_id: str | None = Field(default=None, index=True, max_length=100)
    report_id: str | None = Field(default=None, index=True, max_length=40)
    municipality: str = Field(index=True, max_length=20)
    kind: str = Field(index=True, max_length=30)
    recipient_role: str = Field(max_length=20)
    due_at: datetime = _utc(nullable=False)
    raised_at: datetime = _utc(nullable=False)
    resolved_at: datetime | None = _utc(nullable=True)


# --- municipalities and assistants (DOMAIN.md §2-§4) ------------------------------------

class Municipality(SQLModel, table=True):
    __tablename__ = "municipality"

    code: str = Field(primary_key=True, max_length=20)
    name: str = Field(max_length=100)
    population: int
    updated_at: datetime = _utc(nullable=False)


class CooperationAgreement(SQLModel, table=True):
    """MUN-1: the municipality's cooperation agreement with the ministry."""

    __tablename__ = "cooperation_agreement"

    municipality: str = Field(primary_key=True, foreign_key="municipality.code", max_length=20)
    number: str = Field(max_length=50)
    signed_on: date
    recorded_by: str = Field(max_length=100)
    recorded_at: datetime = _utc(nullable=False)


class MunicipalOrder(SQLModel, table=True):
    """MUN-2: the municipality's order (rīkojums) naming an assistant."""

    __tablename__ = "municipal_order"

    assistant_id: str = Field(primary_key=True, max_length=100)
    municipality: str = Field(index=True, foreign_key="municipality.code", max_length=20)
    number: str = Field(max_length=50)
    issued_on: date
    recorded_by: str = Field(max_length=100)
    recorded_at: datetime = _utc(nullable=False)


class SeminarAttendance(SQLModel, table=True):
    """MUN-4: a social worker of the municipality attended the 8-hour seminar."""

    __tablename__ = "seminar_attendance"
    __table_args__ = (UniqueConstraint("municipality", "social_worker_id", name="uq_seminar_attendee"),)

    id: int | None = Field(default=None, primary_key=True)
    municipality: str = Field(index=True, foreign_key="municipality.code", max_length=20)
    social_worker_id: str = Field(max_length=100)
    attended_on: date
    hours: int
    recorded_at: datetime = _utc(nullable=False)


class AssistantRecord(SQLModel, table=True):
    """The read model of an assistant's pilot, projected from its workflow."""

    __tablename__ = "assistant_record"
    __table_args__ = (  # GET /assistants: by municipality, then id; by phase (issue 8)
        Index("ix_assistant_record_municipality_id", "municipality", "assistant_id"),
        Index("ix_assistant_record_phase_municipality", "phase", "municipality", "assistant_id"),
    )

    assistant_id: str = Field(primary_key=True, max_length=100)
    municipality: str = Field(index=True, foreign_key="municipality.code", max_length=20)
    phase: str = Field(index=True, max_length=20)
    education_level: str = Field(max_length=40)
    nominated_on: date
    fte: str = Field(default="0", max_length=10)
    load: str = Field(default="0", max_length=20)
    capacity: str = Field(default="0", max_length=20)
    client_count: int = 0
    training_starts_on: date | None = None
    pilot_ends_on: date | None = None
    programme_hours: str = Field(default="0", max_length=12)
    child_rights_hours: str = Field(default="0", max_length=12)
    withdrawn_on: date | None = None
    amendments: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    version: int = 0
    # The nomination request's Idempotency-Key digest: its retry completes and answers it again.
    request_key: str | None = Field(default=None, max_length=64)
    created_at: datetime = _utc(nullable=False)
    updated_at: datetime = _utc(nullable=False)


class AssistantPerson(SQLModel, table=True):
    """The candidate's personal data, kept out of workflows (CASE-6 applies to staff too)."""

    __tablename__ = "assistant_person"

    assistant_id: str = Field(primary_key=True, foreign_key="assistant_record.assistant_id", max_length=100)
    full_name: str = Field(max_length=200)
    cv_received: bool
    motivation_letter_received: bool


class AssistantEvent(SQLModel, table=True):
    """The append-only trail of an assistant's pilot."""

    __tablename__ = "assistant_event"
    __table_args__ = (UniqueConstraint("assistant_id", "seq", name="uq_assistant_event_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    assistant_id: str = Field(index=True, foreign_key="assistant_record.assistant_id", max_length=100)
    seq: int
    at: datetime = _utc(nullable=False)
    actor_id: str = Field(max_length=100)
    actor_role: str = Field(max_length=20)
    action: str = Field(max_length=60)
    reason: str | None = None
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


# --- hours and compensation (DOMAIN.md §6) -----------------------------------------------

class TimesheetEntry(SQLModel, table=True):
    """HRS-1: one line of an assistant's timesheet."""

    __tablename__ = "timesheet_entry"
    __table_args__ = (UniqueConstraint("request_key", name="uq_timesheet_entry_request_key"),
                      Index("ix_timesheet_entry_assistant_worked", "assistant_id", "worked_on", "id"),
                      # An id is never given twice, so a retried DELETE never removes a newer entry.
                      {"sqlite_autoincrement": True})

    id: int | None = Field(default=None, primary_key=True)
    assistant_id: str = Field(index=True, foreign_key="assistant_record.assistant_id", max_length=100)
    municipality: str = Field(index=True, max_length=20)
    worked_on: date = Field(index=True)
    hours: str = Field(max_length=8)  # an exact decimal, e.g. "7.25"
    kind: str = Field(max_length=10)
    case_id: str | None = Field(default=None, max_length=36)
    note: str | None = None
    flags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    recorded_by: str = Field(max_length=100)
    recorded_at: datetime = _utc(nullable=False)
    # The Idempotency-Key's digest: a retry of the same request finds this entry, never writes a second.
    request_key: str | None = Field(default=None, max_length=64)


class QuarterlyReport(SQLModel, table=True):
    """HRS-6: a municipality's quarterly report; its snapshot is frozen once submitted (HRS-7)."""

    __tablename__ = "quarterly_report"
    __table_args__ = (UniqueConstraint("municipality", "year", "quarter", name="uq_report_quarter"),
                      # GET /reports: its sort, and its totals read from the index alone (covering), never
                      # from the rows, whose snapshot SQLite would read through to reach the later columns.
                      Index("ix_quarterly_report_totals", "year", "quarter", "municipality", "status", "amount",
                            "compensable_hours"))

    report_id: str = Field(primary_key=True, max_length=40)
    municipality: str = Field(index=True, foreign_key="municipality.code", max_length=20)
    year: int = Field(index=True)
    quarter: int
    status: str = Field(index=True, max_length=12)
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    snapshot_version: int = 0
    service_hours: str = Field(default="0", max_length=14)
    compensable_hours: str = Field(default="0", max_length=14)
    amount: str = Field(default="0.00", max_length=16)
    due_on: date
    returned_reasons: str | None = None
    payment_date: date | None = None
    payment_reference: str | None = Field(default=None, max_length=60)
    version: int = 0
    created_at: datetime = _utc(nullable=False)
    updated_at: datetime = _utc(nullable=False)


class ReportEvent(SQLModel, table=True):
    """The append-only trail of a quarterly report."""

    __tablename__ = "report_event"
    __table_args__ = (UniqueConstraint("report_id", "seq", name="uq_report_event_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: str = Field(index=True, foreign_key="quarterly_report.report_id", max_length=40)
    seq: int
    at: datetime = _utc(nullable=False)
    actor_id: str = Field(max_length=100)
    actor_role: str = Field(max_length=20)
    action: str = Field(max_length=60)
    reason: str | None = None
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


# --- retrying safely (Idempotency-Key) -------------------------------------------------

class IdempotencyRecord(SQLModel, table=True):
    """The first answer to a write sent with an ``Idempotency-Key``, replayed to its retries.

    Keyed by the caller (role, municipality, user) and the key: two callers never share a key.
    ``request_hash`` covers the method, the path and the body, so a key reused for another
    request is refused (422) instead of answering with something else's result.
    """

    __tablename__ = "idempotency_record"

    caller: str = Field(primary_key=True, max_length=200)
    key: str = Field(primary_key=True, max_length=255)
    request_hash: str = Field(max_length=64)
    method: str = Field(max_length=10)
    path: str = Field(max_length=500)
    status_code: int
    content_type: str | None = Field(default=None, max_length=100)
    body: bytes
    created_at: datetime = _utc(nullable=False, index=True)


# --- HRS-3: which assistant a case was referred to on which days (ruling 2026-11) ---------

class CaseAssignment(SQLModel, table=True):
    """One window of a case with one assistant: from the referral's day up to the day it ended (both
    included), written by the case projection; ``to_date`` is null while it lasts."""

    __tablename__ = "case_assignment"
    __table_args__ = (UniqueConstraint("case_id", "opened_seq", name="uq_case_assignment_opened"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(index=True, foreign_key="case_record.case_id", max_length=36)
    assistant_id: str = Field(index=True, max_length=100)
    from_date: date
    to_date: date | None = None
    ended_by: str | None = Field(default=None, max_length=12)  # closed, re-referred, withdrawn
    opened_seq: int  # the case's audit sequence number of the referral (CASE-4)


# --- RES-2: the study's periodic assessments (issue 9) ----------------------------------------

class ResearchAssessment(SQLModel, table=True):
    """RES-2: one periodic assessment of a client's social situation and functioning, served and
    control-group cases alike; written by the case projection from the case's change (CASE-4).

    ``scores``: every configured domain (default: the ten skill areas of §5.2) → 1 (cannot manage
    without help) … 5 (manages independently), or null for "not applicable". No free text.
    """

    __tablename__ = "research_assessment"
    __table_args__ = (UniqueConstraint("case_id", "number", name="uq_research_assessment_case_number"),
                      Index("ix_research_assessment_municipality_assessed", "municipality", "assessed_on", "id"),
                      {"sqlite_autoincrement": True})

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(index=True, foreign_key="case_record.case_id", max_length=36)
    municipality: str = Field(max_length=20)
    number: int  # 1: the one due at registration, then one per period (RES-2)
    due_on: date
    assessed_on: date  # a Riga date
    control_group: bool  # RES-1, as the case was when assessed
    scores: dict[str, int | None] = Field(sa_column=Column(JSON, nullable=False))
    seq: int  # the case's audit sequence number of the change that recorded it (CASE-4)
    recorded_by: str = Field(max_length=100)
    recorded_at: datetime = _utc(nullable=False)


# --- MIN-1…MIN-5: the ministry's figures (issue 9, migration 0012) ------------------------------
# Each figure is one GROUP BY over a read model; these indexes let the national-scale database answer
# them from the index alone (covering), on SQLite and PostgreSQL alike. The columns the figures count
# by (case_record.decided_on …) are in CaseRecord above.

def _columns(model: type[SQLModel], *names: str) -> list[Any]:
    return [model.__table__.c[name] for name in names]  # type: ignore[attr-defined]


CLOSED_ONLY: dict[str, Any] = {f"{dialect}_where": text("closed_on IS NOT NULL")
                               for dialect in ("sqlite", "postgresql")}

MINISTRY_INDEXES = (
    # MIN-4: cases by status and target group, of the cases applied for in a range: ix_case_record_ministry_applied
    # and MinistryCaseTally (migration 0014, at the end of this module)
    # MIN-3: decisions within the due period: ix_case_record_ministry_decided_on and MinistryDecisionTally
    # (migration 0014, at the end of this module)
    # MIN-4: closures by reason and service duration, counted by the closure's day (closed cases only)
    Index("ix_case_record_ministry_closed", *_columns(
        CaseRecord, "municipality", "closure_reason", "closed_on", "service_days", "period_number", "follow_up_done",
        "workflow_started"), **CLOSED_ONLY),
    # MIN-2: granted cases not yet referred, by municipality and the decision's day
    Index("ix_case_record_ministry_waiting", *_columns(
        CaseRecord, "status", "decision", "municipality", "decided_on", "workflow_started")),
    # MIN-3: reviews overdue (by the period's end)
    Index("ix_case_record_ministry_period", *_columns(
        CaseRecord, "status", "period_ends_on", "municipality", "workflow_started")),
    # MIN-3: open reminders by kind
    Index("ix_reminder_ministry_open", *_columns(ReminderRecord, "municipality", "kind", "raised_at", "due_at"),
          **OPEN_ONLY),
    # MIN-5: hours by quarter and kind; each assistant's use of the yearly cap
    # (one index for both: covering, so neither reads the table's rows)
    Index("ix_timesheet_entry_ministry", *_columns(
        TimesheetEntry, "municipality", "kind", "worked_on", "assistant_id", "hours")),
)


# --- RES-4: every coded export is recorded (issue 9) ------------------------------------------

class ResearchExportLog(SQLModel, table=True):
    """RES-4: one coded export a researcher took: who, when, which table, format and filter, and how
    many rows it carried. Append-only: written once when the export is built, never changed."""

    __tablename__ = "research_export_log"
    __table_args__ = (Index("ix_research_export_log_exported", "exported_at", "id"),
                      {"sqlite_autoincrement": True})

    id: int | None = Field(default=None, primary_key=True)
    exported_at: datetime = _utc(nullable=False)
    user_id: str = Field(max_length=100)
    role: str = Field(max_length=20)
    table_name: str = Field(max_length=20)  # clients, assessments, hours
    format: str = Field(max_length=10)  # csv, parquet
    municipality: str | None = Field(default=None, max_length=20)  # the filter; null: every municipality
    from_month: str | None = Field(default=None, max_length=7)  # YYYY-MM
    to_month: str | None = Field(default=None, max_length=7)
    row_count: int


# RES-3: the export reads a batch of cases' service hours at a time.
Index("ix_timesheet_entry_case_worked", TimesheetEntry.case_id, TimesheetEntry.worked_on)  # type: ignore[arg-type]


# --- MIN-6: who read whose personal data (issue 9) ---------------------------------------------

class PersonalDataRead(SQLModel, table=True):
    """MIN-6: one read of a client's personal data: who (user id and role), when, which case, through
    which operation (the route, e.g. ``GET /cases/{case_id}``). Never the personal data itself.

    Append-only: no route changes or removes a record, and a trigger (migration 0013) refuses any
    UPDATE or DELETE on both databases. ``municipality`` is the case's, for the service head's list.
    """

    __tablename__ = "personal_data_read"
    __table_args__ = (Index("ix_personal_data_read_case", "case_id", "id"),  # the client file's readers
                      Index("ix_personal_data_read_municipality", "municipality", "id"),  # the service head's
                      Index("ix_personal_data_read_reader", "reader_id", "id"),  # "what did this user read?"
                      {"sqlite_autoincrement": True})  # an id is never given twice: the list's order

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _utc(nullable=False)
    case_id: str = Field(foreign_key="case_record.case_id", max_length=36)
    municipality: str = Field(max_length=20)
    reader_id: str = Field(max_length=100)
    reader_role: str = Field(max_length=20)
    operation: str = Field(max_length=100)


# --- MIN-3…MIN-5: running totals the figures read (issue 9, migration 0014) --------------------
# Kept by triggers (migration 0014) in the transaction of every write to case_record and timesheet_entry,
# whoever writes: never written by the application, read by api/ministry_tallies.py.

class MinistryCaseTally(SQLModel, table=True):
    """MIN-4: the cases whose workflow runs, by municipality, status and the month they were applied for: how
    many, and of them how many are control-group (RES-1), urgent (CASE-2), need reassignment (PH-6), had a
    service period, and their extensions (§5.7)."""

    __tablename__ = "ministry_case_tally"
    __table_args__ = {"sqlite_with_rowid": False}

    # the key in the order the figures group by (the table is its key's b-tree on SQLite: no sort)
    municipality: str = Field(primary_key=True, max_length=20)
    status: str = Field(primary_key=True, max_length=20)
    applied_month: date = Field(primary_key=True)  # the first day of the month
    cases: int
    control: int
    urgent: int
    reassign: int
    served: int
    extensions: int


class MinistryCaseGroupTally(SQLModel, table=True):
    """MIN-4: the cases whose workflow runs, by municipality, target group ('' when not assessed) and the
    month they were applied for."""

    __tablename__ = "ministry_case_group_tally"
    __table_args__ = {"sqlite_with_rowid": False}

    municipality: str = Field(primary_key=True, max_length=20)
    target_group: str = Field(primary_key=True, max_length=40)
    applied_month: date = Field(primary_key=True)  # the first day of the month
    cases: int


class MinistryDecisionTally(SQLModel, table=True):
    """MIN-3: the decisions (granted or refused) of cases whose workflow runs, by municipality, the month
    they were taken and the days they took from the application (-2**31 when not known)."""

    __tablename__ = "ministry_decision_tally"
    __table_args__ = {"sqlite_with_rowid": False}

    municipality: str = Field(primary_key=True, max_length=20)
    decided_month: date = Field(primary_key=True)  # the first day of the month
    decision_days: int = Field(primary_key=True)
    decisions: int


class MinistryHoursTally(SQLModel, table=True):
    """MIN-5: timesheet hours (HRS-1) by the month worked, municipality, kind and assistant, in hundredths
    of an hour (exact: entries are quarter-hours)."""

    __tablename__ = "ministry_hours_tally"
    __table_args__ = {"sqlite_with_rowid": False}

    municipality: str = Field(primary_key=True, max_length=20)
    kind: str = Field(primary_key=True, max_length=10)
    assistant_id: str = Field(primary_key=True, max_length=100)  # each assistant's year against the cap: no sort
    month: date = Field(primary_key=True)  # the first day of the month
    hundredths: int


# MIN-3: the decisions taken on the days at the edges of a range (the months the tally cannot split)
Index("ix_case_record_ministry_decided_on", *_columns(
    CaseRecord, "decided_on", "municipality", "decision_days", "workflow_started"))
# MIN-4: the cases applied for on the days at the edges of a range
Index("ix_case_record_ministry_applied", *_columns(
    CaseRecord, "applied_on", "municipality", "status", "target_group", "control_group", "urgent",
    "needs_reassignment", "period_number", "workflow_started"))
