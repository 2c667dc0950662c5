"""The case workflow's state as its last recorded change left it (``case_live_state``)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from domain.case_state import CaseState
from persistence.models import CaseLiveState


def keep_live_state(session: Session, case_id: str, seq: int, state: dict[str, Any], *, new: bool = False) -> None:
    """The state change ``seq`` left, unless a later change's is there already (out-of-order retries).

    ``new``: the case's row is written in this transaction, so nothing is kept for it yet (no read).
    """
    kept = None if new else session.get(CaseLiveState, case_id)
    if kept is None:
        session.add(CaseLiveState(case_id=case_id, version=seq, state=state))
    elif kept.version < seq:
        kept.version, kept.state = seq, state
        session.add(kept)


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
