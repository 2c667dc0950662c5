"""Kept answers carry no personal data (CASE-6): the client's data is left out when an answer is
kept for its retries and read back from ``case_client`` when it is replayed.

An answer with a case (``{"case": {"case_id": …}, "client": {…}, …}``) is kept with
``"client": {"kept_in": "case_client"}``; its replay puts the client's data back in the same
place, serialised as FastAPI serialises it, so the replay is the first answer, byte for byte.
A replay that gives the client's data back is a read of it (MIN-6), recorded like the first answer.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from api.auth import Principal, may_see_personal_data, reading_role
from api.schemas import ClientPublic
from domain.roles import Role
from persistence.access_log import note_read, write_noted_reads
from persistence.db import SessionFactory
from persistence.idempotency import StoredAnswer
from persistence.models import CaseClient, CaseRecord

KEPT_IN = {"kept_in": "case_client"}


def _dumps(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def _case_answer(content_type: str | None, body: bytes) -> dict[str, Any] | None:
    if not content_type or not content_type.startswith("application/json"):
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return None
    if isinstance(document, dict) and isinstance(document.get("case"), dict) and "client" in document:
        return document
    return None


def without_personal_data(content_type: str | None, body: bytes) -> bytes:
    document = _case_answer(content_type, body)
    if document is None or not isinstance(document["client"], dict):
        return body
    document["client"] = KEPT_IN
    return _dumps(document)


def _reader(caller: str) -> Principal:
    """The caller an answer was kept for: ``roles:municipality:user`` (roles joined by ``+``)."""
    names, _, rest = caller.partition(":")
    municipality, _, user_id = rest.partition(":")  # a municipality code has no colon; a user id may
    roles = frozenset(Role(name) for name in names.split("+") if name in Role.__members__.values())
    return Principal(user_id=user_id, roles=roles, municipality=municipality)


def with_personal_data(sessions: SessionFactory, stored: StoredAnswer, caller: str, method: str, path: str) -> bytes:
    """The kept answer with the client's data put back; ``caller`` (``roles:municipality:user``, as
    api/idempotency.py keys answers) reads it through ``method`` ``path`` (MIN-6), in the role that
    lets them read it (api/auth.py ``reading_role``)."""
    document = _case_answer(stored.content_type, stored.body)
    if document is None or document["client"] != KEPT_IN:
        return stored.body
    case_id = str(document["case"].get("case_id"))
    with sessions() as session:
        client, row = session.get(CaseClient, case_id), session.get(CaseRecord, case_id)
        document["client"] = (ClientPublic.model_validate(client, from_attributes=True).model_dump(mode="json")
                              if client is not None else None)
        if client is not None and row is not None:
            reader = _reader(caller)
            role = (reading_role(reader, row).value if may_see_personal_data(reader, row)
                    else caller.partition(":")[0].split("+")[0])  # the role of the first answer, as before
            note_read(session, case_id=case_id, municipality=row.municipality, reader_id=reader.user_id,
                      reader_role=role, operation=f"{method} {path.replace(case_id, '{case_id}')}",
                      at=datetime.now(UTC))
            write_noted_reads(session)
    return _dumps(document)
