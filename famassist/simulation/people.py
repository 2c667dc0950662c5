"""The people of the round, acting through the API as its users do (development tokens).

Each answer is counted by status; an answer the simulation did not expect (a 5xx, a 4xx that
is not a rule's refusal) is kept for the figures. A 503 that wrote nothing (the database's write
lock not had in time) is sent again after its Retry-After, as the answer advises; it still
counts among the answers (5xx). List answers are read through :func:`items`,
which takes both today's plain lists and the paginated ``{"items": …}`` shape.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from typing import Any

import httpx

from domain.roles import Role
from famassist.settings import Settings
from famassist.tokens import issue_dev_token

MINISTRY = (Role.MINISTRY, "lm-1", "LV")
PROVIDER = (Role.TRAINING_PROVIDER, "saif-1", "LV")
Caller = tuple[Role, str, str]


def head(municipality: str) -> Caller:
    return Role.SERVICE_HEAD, f"head-{municipality.lower()}", municipality


def social_worker(municipality: str) -> Caller:
    return Role.SOCIAL_WORKER, f"sw-{municipality.lower()}", municipality


def assistant(assistant_id: str, municipality: str) -> Caller:
    return Role.ASSISTANT, assistant_id, municipality


def items(body: Any) -> list[Any]:
    """A list endpoint's rows, in either shape (a list, or a page with ``items``)."""
    return list(body["items"] if isinstance(body, dict) and "items" in body else body)


class Refused(Exception):
    """A rule's refusal (409, or 403 for a role): the rule ID, as the API names it."""

    def __init__(self, rule: str, status: int) -> None:
        super().__init__(rule)
        self.rule, self.status = rule, status


BUSY_RETRIES = 5  # a 503 that wrote nothing (a write lock not had in time) is retried, as its answer advises


def _nothing_written(answer: httpx.Response) -> bool:
    """A 503 whose problem says the step was not applied (api/write_busy.py): safe to send again."""
    return answer.status_code == 503 and answer.json().get("may_have_been_applied") is False


# Requests in flight at once: 0 is no limit (the API never blocks its event loop on the database,
# issue 8); an analyst may set one to model a service that trickles in.
API_IN_FLIGHT = 0


class People:
    def __init__(self, http: httpx.AsyncClient, settings: Settings, in_flight: int = API_IN_FLIGHT) -> None:
        self._http, self._settings = http, settings
        self._in_flight = asyncio.Semaphore(in_flight) if in_flight > 0 else contextlib.nullcontext()
        self._tokens: dict[Caller, str] = {}
        self.answers: Counter[int] = Counter()
        self.refusals: Counter[str] = Counter()
        self.unexpected: list[str] = []
        self.busy = 0  # 503s retried

    def new_day(self) -> None:
        """Tokens are issued on the (simulated) day they are used: a development token lasts hours."""
        self._tokens.clear()

    def _headers(self, caller: Caller) -> dict[str, str]:
        if caller not in self._tokens:
            role, user, municipality = caller
            self._tokens[caller] = issue_dev_token(self._settings, role=role, municipality=municipality,
                                                   user_id=user)
        return {"Authorization": f"Bearer {self._tokens[caller]}"}

    async def call(self, caller: Caller, method: str, path: str, body: dict[str, Any] | None = None,
                   params: dict[str, Any] | None = None) -> Any:
        """The answer's JSON; :class:`Refused` for a rule's refusal; anything else unexpected is kept."""
        for _ in range(BUSY_RETRIES):
            async with self._in_flight:
                answer = await self._http.request(method, path, json=body, params=params,
                                                  headers=self._headers(caller))
            self.answers[answer.status_code] += 1
            if not _nothing_written(answer):
                break
            self.busy += 1  # the API's own advice: retry after Retry-After (counted in the 5xx answers)
            await asyncio.sleep(float(answer.headers.get("retry-after", "1")))
        if answer.status_code < 300:
            return answer.json() if answer.content else None
        if answer.status_code in (403, 409):
            rule = str(answer.json().get("rule") or answer.status_code)
            self.refusals[rule] += 1
            raise Refused(rule, answer.status_code)
        self.unexpected.append(f"{method} {path} → {answer.status_code} {answer.text[:300]}")
        raise Refused(f"HTTP-{answer.status_code}", answer.status_code)
