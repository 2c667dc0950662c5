"""timesheet entry ids are never given twice (SQLite AUTOINCREMENT)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 05:30:00

SQLite gives a new row the largest rowid + 1: once the newest entry was removed, the next
entry got its id again, and a retried DELETE of the removed entry (an assistant's mobile
connection) would remove the new one. AUTOINCREMENT never gives an id twice. PostgreSQL's
sequence never did, so there is nothing to do there. On SQLite the table is rebuilt (rows and
ids kept, indexes recreated).
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    with op.batch_alter_table('timesheet_entry', recreate='always',
                              table_kwargs={'sqlite_autoincrement': autoincrement}):
        pass


def upgrade() -> None:
    _rebuild(True)


def downgrade() -> None:
    _rebuild(False)
