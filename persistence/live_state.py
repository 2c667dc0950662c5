"""The case workflow's state as its last recorded change left it (``case_live_state``)."""

from __future__ import annotations

from typing import Any, cast

from pydantic import ValidationError
from sqlalchemy import CursorResult, bindparam, select, update
from sqlmodel import Session

from domain.case_state import CaseState
from persistence.models import CaseLiveState
from persistence.new_rows import insert_new, table_of


def keep_live_state(session: Session, case_id: str, seq: int, state: dict[str, Any], *, new: bool = False) -> None:
    """The state change ``seq`` left, unless a later change's is there already (out-of-order retries).

    ``new``: the case's row is written in this transaction, so nothing is kept for it yet (no read).
    """
    # Core statements: the kept state is never loaded as an object (persistence/new_rows.py)
    values = {"kept_case": case_id, "kept_version": seq, "kept_state": state}
    if not new:
        if cast(CursorResult[Any], session.execute(_NEWER, values)).rowcount:
            return
        if session.scalar(_KEPT, values) is not None:  # a later change's state is there already
            return
    insert_new(session, CaseLiveState(case_id=case_id, version=seq, state=state))


_TABLE = table_of(CaseLiveState)
_NEWER = (update(_TABLE)
          .where(_TABLE.c.case_id == bindparam("kept_case"), _TABLE.c.version < bindparam("kept_version"))
          .values(version=bindparam("kept_version"), state=bindparam("kept_state", type_=_TABLE.c.state.type)))
_KEPT = select(_TABLE.c.version).where(_TABLE.c.case_id == bindparam("kept_case"))


def live_state_kept(session: Session, case_id: str) -> CaseState | None:
    """The kept state; None when its workflow has recorded nothing here (a run from before) or it no
    longer reads as a state (then the caller asks the workflow)."""
    kept = session.get(CaseLiveState, case_id)
    if kept is None:
        return None
    try:
        return CaseState.model_validate(kept.state)
    except ValidationError:
        return None
