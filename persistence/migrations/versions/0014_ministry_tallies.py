"""ministry tallies: running totals of cases by month applied (by status, by target group), decisions by
month and days taken, and hours by month worked (MIN-3, MIN-4, MIN-5)

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-24 09:00:00

Four tables the database itself keeps exact, in the transaction of every write that changes them:
triggers on ``case_record`` (insert, update of a counted column, delete) and on ``timesheet_entry``
(insert, update, delete: an entry logged, removed or corrected, HRS-7) add the row's contribution
and take the old one away. Every writer is covered alike: the API's registration and its repair,
the case projection, a bulk load, a migration. They are backfilled here from the rows there are.
``ix_case_record_ministry_outcomes`` and ``…_decided`` (by municipality first) give way to indexes by
the day applied for and the day decided (the edges of a range are read from the rows).

Each change is one ``INSERT … ON CONFLICT DO UPDATE`` per tally row, atomic under concurrent
writers on both databases. On PostgreSQL an update moves a row's contribution between two tally
rows in one order (the smaller key first), and the triggers fire in name order (case group tally,
case tally, decision tally), so two cases moving the opposite way at once never deadlock.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


@dataclass(frozen=True)
class Tally:
    """A running total kept by triggers on ``watched``: its key columns, its summed columns, how a row
    of ``watched`` contributes (``values``), the columns whose change moves it, and whether a row
    counts only when a condition holds (``only``, of ``{row}``)."""

    name: str
    watched: str
    key: str
    sums: tuple[str, ...]
    values: Callable[[str, str, bool], str]
    counted: tuple[str, ...]
    only: str


NO_DAYS = -2147483648  # a decision whose days are not known: counted, never within the due period
# (name, columns): the indexes by municipality first give way to indexes by day first, for the edges
REPLACED = [(('ix_case_record_ministry_outcomes', ['municipality', 'status', 'target_group', 'control_group', 'urgent',
                                                   'needs_reassignment', 'applied_on', 'period_number',
                                                   'workflow_started']),
             ('ix_case_record_ministry_applied', ['applied_on', 'municipality', 'status', 'target_group',
                                                  'control_group', 'urgent', 'needs_reassignment', 'period_number',
                                                  'workflow_started'])),
            (('ix_case_record_ministry_decided', ['municipality', 'decided_on', 'decision_days', 'workflow_started']),
             ('ix_case_record_ministry_decided_on', ['decided_on', 'municipality', 'decision_days',
                                                     'workflow_started']))]


def _case_values(row: str, sign: str, sqlite: bool) -> str:
    """A case row's contribution (``row``: NEW or OLD) times ``sign``: its key, then its sums."""
    integer = (lambda e: f"({e})") if sqlite else (lambda e: f"({e})::integer")
    greatest = 'max' if sqlite else 'greatest'
    return (f"{_month(row, 'applied_on', sqlite)}, {row}.municipality, {row}.status, {sign}, "
            f"{sign} * {integer(f'{row}.control_group')}, {sign} * {integer(f'{row}.urgent')}, "
            f"{sign} * {integer(f'{row}.needs_reassignment')}, {sign} * {integer(f'{row}.period_number >= 1')}, "
            f"{sign} * {greatest}({row}.period_number - 1, 0)")


def _group_values(row: str, sign: str, sqlite: bool) -> str:
    """A case row by its target group ('' when not assessed) times ``sign``."""
    return f"{_month(row, 'applied_on', sqlite)}, {row}.municipality, coalesce({row}.target_group, ''), {sign}"


def _month(row: str, column: str, sqlite: bool) -> str:
    return f"date({row}.{column}, 'start of month')" if sqlite else f"date_trunc('month', {row}.{column})::date"


def _hours_values(row: str, sign: str, sqlite: bool) -> str:
    """An entry's hours in hundredths (exact: entries are quarter-hours) times ``sign``, after its key."""
    month = _month(row, 'worked_on', sqlite)
    hundredths = (f"CAST(round(CAST({row}.hours AS REAL) * 100) AS INTEGER)" if sqlite
                  else f"round(CAST({row}.hours AS numeric) * 100)::integer")
    return f"{month}, {row}.municipality, {row}.kind, {row}.assistant_id, {sign} * {hundredths}"


def _decision_values(row: str, sign: str, sqlite: bool) -> str:
    """A decision (MIN-3) by the month it was taken and the days it took (NO_DAYS when not known)."""
    return f"{_month(row, 'decided_on', sqlite)}, {row}.municipality, coalesce({row}.decision_days, {NO_DAYS}), {sign}"


def _upsert(tally: Tally, row: str, sign: str, sqlite: bool) -> str:
    """Add ``row``'s contribution times ``sign`` to its tally row (when the row counts)."""
    added = ', '.join(f'{s} = {tally.name}.{s} + excluded.{s}' for s in tally.sums)
    when = tally.only.format(row=row) if tally.only else 'true'
    return (f"INSERT INTO {tally.name} ({tally.key}, {', '.join(tally.sums)}) "
            f"SELECT {tally.values(row, sign, sqlite)} WHERE {when} ON CONFLICT ({tally.key}) DO UPDATE SET {added}")


def _sqlite_triggers(tally: Tally) -> None:
    changed = ' OR '.join(f'OLD.{c} IS NOT NEW.{c}' for c in tally.counted)
    op.execute(f"CREATE TRIGGER {tally.name}_insert AFTER INSERT ON {tally.watched} "
               f"BEGIN {_upsert(tally, 'NEW', '1', True)}; END")
    op.execute(f"CREATE TRIGGER {tally.name}_delete AFTER DELETE ON {tally.watched} "
               f"BEGIN {_upsert(tally, 'OLD', '-1', True)}; END")
    op.execute(f"CREATE TRIGGER {tally.name}_update AFTER UPDATE ON {tally.watched} WHEN {changed} "
               f"BEGIN {_upsert(tally, 'OLD', '-1', True)}; {_upsert(tally, 'NEW', '1', True)}; END")


def _postgres_triggers(tally: Tally) -> None:
    def key(row: str) -> str:
        return ', '.join(_top_level(tally.values(row, '1', False))[:len(tally.key.split(', '))])

    def add(row: str, sign: str) -> str:
        return _upsert(tally, row, sign, False) + ';'

    op.execute(f"""CREATE FUNCTION {tally.name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN {add('NEW', '1')}
    ELSIF TG_OP = 'DELETE' THEN {add('OLD', '-1')}
    ELSIF ROW({key('OLD')}) <= ROW({key('NEW')}) THEN {add('OLD', '-1')} {add('NEW', '1')}
    ELSE {add('NEW', '1')} {add('OLD', '-1')}
    END IF;
    RETURN NULL;
END $$""")
    changed = ' OR '.join(f'OLD.{c} IS DISTINCT FROM NEW.{c}' for c in tally.counted)
    for verb, when in (('insert', ''), ('delete', ''), ('update', f' WHEN ({changed})')):
        op.execute(f"CREATE TRIGGER {tally.name}_{verb} AFTER {verb.upper()} ON {tally.watched} FOR EACH ROW{when} "
                   f"EXECUTE FUNCTION {tally.name}()")


def _backfill(tally: Tally, sqlite: bool) -> None:
    """The tally of the rows written before this revision: the same contributions, summed."""
    names = [*tally.key.split(', '), *tally.sums]
    values = ', '.join(f'{v} AS {n}' for v, n in zip(_top_level(tally.values('w', '1', sqlite)), names, strict=True))
    when = f"WHERE {tally.only.format(row='w')}" if tally.only else ''
    op.execute(f"INSERT INTO {tally.name} ({', '.join(names)}) "
               f"SELECT {tally.key}, {', '.join(f'sum({s})' for s in tally.sums)} "
               f"FROM (SELECT {values} FROM {tally.watched} AS w {when}) AS d GROUP BY {tally.key}")


def _top_level(values: str) -> list[str]:
    """``values`` split at its top-level commas (none inside a call's parentheses or a quoted string)."""
    parts, depth, current, quoted = [], 0, '', False
    for char in values:
        quoted = quoted != (char == "'")
        if char == ',' and depth == 0 and not quoted:
            parts.append(current.strip())
            current = ''
            continue
        depth += (char == '(') - (char == ')')
        current += char
    return [*parts, current.strip()]


# each tally's triggers fire only when a column it counts by changes (a visit logged moves none)
CASES = Tally('ministry_case_tally', 'case_record', 'applied_month, municipality, status',
              ('cases', 'control', 'urgent', 'reassign', 'served', 'extensions'), _case_values,
              ('workflow_started', 'municipality', 'applied_on', 'status', 'control_group', 'urgent',
               'needs_reassignment', 'period_number'), '{row}.workflow_started')
GROUPS = Tally('ministry_case_group_tally', 'case_record', 'applied_month, municipality, target_group', ('cases',),
               _group_values, ('workflow_started', 'municipality', 'applied_on', 'target_group'),
               '{row}.workflow_started')
DECISIONS = Tally('ministry_decision_tally', 'case_record', 'decided_month, municipality, decision_days', ('decisions',),
                  _decision_values, ('workflow_started', 'municipality', 'decided_on', 'decision_days'),
                  '{row}.workflow_started AND {row}.decided_on IS NOT NULL')
HOURS = Tally('ministry_hours_tally', 'timesheet_entry', 'month, municipality, kind, assistant_id', ('hundredths',),
              _hours_values, ('municipality', 'assistant_id', 'kind', 'worked_on', 'hours'), '')


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    op.create_table('ministry_case_tally',
                    sa.Column('municipality', sa.String(length=20), nullable=False),
                    sa.Column('status', sa.String(length=20), nullable=False),
                    sa.Column('applied_month', sa.Date(), nullable=False),
                    *(sa.Column(name, sa.Integer(), nullable=False) for name in CASES.sums),
                    sa.PrimaryKeyConstraint('municipality', 'status', 'applied_month'),
                    sqlite_with_rowid=False)
    op.create_table('ministry_case_group_tally',
                    sa.Column('municipality', sa.String(length=20), nullable=False),
                    sa.Column('target_group', sa.String(length=40), nullable=False),
                    sa.Column('applied_month', sa.Date(), nullable=False),
                    sa.Column('cases', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('municipality', 'target_group', 'applied_month'),
                    sqlite_with_rowid=False)
    op.create_table('ministry_decision_tally',
                    sa.Column('municipality', sa.String(length=20), nullable=False),
                    sa.Column('decided_month', sa.Date(), nullable=False),
                    sa.Column('decision_days', sa.Integer(), nullable=False),
                    sa.Column('decisions', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('municipality', 'decided_month', 'decision_days'),
                    sqlite_with_rowid=False)
    op.create_table('ministry_hours_tally',
                    sa.Column('month', sa.Date(), nullable=False),
                    sa.Column('municipality', sa.String(length=20), nullable=False),
                    sa.Column('kind', sa.String(length=10), nullable=False),
                    sa.Column('assistant_id', sa.String(length=100), nullable=False),
                    sa.Column('hundredths', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('municipality', 'kind', 'assistant_id', 'month'),
                    sqlite_with_rowid=False)
    for tally in (CASES, GROUPS, DECISIONS, HOURS):
        _backfill(tally, sqlite)
        (_sqlite_triggers if sqlite else _postgres_triggers)(tally)
    for (old, _), (new, columns) in REPLACED:
        op.drop_index(old, table_name='case_record')
        op.create_index(new, 'case_record', columns, unique=False)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for (old, columns), (new, _) in REPLACED:
        op.drop_index(new, table_name='case_record')
        op.create_index(old, 'case_record', columns, unique=False)
    for tally in (CASES, GROUPS, DECISIONS, HOURS):
        for verb in ('insert', 'update', 'delete'):
            op.execute(f'DROP TRIGGER {tally.name}_{verb}' + ('' if sqlite else f' ON {tally.watched}'))
        if not sqlite:
            op.execute(f'DROP FUNCTION {tally.name}()')
        op.drop_table(tally.name)
