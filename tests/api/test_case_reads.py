"""Reading a case without asking its workflow: the state its last change left is kept with the row.

``GET /cases/{id}`` and the case file (CASE-5) read the state written in the same transaction as
the change's audit event and projection; a Query waits behind the workflow's tasks under load.
A case whose workflow has kept no state yet (a run from before) is still read by Query.
"""

from __future__ import annotations

import pytest
from sqlmodel import Session, delete

from api import case_views
from domain.case_state import CaseState
from domain.roles import Role
from persistence.db import make_engine
from persistence.models import CaseLiveState, CaseRecord
from tests.api.conftest import Api
from tests.api.first_loop import assessment
from tests.factories import PERSONAL_CODE
from workflows.client_case import ClientCaseWorkflow, case_workflow_id


async def _asked(api: Api, case_id: str) -> CaseState:
    handle = api.temporal.client.get_workflow_handle(case_workflow_id(case_id))
    return await handle.query(ClientCaseWorkflow.state)


async def test_case_4_a_case_reads_as_its_last_change_left_it_without_asking_the_workflow(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    sw = api.auth(Role.SOCIAL_WORKER)
    opened = await api.http.post("/cases", headers=sw, json={
        "full_name": "Anna Ozola", "personal_code": PERSONAL_CODE, "consent": True})
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case"]["case_id"]
    assessed = await api.http.post(f"/cases/{case_id}/assessment", headers=sw, json=assessment())
    assert assessed.status_code == 200, assessed.text

    async def no_query(*_: object) -> None:
        raise AssertionError("GET /cases/{id} asked the workflow")

    monkeypatch.setattr(case_views, "live_state", no_query)
    read = await api.http.get(f"/cases/{case_id}", headers=sw)
    assert read.status_code == 200, read.text
    live = CaseState.model_validate(read.json()["live"])
    assert live == await _asked(api, case_id)  # the workflow's own state, as the change left it
    assert live.status.value == read.json()["case"]["status"] == "assessed"
    assert live.seq == 2  # the registration, then the assessment

    file = await api.http.get(f"/cases/{case_id}/file", headers=sw)
    assert file.status_code == 200, file.text
    assert CaseState.model_validate(file.json()["live"]) == live


async def test_a_case_with_no_kept_state_is_read_by_query(api: Api) -> None:
    sw = api.auth(Role.SOCIAL_WORKER)
    opened = await api.http.post("/cases", headers=sw, json={
        "full_name": "Anna Ozola", "personal_code": PERSONAL_CODE, "consent": True})
    case_id = opened.json()["case"]["case_id"]
    engine = make_engine(api.settings.database_url)
    try:
        with Session(engine) as session:  # as a run recorded before the state was kept
            session.exec(delete(CaseLiveState).where(CaseLiveState.case_id == case_id))
            session.commit()
            assert session.get(CaseRecord, case_id) is not None
    finally:
        engine.dispose()
    for path in (f"/cases/{case_id}", f"/cases/{case_id}/file"):
        read = await api.http.get(path, headers=sw)
        assert read.status_code == 200, read.text
        assert CaseState.model_validate(read.json()["live"]) == await _asked(api, case_id)
