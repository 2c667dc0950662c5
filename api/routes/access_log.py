"""MIN-6: the access log, who read whose personal data, for the controller's data-protection officer.

Every read of a client's personal data is recorded (persistence/access_log.py): the client file
(CASE-5) lists the reads of its case; this list answers the other questions a data-protection
officer is asked: what did this user read, who read this case, what was read in this municipality
between two dates. The municipality's service head reads its municipality's records; the ministry
(which coordinates the pilot) every municipality's. A record names users and cases by id, never a
client's data, so reading it is no read of personal data. Nothing changes or removes a record.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import col, select

from api.auth import Principal, require_roles
from api.deps import SessionDep
from api.pagination import Key, Keyset, Page, PageDep, fetch_page
from api.schemas import PersonalDataReadPublic
from domain.calendar import start_of_day
from domain.roles import Role
from domain.values import ServiceDate
from persistence.models import PersonalDataRead

router = APIRouter(prefix="/access-log", tags=["access log (MIN-6)"])

Readers = require_roles(Role.SERVICE_HEAD, Role.MINISTRY)  # the municipality's controller; the coordinator
READ_ORDER = Keyset("access-log", (Key("id", col(PersonalDataRead.id), int, descending=True),))


@router.get("")
def list_personal_data_reads(
    session: SessionDep, page: PageDep, principal: Annotated[Principal, Readers],
    case_id: Annotated[str | None, Query(max_length=36, description="One case's reads")] = None,
    reader_id: Annotated[str | None, Query(max_length=100, description="One user's reads")] = None,
    municipality: Annotated[str | None, Query(max_length=20, description="Ministry only: one municipality")] = None,
    first: Annotated[ServiceDate | None, Query(alias="from", description="From this Riga date")] = None,
    last: Annotated[ServiceDate | None, Query(alias="to", description="Up to this Riga date, included")] = None,
) -> Page[PersonalDataReadPublic]:
    """MIN-6: reads of clients' personal data, newest first (a page at a time): who (user id and
    role), when, which case, through which operation. The service head: its municipality's; the
    ministry: every municipality's."""
    query = select(PersonalDataRead)
    if not principal.has(Role.MINISTRY):  # the service head: its own municipality's
        query = query.where(PersonalDataRead.municipality == principal.municipality)
    if municipality is not None:
        query = query.where(PersonalDataRead.municipality == municipality)
    if case_id is not None:
        query = query.where(PersonalDataRead.case_id == case_id)
    if reader_id is not None:
        query = query.where(PersonalDataRead.reader_id == reader_id)
    if first is not None:
        query = query.where(col(PersonalDataRead.at) >= start_of_day(first))
    if last is not None:
        query = query.where(col(PersonalDataRead.at) < start_of_day(last + timedelta(days=1)))
    found = fetch_page(session, query, READ_ORDER, page)
    return found.page([PersonalDataReadPublic.model_validate(r) for r in found.rows])
