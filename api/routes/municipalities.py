"""A municipality joins the pilot (DOMAIN.md §2, MUN-1…MUN-4)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from api.auth import Principal, PrincipalDep, forbidden, require_own_municipality, require_roles
from api.deps import SessionDep
from api.pagination import Key, Keyset, Page, PageDep, fetch_page
from api.pilot_schemas import (
    AgreementCreate,
    MunicipalityPublic,
    MunicipalityPut,
    OrderCreate,
    SeminarAttendanceCreate,
)
from domain.errors import RuleViolation
from domain.roles import CASE_MANAGERS, Role
from persistence.models import (
    AssistantRecord,
    CooperationAgreement,
    Municipality,
    MunicipalOrder,
    SeminarAttendance,
)
from persistence.unit_of_work import begin_write, lock_name

router = APIRouter(prefix="/municipalities", tags=["municipalities"])
Code = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,20}$", description="Municipality code, e.g. CESIS")]
ServiceHead = require_roles(Role.SERVICE_HEAD)


def _publics(session: Session, municipalities: list[Municipality]) -> list[MunicipalityPublic]:
    """The municipalities' participation in four queries, however many there are (issue 8)."""
    codes = [m.code for m in municipalities]
    agreements = {a.municipality: a for a in session.exec(
        select(CooperationAgreement).where(col(CooperationAgreement.municipality).in_(codes)))}
    orders: dict[str, list[str]] = defaultdict(list)
    for code, assistant_id in session.exec(select(MunicipalOrder.municipality, MunicipalOrder.assistant_id)
                                           .where(col(MunicipalOrder.municipality).in_(codes))):
        orders[code].append(assistant_id)
    attendees: dict[str, list[str]] = defaultdict(list)
    for code, worker in session.exec(select(SeminarAttendance.municipality, SeminarAttendance.social_worker_id)
                                     .where(col(SeminarAttendance.municipality).in_(codes))):
        attendees[code].append(worker)
    nominated = dict(session.exec(select(AssistantRecord.municipality, func.count())
                                  .where(col(AssistantRecord.municipality).in_(codes))
                                  .group_by(col(AssistantRecord.municipality))).all())
    return [MunicipalityPublic(code=m.code, name=m.name, population=m.population,
                               agreement_number=agreements[m.code].number if m.code in agreements else None,
                               agreement_signed_on=agreements[m.code].signed_on if m.code in agreements else None,
                               ordered_assistants=sorted(orders[m.code]), seminar_attendees=sorted(attendees[m.code]),
                               nominated_assistants=nominated.get(m.code, 0))
            for m in municipalities]


def _public(session: Session, municipality: Municipality) -> MunicipalityPublic:
    return _publics(session, [municipality])[0]


def _municipality(session: Session, principal: Principal, code: str) -> Municipality:
    if not principal.has(Role.TRAINING_PROVIDER):  # it works with every municipality (§1)
        require_own_municipality(principal, code)
    found = session.get(Municipality, code)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such municipality")
    return found


def _insert(session: Session, row: object, rule: str, what: str) -> None:
    """Recorded once: the key's unique constraint decides between concurrent recordings (409 for the rest)."""
    begin_write(session)
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise RuleViolation(rule, f"{what} is recorded already") from None


@router.put("/{code}", dependencies=[require_roles(Role.MINISTRY)])
def put_municipality(code: Code, body: MunicipalityPut, session: SessionDep) -> MunicipalityPublic:
    """The ministry records a municipality taking part: code, name, population (MUN-3 needs it)."""
    begin_write(session)
    lock_name(session, f"municipality:{code}")  # concurrent PUTs of a new code: one inserts, the others update
    municipality = session.get(Municipality, code) or Municipality(code=code, name=body.name,
                                                                  population=body.population,
                                                                  updated_at=datetime.now(UTC))
    municipality.name, municipality.population = body.name, body.population
    municipality.updated_at = datetime.now(UTC)
    session.add(municipality)
    session.commit()
    return _public(session, municipality)


MUNICIPALITY_ORDER = Keyset("municipalities", (Key("code", col(Municipality.code), str),))


@router.get("")
def list_municipalities(principal: PrincipalDep, session: SessionDep, page: PageDep) -> Page[MunicipalityPublic]:
    """Municipal staff see their own; the ministry and the training provider see all (a page at a time)."""
    query = select(Municipality)
    if principal.has(Role.MINISTRY, Role.TRAINING_PROVIDER):
        pass  # every municipality
    elif principal.has(*CASE_MANAGERS):
        query = query.where(Municipality.code == principal.municipality)
    else:
        raise forbidden(principal, "municipalities")
    found = fetch_page(session, query, MUNICIPALITY_ORDER, page)
    return found.page(_publics(session, found.rows))


@router.get("/{code}")
def read_municipality(code: Code, principal: PrincipalDep, session: SessionDep) -> MunicipalityPublic:
    """One municipality's participation: agreement, orders, seminar, nominations."""
    if not principal.has(*CASE_MANAGERS, Role.MINISTRY, Role.TRAINING_PROVIDER):  # the assistant, the researcher
        raise forbidden(principal, "municipalities")
    return _public(session, _municipality(session, principal, code))


@router.post("/{code}/agreement", status_code=status.HTTP_201_CREATED,
             dependencies=[require_roles(Role.MINISTRY, Role.SERVICE_HEAD)])
def record_agreement(code: Code, body: AgreementCreate, principal: PrincipalDep,
                     session: SessionDep) -> MunicipalityPublic:
    """MUN-1: the cooperation agreement with the ministry (signing date, number). Recorded once."""
    municipality = _municipality(session, principal, code)
    _insert(session, CooperationAgreement(municipality=code, number=body.number, signed_on=body.signed_on,
                                          recorded_by=principal.user_id, recorded_at=datetime.now(UTC)),
            "MUN-1", "the agreement")
    return _public(session, municipality)


@router.post("/{code}/orders", status_code=status.HTTP_201_CREATED, dependencies=[ServiceHead])
def record_order(code: Code, body: OrderCreate, principal: PrincipalDep, session: SessionDep) -> MunicipalityPublic:
    """MUN-2: the municipality's order (rīkojums) naming an assistant who takes part."""
    municipality = _municipality(session, principal, code)
    _insert(session, MunicipalOrder(assistant_id=body.assistant_id, municipality=code, number=body.number,
                                    issued_on=body.issued_on, recorded_by=principal.user_id,
                                    recorded_at=datetime.now(UTC)),
            "MUN-2", "an order naming this assistant")
    return _public(session, municipality)


@router.post("/{code}/seminar-attendance", status_code=status.HTTP_201_CREATED, dependencies=[ServiceHead])
def record_seminar(code: Code, body: SeminarAttendanceCreate, principal: PrincipalDep,
                   session: SessionDep) -> MunicipalityPublic:
    """MUN-4: a social worker of the municipality attended the 8-hour seminar."""
    municipality = _municipality(session, principal, code)
    _insert(session, SeminarAttendance(municipality=code, social_worker_id=body.social_worker_id,
                                       attended_on=body.attended_on, hours=body.hours,
                                       recorded_at=datetime.now(UTC)),
            "MUN-4", "this social worker's attendance")
    return _public(session, municipality)
