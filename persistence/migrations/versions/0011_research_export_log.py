"""research export log: every coded export recorded (RES-4); service hours by case (RES-3)

Revision ID: 0011
Revises: 0009
Create Date: 2026-11-24 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import persistence.types


revision: str = '0011'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('research_export_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exported_at', persistence.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('table_name', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('format', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('municipality', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('from_month', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=True),
    sa.Column('to_month', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=True),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sqlite_autoincrement=True,
    )
    op.create_index('ix_research_export_log_exported', 'research_export_log', ['exported_at', 'id'], unique=False)
    op.create_index('ix_timesheet_entry_case_worked', 'timesheet_entry', ['case_id', 'worked_on'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_timesheet_entry_case_worked', table_name='timesheet_entry')
    op.drop_index('ix_research_export_log_exported', table_name='research_export_log')
    op.drop_table('research_export_log')
