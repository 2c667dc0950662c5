"""The coded research export (RES-3) for the researcher, and its log (RES-4) for the ministry."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import col, select

from api.auth import Principal, require_roles
from api.deps import SessionDep, SessionsDep, SettingsDep
from api.openapi import PROBLEM_REF
from api.pagination import Key, Keyset, Page, PageDep, fetch_page, refuse_unknown_query
from api.problems import PROBLEM_JSON
from api.research_files import MEDIA_TYPES, write_export
from domain.calendar import local_date
from domain.research_export import DEFAULT_DOMAINS, ExportFormat, ExportTable, columns_of
from domain.roles import Role
from famassist.settings import Settings
from persistence.models import ResearchExportLog
from persistence.research_reads import ExportFilter, ExportRequest, export_rows
from persistence.unit_of_work import write_transaction

router = APIRouter(prefix="/research", tags=["research"])

MONTH = r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])$"
NO_KEY = ("the coded export is not available: the operator has configured no pseudonym key "
          "(FAMASSIST_RESEARCH_KEY or the key file research_key_file; RES-3)")
EXPORT_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"description": "The export: CSV (a header row, then one row per line) or Parquet (one row group per "
                         "batch of cases).",
          "content": {"text/csv": {"schema": {"type": "string"}},
                      MEDIA_TYPES[ExportFormat.PARQUET]: {"schema": {"type": "string", "format": "binary"}}}},
    503: {"description": "No pseudonym key is configured (RES-3), or the export log could not be written in time; "
                         "nothing was exported.",
          "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}},
}


def research_domains(settings: Settings) -> tuple[str, ...]:
    """RES-2's domains, one score column each: the setting where there is one, else the ten skill areas."""
    configured = getattr(settings, "research_domains", None)
    return tuple(str(domain) for domain in configured) if configured else DEFAULT_DOMAINS


@router.get("/export/{table}", response_class=StreamingResponse, responses=EXPORT_ANSWERS,
            dependencies=[Depends(refuse_unknown_query)])
def export(
    table: ExportTable, sessions: SessionsDep, settings: SettingsDep,
    principal: Annotated[Principal, require_roles(Role.RESEARCHER)],
    format: ExportFormat = ExportFormat.CSV,
    municipality: Annotated[str | None, Query(max_length=20, pattern=r"^[A-Za-z0-9_-]+$",
                                              description="One municipality's clients only")] = None,
    from_month: Annotated[str | None, Query(alias="from", pattern=MONTH, description=(
        "First month (YYYY-MM): of registration (clients), of the assessment (assessments), of the hours (hours)"))]
    = None,
    to_month: Annotated[str | None, Query(alias="to", pattern=MONTH, description="Last month (YYYY-MM), included")]
    = None,
) -> StreamingResponse:
    """RES-3: the coded export, for the researcher only; recorded in the export log (RES-4).

    `clients`: one row per client; `assessments`: one row per client per research assessment (RES-2), with
    the client's columns and one score column per domain; `hours`: one row per client per month of service
    hours. Each client appears under a pseudonym (HMAC-SHA-256 of the case id with the operator's key):
    no name, personal code, birth date, address or free text, and no date finer than the month.
    """
    key = settings.research_pseudonym_key()
    if key is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, NO_KEY)
    if from_month and to_month and from_month > to_month:
        raise HTTPException(422, [{"loc": ["query", "to"], "msg": "the last month is before the first",
                                   "type": "value_error"}])
    chosen = ExportFilter(municipality=municipality, from_month=from_month, to_month=to_month)
    domains = research_domains(settings)
    request = ExportRequest(table=table, filter=chosen, key=key, today=local_date(datetime.now(UTC)),
                            domains=domains, batch=settings.research_export_batch_rows)
    with sessions() as session:
        built = write_export(format, columns_of(table, domains), export_rows(session, request))
    try:
        with write_transaction(sessions) as session:  # RES-4: who, when, what, which filter, how many rows
            session.add(ResearchExportLog(
                exported_at=datetime.now(UTC), user_id=principal.user_id,
                role=principal.acting_role({Role.RESEARCHER}).value,
                table_name=table.value, format=format.value, municipality=municipality, from_month=from_month,
                to_month=to_month, row_count=built.rows))
    except BaseException:
        built.file.close()  # not logged, not sent
        raise
    name = f"famassist-{table.value}.{format.value}"
    return StreamingResponse(built.chunks(), media_type=MEDIA_TYPES[format], headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Content-Length": str(built.size),
        "X-Row-Count": str(built.rows)})


class ResearchExportPublic(BaseModel):
    """One export taken (RES-4): who, when, which table, format and filter, how many rows."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    exported_at: datetime
    user_id: str
    role: str
    table: str = Field(validation_alias="table_name")
    format: str
    municipality: str | None = Field(description="The municipality filter; null: every municipality")
    from_month: str | None
    to_month: str | None
    row_count: int


EXPORT_LOG_ORDER = Keyset("research-exports", (
    Key("exported_at", col(ResearchExportLog.exported_at), datetime, descending=True),
    Key("id", col(ResearchExportLog.id), int, descending=True)))


@router.get("/exports", dependencies=[require_roles(Role.MINISTRY)])
def export_log(session: SessionDep, page: PageDep,
               user_id: Annotated[str | None, Query(max_length=100, description="One researcher's exports")] = None,
               ) -> Page[ResearchExportPublic]:
    """RES-4: every coded export taken, newest first (the ministry only; a page at a time)."""
    query = select(ResearchExportLog)
    if user_id is not None:
        query = query.where(ResearchExportLog.user_id == user_id)
    found = fetch_page(session, query, EXPORT_LOG_ORDER, page)
    return found.page([ResearchExportPublic.model_validate(row) for row in found.rows])
