"""A small demo data set, loaded through the HTTP API like any client would.

Cēsis (DOMAIN.md §8) joins the pilot, two assistants trained four months ago are in
full service, and four families are at different steps of their cases.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from domain.calendar import add_months, local_date
from domain.quarters import Quarter
from domain.roles import Role
from famassist.settings import Settings
from famassist.tokens import issue_dev_token

MUNICIPALITY = "CESIS"
SOCIAL_WORKER = "sw-cesis-1"
SERVICE_HEAD = "head-cesis"
ASSISTANTS = ["ga-cesis-1", "ga-cesis-2"]


def _assessment(risk: str) -> dict[str, Any]:
    return {"assessment": {
        "target_group": "family_with_children", "child_safety_risk": risk,
        "skill_areas": ["childcare_and_upbringing", "budget_planning"], "methods": ["genogram", "ecomap"],
        "service_needed": True, "opinion": "Support with routines and the budget is needed.",
        "client_motivated": True,
    }}


def _plan(today: date) -> dict[str, Any]:
    return {"goals": ["A monthly budget the family keeps"],
            "tasks": [{"description": "Draw up the budget", "due_on": str(today + timedelta(days=30)),
                       "responsible": "assistant"}],
            "expected_results": ["No rent arrears for three months"], "responsible": SOCIAL_WORKER}


class _Api:
    def __init__(self, http: httpx.Client, settings: Settings) -> None:
        self.http, self.settings = http, settings

    def headers(self, role: Role, user: str, municipality: str = MUNICIPALITY) -> dict[str, str]:
        token = issue_dev_token(self.settings, role=role, municipality=municipality, user_id=user)
        return {"Authorization": f"Bearer {token}"}

    def send(self, method: str, path: str, headers: dict[str, str], body: dict[str, Any] | None = None,
             accept: tuple[int, ...] = (200, 201)) -> dict[str, Any]:
        answer = self.http.request(method, path, json=body, headers=headers)
        if answer.status_code not in accept:
            raise RuntimeError(f"{method} {path} answered {answer.status_code}: {answer.text}")
        result: dict[str, Any] = answer.json()
        return result


def _assistant(api: _Api, assistant_id: str, today: date) -> str:
    head = api.headers(Role.SERVICE_HEAD, SERVICE_HEAD)
    if api.http.get(f"/assistants/{assistant_id}", headers=head).status_code == 200:
        return f"{assistant_id}  (there already)"
    provider = api.headers(Role.TRAINING_PROVIDER, "saif-1", "LV")
    start = add_months(today, -4)
    api.send("POST", f"/municipalities/{MUNICIPALITY}/orders", head,
             {"assistant_id": assistant_id, "number": f"R-{assistant_id}", "issued_on": str(start)})
    api.send("POST", "/assistants", head, {"assistant_id": assistant_id, "full_name": f"Demo {assistant_id}",
                                           "education_level": "vocational_secondary", "cv_received": True,
                                           "motivation_letter_received": True})
    api.send("POST", f"/assistants/{assistant_id}/interview", provider, {
        "held_on": str(start - timedelta(days=7)), "result": "suitable", "online": True,
        "social_worker_present_id": SOCIAL_WORKER})
    api.send("POST", f"/assistants/{assistant_id}/contract", head,
             {"signed_on": str(start), "fte": "0.5", "training_starts_on": str(start)})
    for _ in range(100):  # the phase timers catch up with the calendar within moments
        if api.send("GET", f"/assistants/{assistant_id}", head)["assistant"]["phase"] == "full_service":
            break
        time.sleep(0.1)
    api.send("POST", f"/assistants/{assistant_id}/fte-amendments", head,
             {"effective_from": str(today), "fte": "1.0"})
    return f"{assistant_id}  full_service, 1.0 FTE"


def load_demo(settings: Settings, api_url: str, today: date | None = None) -> Iterator[str]:
    """Yields one line per assistant and case loaded."""
    today = today or local_date(datetime.now(UTC))  # a Riga date (DOMAIN.md "Dates")
    with httpx.Client(base_url=api_url, timeout=30) as http:
        api = _Api(http, settings)
        ministry = api.headers(Role.MINISTRY, "lm-1", "LV")
        api.send("PUT", f"/municipalities/{MUNICIPALITY}", ministry, {"name": "Cēsis", "population": 15000})
        api.send("POST", f"/municipalities/{MUNICIPALITY}/agreement", ministry,
                 {"number": "LM-2020-CESIS", "signed_on": "2020-09-01"}, accept=(201, 409))
        for assistant_id in ASSISTANTS:
            yield _assistant(api, assistant_id, today)
        sw = api.headers(Role.SOCIAL_WORKER, SOCIAL_WORKER)
        # HRS-3: the referred families date from the quarter before's last day, so its hours can be logged then.
        since = Quarter.of(today).starts_on - timedelta(days=1)
        for n, step in enumerate(["registered", "assessed", "referred", "in_service"], start=1):
            referred = step in {"referred", "in_service"}
            applied_on = (since if referred else today) - timedelta(days=n)
            case = api.send("POST", "/cases", sw, {"full_name": f"Demo family {n}", "personal_code": f"32{n:09d}",
                                                   "consent": True, "applied_on": str(applied_on)})
            dated = {"assessed_on": str(since)} if referred else {}
            case_id = case["case"]["case_id"]
            if step != "registered":
                api.send("POST", f"/cases/{case_id}/assessment", sw,
                         {**_assessment("low" if n % 2 else "medium"), **dated})
            if referred:
                api.send("POST", f"/cases/{case_id}/decision", sw, {"decision": "granted", "reasons": "Assessed",
                                                                    "decided_on": str(since)})
                api.send("POST", f"/cases/{case_id}/referral", sw, {
                    "assistant_id": ASSISTANTS[n % 2], "primary_information": "Demo family", "plan": _plan(today),
                    "referred_on": str(since)})
            if step == "in_service":
                api.send("POST", f"/cases/{case_id}/service-start", sw, {"starts_on": str(today)})
            yield f"{case_id}  {step}"
