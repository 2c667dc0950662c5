"""list indexes: every list's filters and sort, for reads at national scale (issue 8)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 02:40:00

Each list pages by keyset (api/pagination.py): its filters first, then its sort key and unique
id, so a page at any depth is one index range.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES: list[tuple[str, str, list[str]]] = [
    ('case_record', 'ix_case_record_created', ['created_at', 'case_id']),
    ('case_record', 'ix_case_record_municipality_created', ['municipality', 'created_at', 'case_id']),
    ('case_record', 'ix_case_record_status_created', ['status', 'created_at', 'case_id']),
    ('case_record', 'ix_case_record_assistant_created', ['assistant_id', 'created_at', 'case_id']),
    ('reminder', 'ix_reminder_due', ['due_at', 'reminder_id']),
    ('reminder', 'ix_reminder_municipality_due', ['municipality', 'due_at', 'reminder_id']),
    ('assistant_record', 'ix_assistant_record_municipality_id', ['municipality', 'assistant_id']),
    ('assistant_record', 'ix_assistant_record_phase_municipality', ['phase', 'municipality', 'assistant_id']),
    ('timesheet_entry', 'ix_timesheet_entry_assistant_worked', ['assistant_id', 'worked_on', 'id']),
    # GET /reports' sort and, covering, its totals (SQLite reads a row's later columns through the snapshot)
    ('quarterly_report', 'ix_quarterly_report_totals',
     ['year', 'quarter', 'municipality', 'status', 'amount', 'compensable_hours']),
]


# The open reminders only (the default list): partial indexes, on both databases.
OPEN_ONLY = {'sqlite_where': sa.text('resolved_at IS NULL'), 'postgresql_where': sa.text('resolved_at IS NULL')}
OPEN_INDEXES: list[tuple[str, str, list[str]]] = [
    ('reminder', 'ix_reminder_open_due', ['due_at', 'reminder_id']),
    ('reminder', 'ix_reminder_municipality_open_due', ['municipality', 'due_at', 'reminder_id']),
]


def upgrade() -> None:
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)
    for table, name, columns in OPEN_INDEXES:
        op.create_index(name, table, columns, unique=False, **OPEN_ONLY)


def downgrade() -> None:
    for table, name, _ in reversed(INDEXES + OPEN_INDEXES):
        op.drop_index(name, table_name=table)
