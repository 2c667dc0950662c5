"""ministry figures: the days of a case's steps and the indexes MIN-1…MIN-5 count by (issue 9)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 05:50:00
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_ONLY = {f"{dialect}_where": sa.text("resolved_at IS NULL") for dialect in ("sqlite", "postgresql")}
CLOSED_ONLY = {f"{dialect}_where": sa.text("closed_on IS NOT NULL") for dialect in ("sqlite", "postgresql")}
INDEXES: list[tuple[str, str, list[str], dict[str, Any]]] = [
    ('ix_case_record_ministry_outcomes', 'case_record',
     ['municipality', 'status', 'target_group', 'control_group', 'urgent', 'needs_reassignment', 'applied_on',
      'period_number', 'workflow_started'], {}),
    ('ix_case_record_ministry_decided', 'case_record', ['municipality', 'decided_on', 'decision_days',
                                                        'workflow_started'], {}),
    ('ix_case_record_ministry_closed', 'case_record',
     ['municipality', 'closure_reason', 'closed_on', 'service_days', 'period_number', 'follow_up_done',
      'workflow_started'], CLOSED_ONLY),
    ('ix_case_record_ministry_waiting', 'case_record',
     ['status', 'decision', 'municipality', 'decided_on', 'workflow_started'], {}),
    ('ix_case_record_ministry_period', 'case_record', ['status', 'period_ends_on', 'municipality', 'workflow_started'],
     {}),
    ('ix_reminder_ministry_open', 'reminder', ['municipality', 'kind', 'raised_at', 'due_at'], OPEN_ONLY),
    ('ix_timesheet_entry_ministry', 'timesheet_entry', ['municipality', 'kind', 'worked_on', 'assistant_id', 'hours'],
     {}),
]


def _day(details: Any, field: str, at: Any) -> date:
    """The step's own day, or the Riga date it was recorded (as activities/milestones.py)."""
    if isinstance(details, dict) and isinstance(details.get(field), str):
        return date.fromisoformat(details[field])
    moment = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo("Europe/Riga")).date()


def _backfill() -> None:
    """The days of the steps of the cases recorded before this revision, from their audit trail (CASE-4)."""
    bind = op.get_bind()
    event = sa.table('case_event', sa.column('case_id'), sa.column('seq'), sa.column('at'), sa.column('action'),
                     sa.column('details', sa.JSON()))
    record = sa.table('case_record', sa.column('case_id'), sa.column('decided_on'), sa.column('decision_days'),
                      sa.column('first_referred_on'),
                      sa.column('closed_on'), sa.column('service_days'))
    applied = dict(bind.execute(sa.text('SELECT case_id, applied_on FROM case_record')).all())
    rows = bind.execute(sa.select(event.c.case_id, event.c.at, event.c.action, event.c.details).where(
        sa.or_(event.c.action.like('decision_%'), event.c.action.in_(['referred', 'closed'])),
    ).order_by(event.c.case_id, event.c.seq)).all()
    days: dict[str, dict[str, Any]] = {}
    for case_id, at, action, details in rows:
        found = days.setdefault(case_id, {})
        if action.startswith('decision_'):
            found['decided_on'] = _day(details, 'decided_on', at)
            applied_on = applied.get(case_id)
            if applied_on is not None:
                applied_on = applied_on if isinstance(applied_on, date) else date.fromisoformat(str(applied_on))
                found['decision_days'] = (found['decided_on'] - applied_on).days
        elif action == 'referred':
            found.setdefault('first_referred_on', _day(details, 'referred_on', at))
        else:
            found['closed_on'] = _day(details, 'closed_on', at)
            referred = found.get('first_referred_on')
            found['service_days'] = (found['closed_on'] - referred).days if referred else None
    for case_id, values in days.items():
        bind.execute(sa.update(record).where(record.c.case_id == case_id).values(**values))


def upgrade() -> None:
    op.add_column('case_record', sa.Column('decided_on', sa.Date(), nullable=True))
    op.add_column('case_record', sa.Column('decision_days', sa.Integer(), nullable=True))
    op.add_column('case_record', sa.Column('first_referred_on', sa.Date(), nullable=True))
    op.add_column('case_record', sa.Column('closed_on', sa.Date(), nullable=True))
    op.add_column('case_record', sa.Column('service_days', sa.Integer(), nullable=True))
    _backfill()
    for name, table, columns, kw in INDEXES:
        op.create_index(name, table, columns, unique=False, **kw)


def downgrade() -> None:
    for name, table, _, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    for column in ('service_days', 'closed_on', 'first_referred_on', 'decision_days', 'decided_on'):
        op.drop_column('case_record', column)
