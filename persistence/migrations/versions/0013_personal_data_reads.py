"""personal data reads: who read whose personal data (MIN-6), append-only

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24 06:00:00

The table holds who (user id and role), when, which case and through which operation, never the
personal data read. It is append-only: a trigger refuses every UPDATE and DELETE (and, on
PostgreSQL, TRUNCATE), whoever sends it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import persistence.types


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSAL = 'MIN-6: the personal data access log is append-only'


def _triggers() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        for verb in ('UPDATE', 'DELETE'):
            op.execute(f"CREATE TRIGGER personal_data_read_no_{verb.lower()} BEFORE {verb} ON personal_data_read "
                       f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END")
        return
    op.execute("CREATE FUNCTION personal_data_read_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
               f"BEGIN RAISE EXCEPTION '{REFUSAL}' USING ERRCODE = 'insufficient_privilege'; END $$")
    op.execute("CREATE TRIGGER personal_data_read_no_change BEFORE UPDATE OR DELETE ON personal_data_read "
               "FOR EACH ROW EXECUTE FUNCTION personal_data_read_append_only()")
    op.execute("CREATE TRIGGER personal_data_read_no_truncate BEFORE TRUNCATE ON personal_data_read "
               "FOR EACH STATEMENT EXECUTE FUNCTION personal_data_read_append_only()")


def upgrade() -> None:
    op.create_table('personal_data_read',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', persistence.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('municipality', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('reader_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('reader_role', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('operation', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.case_id'], ),
    sa.PrimaryKeyConstraint('id'),
    sqlite_autoincrement=True,
    )
    op.create_index('ix_personal_data_read_case', 'personal_data_read', ['case_id', 'id'], unique=False)
    op.create_index('ix_personal_data_read_municipality', 'personal_data_read', ['municipality', 'id'], unique=False)
    op.create_index('ix_personal_data_read_reader', 'personal_data_read', ['reader_id', 'id'], unique=False)
    _triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('DROP TRIGGER personal_data_read_no_update')
        op.execute('DROP TRIGGER personal_data_read_no_delete')
    op.drop_index('ix_personal_data_read_reader', table_name='personal_data_read')
    op.drop_index('ix_personal_data_read_municipality', table_name='personal_data_read')
    op.drop_index('ix_personal_data_read_case', table_name='personal_data_read')
    op.drop_table('personal_data_read')  # PostgreSQL: its triggers go with it
    if op.get_bind().dialect.name != 'sqlite':
        op.execute('DROP FUNCTION personal_data_read_append_only()')
