"""RES-2 over HTTP: when the study ends (``FAMASSIST_STUDY_ENDS_ON``), an open control-group case is closed
with its own reason, `study_ended`; a served case goes on. The dev server's clock cannot be moved on, so
the study here ends today: a case registered now reaches its end at its first wake."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from domain.roles import Role
from famassist.settings import Settings
from tests.api.conftest import Api, eventually
from tests.factories import PERSONAL_CODE
from tests.riga import riga_today

BODY = {"full_name": "Anna", "personal_code": PERSONAL_CODE, "consent": True}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"study_ends_on": riga_today()})


async def test_res2_the_study_end_closes_a_control_group_case_with_study_ended(api: Api) -> None:
    sw = api.auth(Role.SOCIAL_WORKER)
    yesterday = str(riga_today() - timedelta(days=1))
    cases = {}
    for control_group in (True, False):
        opened = await api.http.post("/cases", headers=sw, json={**BODY, "control_group": control_group,
                                                                  "applied_on": yesterday})
        assert opened.status_code == 201, opened.text
        cases[control_group] = opened.json()["case"]["case_id"]

    async def closed() -> dict[str, Any] | None:
        found: dict[str, Any] = (await api.http.get(f"/cases/{cases[True]}", headers=sw)).json()
        return found if found["case"]["status"] == "closed" else None

    found = await eventually(closed)
    assert found["case"]["closure_reason"] == "study_ended" and found["live"]["closed_on"] == str(riga_today())
    events = (await api.http.get(f"/cases/{cases[True]}/events", headers=sw)).json()["items"]
    assert (events[-1]["action"], events[-1]["actor_role"]) == ("closed", "system")
    reminders = (await api.http.get("/reminders", headers=sw, params={"case_id": cases[True]})).json()["items"]
    assert reminders == []  # the assessment due at registration was resolved with the closure
    served = (await api.http.get(f"/cases/{cases[False]}", headers=sw)).json()
    assert served["case"]["status"] == "registered"
    assert served["live"]["research"]["next_due_on"] == yesterday  # due within the study; none after it
    recorded = await api.http.post(f"/cases/{cases[False]}/research-assessments", headers=sw,
                                   json={"scores": {d: 4 for d in api.settings.research_domains}})
    assert recorded.status_code == 201, recorded.text
    after = (await api.http.get(f"/cases/{cases[False]}", headers=sw)).json()["live"]["research"]
    assert after["next_due_on"] is None
