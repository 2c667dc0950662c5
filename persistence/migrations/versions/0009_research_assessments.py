"""research assessments: the study's periodic assessments (RES-2)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 05:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import persistence.types


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('research_assessment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('municipality', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('assessed_on', sa.Date(), nullable=False),
    sa.Column('control_group', sa.Boolean(), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('recorded_at', persistence.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.case_id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'number', name='uq_research_assessment_case_number'),
    sqlite_autoincrement=True,
    )
    op.create_index('ix_research_assessment_case_id', 'research_assessment', ['case_id'], unique=False)
    op.create_index('ix_research_assessment_municipality_assessed', 'research_assessment',
                    ['municipality', 'assessed_on', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_research_assessment_municipality_assessed', table_name='research_assessment')
    op.drop_index('ix_research_assessment_case_id', table_name='research_assessment')
    op.drop_table('research_assessment')
