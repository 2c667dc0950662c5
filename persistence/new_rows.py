"""New rows written by one Core ``INSERT`` each, without the ORM's unit of work (issue 8).

``POST /cases`` writes five new rows (the case, its client, its registration, the research
reminder, the kept state) and marks the row complete after its workflow started. Through the
ORM's flush and its ORM-enabled ``UPDATE`` that took 6.4 ms per opening (its two database calls
timed alone, one thread, SQLite), half the API's CPU for the whole request, and on SQLite most of
it is spent holding the database's write lock; by Core statements 3.7 ms (benchmark (1): the API's
CPU per start 12.5 → 8.9 ms, 2026-11-24). These rows are new by
construction (their keys derive from a case id nobody has used yet), so nothing the ORM does for
them (identity map, change tracking, ordering by foreign key) is needed: they are inserted in the
order given, parents first, by statements compiled once.

The model objects stay as they were built (transient, not in any session) and can be answered from.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Insert, Table, insert
from sqlmodel import Session, SQLModel


@cache
def _insert_into(table: Table) -> Insert:
    return insert(table)


def table_of(model: type[SQLModel] | SQLModel) -> Table:
    """The table of a table model (its class or a row of it), for Core statements."""
    cls = model if isinstance(model, type) else type(model)
    table = getattr(cls, "__table__", None)
    if not isinstance(table, Table):
        raise TypeError(f"{cls.__name__} is not a table model")
    return table


def values_of(row: SQLModel) -> dict[str, Any]:
    """The row's column values; a column left None that the database fills in (a generated key, a
    default of its own) is left out. The object does not learn a generated key."""
    values: dict[str, Any] = {}
    for column in table_of(row).columns:
        value = getattr(row, column.key)
        if value is None and (column.primary_key or column.default is not None or column.server_default is not None):
            continue
        values[column.key] = value
    return values


def insert_new(session: Session, *rows: SQLModel) -> None:
    """Insert ``rows`` in this order (parents before the rows that refer to them) in the session's
    transaction. A row whose key exists already fails the statement (``IntegrityError``), as a flush would."""
    for row in rows:
        session.execute(_insert_into(table_of(row)), values_of(row))
