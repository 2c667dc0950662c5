"""CASE-6: a personal code never reaches logs, workflow inputs, histories or search attributes."""

from __future__ import annotations

import logging

import pytest

from domain.roles import Role
from famassist.logs import configure_logging
from tests.api.conftest import Api
from tests.factories import PERSONAL_CODE
from workflows.client_case import case_workflow_id


async def test_case6_the_personal_code_is_absent_from_logs_history_and_search_attributes(
    api: Api, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    configure_logging("json", "DEBUG")
    caplog.set_level(logging.DEBUG)
    sw = api.auth(Role.SOCIAL_WORKER)
    bad = await api.http.post("/cases", headers=sw, json={
        "full_name": "Jānis Kalniņš", "personal_code": PERSONAL_CODE[:-1] + "0", "consent": True})
    assert bad.status_code == 422 and PERSONAL_CODE[:-1] not in bad.text  # not echoed back
    opened = await api.http.post("/cases", headers=sw, json={
        "full_name": "Jānis Kalniņš", "personal_code": PERSONAL_CODE, "birth_date": "1985-03-15",
        "address": "Lenču iela 3, Cēsis", "consent": True})
    assert opened.status_code == 201
    case_id = opened.json()["case"]["case_id"]
    handle = api.temporal.client.get_workflow_handle(case_workflow_id(case_id))
    await api.http.post(f"/cases/{case_id}/handover", headers=sw,
                        json={"new_case_manager_id": "sw-cesis-2", "reason": "Leave"})

    history = (await handle.fetch_history()).to_json()
    description = await handle.describe()
    logs = capfd.readouterr()
    captured = logs.out + logs.err + caplog.text

    assert "case change recorded" in captured  # the logs were captured
    assert case_id in history
    for secret in (PERSONAL_CODE, PERSONAL_CODE.replace("-", ""), "Kalniņš", "Lenču", "1985-03-15"):
        assert secret not in history
        assert secret not in captured
        assert secret not in str(description.typed_search_attributes)
