"""case assignments: which assistant a case was referred to on which days (HRS-3, ruling 2026-11)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 00:30:00

Backfilled from the audit trail: each ``referred``/``re-referred`` event opens a window on the
Riga date it was recorded (the step dates did not exist before this revision); a re-referral
ends the open window that day, a closure on its day, and the PH-6 flag of a withdrawn
assistant on the assistant's ``withdrawn_on``.
"""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlmodel
from alembic import op

import persistence.types


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RIGA = ZoneInfo("Europe/Riga")


def upgrade() -> None:
    op.create_table('case_assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('assistant_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('from_date', sa.Date(), nullable=False),
    sa.Column('to_date', sa.Date(), nullable=True),
    sa.Column('ended_by', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True),
    sa.Column('opened_seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.case_id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'opened_seq', name='uq_case_assignment_opened')
    )
    with op.batch_alter_table('case_assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_assignment_assistant_id'), ['assistant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_assignment_case_id'), ['case_id'], unique=False)
    _backfill()


def _backfill() -> None:
    """The windows of the cases referred before this revision, from ``case_event`` (see above)."""
    bind = op.get_bind()
    events = sa.table('case_event', sa.column('case_id', sa.String), sa.column('seq', sa.Integer),
                      sa.column('at', persistence.types.UTCDateTime(timezone=True)),
                      sa.column('action', sa.String), sa.column('details', sa.JSON))
    assistants = sa.table('assistant_record', sa.column('assistant_id', sa.String),
                          sa.column('withdrawn_on', sa.Date))
    assignments = sa.table('case_assignment', sa.column('case_id', sa.String),
                           sa.column('assistant_id', sa.String), sa.column('from_date', sa.Date),
                           sa.column('to_date', sa.Date), sa.column('ended_by', sa.String),
                           sa.column('opened_seq', sa.Integer))
    withdrawn = {row.assistant_id: row.withdrawn_on for row in bind.execute(sa.select(assistants))}
    rows = bind.execute(sa.select(events).where(events.c.action.in_(
        ['referred', 're-referred', 'closed', 'needs_reassignment'])).order_by(events.c.case_id, events.c.seq))
    windows: list[dict[str, Any]] = []
    open_of: dict[str, dict[str, Any]] = {}  # case → its open window

    def end(case_id: str, on: date, ended_by: str, assistant_id: str | None = None) -> None:
        current = open_of.get(case_id)
        if current is not None and (assistant_id is None or current['assistant_id'] == assistant_id):
            current['to_date'], current['ended_by'] = max(on, current['from_date']), ended_by
            del open_of[case_id]

    for event in rows:
        at: datetime = event.at
        on = at.astimezone(RIGA).date()
        details = event.details or {}
        if event.action in ('referred', 're-referred') and details.get('assistant_id'):
            end(event.case_id, on, 're-referred')
            window = {'case_id': event.case_id, 'assistant_id': details['assistant_id'], 'from_date': on,
                      'to_date': None, 'ended_by': None, 'opened_seq': event.seq}
            windows.append(window)
            open_of[event.case_id] = window
        elif event.action == 'closed':
            end(event.case_id, on, 'closed')
        elif event.action == 'needs_reassignment' and details.get('rule') == 'PH-6':
            assistant_id = details.get('assistant_id')
            end(event.case_id, withdrawn.get(assistant_id) or on, 'withdrawn', assistant_id)
    if windows:
        op.bulk_insert(assignments, windows)


def downgrade() -> None:
    with op.batch_alter_table('case_assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_assignment_case_id'))
        batch_op.drop_index(batch_op.f('ix_case_assignment_assistant_id'))
    op.drop_table('case_assignment')
