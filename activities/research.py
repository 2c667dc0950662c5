"""RES-2: a recorded research assessment lands in ``research_assessment`` with its change (CASE-4)."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from persistence.models import ResearchAssessment
from workflows.case_projection import RecordCaseChange

ACTION = "research_assessed"


def write_research_assessment(session: Session, record: RecordCaseChange) -> None:
    """Insert the assessment once (unique case and number): a retry finds it there and writes nothing."""
    change = record.change
    if change.action != ACTION:
        return
    details = change.details
    found = session.exec(select(ResearchAssessment.id).where(
        ResearchAssessment.case_id == record.case_id, ResearchAssessment.number == details["number"])).first()
    if found is not None:
        return
    session.add(ResearchAssessment(
        case_id=record.case_id, municipality=record.municipality, number=details["number"],
        due_on=date.fromisoformat(details["due_on"]), assessed_on=date.fromisoformat(details["assessed_on"]),
        control_group=details["control_group"], scores=details["scores"], seq=change.seq,
        recorded_by=change.actor.user_id, recorded_at=change.at))
