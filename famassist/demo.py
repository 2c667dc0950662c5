"""A small demo data set, loaded through the HTTP API like any client would."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx

from domain.roles import Role
from famassist.settings import Settings
from famassist.tokens import issue_dev_token

MUNICIPALITY = "CESIS"
SOCIAL_WORKER = "sw-cesis-1"
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


def load_demo(settings: Settings, api_url: str, today: date | None = None) -> Iterator[str]:
    """Open four demo cases in Cēsis at different steps; yields one line per case."""
    today = today or date.today()
    token = issue_dev_token(settings, role=Role.SOCIAL_WORKER, municipality=MUNICIPALITY, user_id=SOCIAL_WORKER)
    with httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            answer = http.post(path, json=body)
            answer.raise_for_status()
            result: dict[str, Any] = answer.json()
            return result

        for n, steps in enumerate(["registered", "assessed", "referred", "in_service"], start=1):
            case = post("/cases", {"full_name": f"Demo family {n}", "personal_code": f"32{n:09d}",
                                   "consent": True, "applied_on": str(today - timedelta(days=n))})
            case_id = case["case"]["case_id"]
            if steps != "registered":
                post(f"/cases/{case_id}/assessment", _assessment("low" if n % 2 else "medium"))
            if steps in {"referred", "in_service"}:
                post(f"/cases/{case_id}/decision", {"decision": "granted", "reasons": "Needs assessed"})
                post(f"/cases/{case_id}/referral", {"assistant_id": ASSISTANTS[n % 2],
                                                    "primary_information": "Demo family", "plan": _plan(today)})
            if steps == "in_service":
                post(f"/cases/{case_id}/service-start", {"starts_on": str(today)})
            yield f"{case_id}  {steps}"
