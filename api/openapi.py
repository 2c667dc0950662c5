"""The OpenAPI document: every answer an operation can give, in one place.

FastAPI documents the success answer and its 422; this adds, per operation, the problem answers
(api/problems.py) it can give, derived from the operation and what its route depends on:

- 401 and 403 when it needs a token; 404 when its path names something; 409 (with the ``rule``
  member) on every write; 413 on every write and whatever else takes a body (api/body_limit.py
  reads every request's body, DELETE's too); 422 everywhere (a path or query with control
  characters); 503 (with ``Retry-After``) when it talks to Temporal, or is a write with a database
  session (a write lock not had in time: persistence/unit_of_work.py ``WriteBusy``, api/write_busy.py), or
  needs a token and tokens come from an identity provider (its keys cannot be fetched: api/auth.py);
- the ``Idempotency-Key`` request header on every POST, PUT and DELETE, and the
  ``Idempotent-Replayed`` response header (api/idempotency.py) on every write's success answers.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from api.auth import get_principal
from api.deps import get_session, get_temporal
from api.idempotency import READS_OVER_POST, REPLAYED
from api.problems import PROBLEM_JSON, Problem

WRITES = {"post", "put", "patch", "delete"}
PROBLEM_REF = "#/components/schemas/Problem"
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "schema": {"type": "string", "maxLength": 255},
    "description": ("retry the same request with the same key: it is answered as the first one was and written "
                    "once; another body with the same key is refused with 422"),
}
ANSWERS = {
    401: "No token, or a token that is not accepted (`WWW-Authenticate: Bearer`): `detail` says why, naming the "
         "claim that is missing or malformed (e.g. the token has no `realm_access.roles` claim).",
    403: "None of the caller's roles may do this (`detail` names them), or the token's roles map to none of this "
         "service's; a rule about who acts (CASE-1, ROLE) names itself in `rule`.",
    404: "Nothing of that id that the caller may see.",
    409: "A rule refuses the step: `rule` is its ID (e.g. HRS-2, CAP-2, CASE-STATE), `details` carries the numbers "
         "(e.g. hours that day, capacity used); nothing was changed.",
    413: "The request body is over the limit (`max_body_bytes`); it was not read.",
    422: "The request is not accepted: `errors` lists each field (`loc`, `msg`, `type`), never the value sent.",
}
UNAVAILABLE = {
    "temporal": "the workflow service cannot answer now; `may_have_been_applied` says whether the step may have "
                "been applied",
    "database": "the database is busy with other writes (its write lock was not free in time); nothing was written "
                "(`may_have_been_applied` is false)",
    "identity": "the identity provider's keys cannot be fetched to check the token (single sign-on); nothing was "
                "done",
}
REPLAYED_HEADER = {
    "description": ("`true` marks a replayed first answer: a retry with the same Idempotency-Key gets the answer "
                    "the first request got, and nothing is written again; absent on a first answer"),
    "schema": {"type": "string", "enum": ["true"]},
}


def _depends_on(dependant: Dependant, call: Any) -> bool:
    return dependant.call is call or any(_depends_on(d, call) for d in dependant.dependencies)


def _unavailable(causes: list[str]) -> str:
    """503's description: its causes on this operation, then what to do."""
    return ("Cannot be answered now: " + "; or ".join(UNAVAILABLE[c] for c in causes) + ". `Retry-After` says "
            "when to retry: retry with the same Idempotency-Key either way.")


def _causes_of_503(method: str, route: APIRoute | None, single_sign_on: bool = False) -> list[str]:
    """Temporal when the route talks to it; the database when it is a write with a database session; the
    identity provider when the route needs a token and tokens come from one."""
    if route is None:
        return []
    causes = ["temporal"] if _depends_on(route.dependant, get_temporal) else []
    if single_sign_on and _depends_on(route.dependant, get_principal):
        causes.append("identity")
    if method in WRITES and _depends_on(route.dependant, get_session):
        causes.append("database")
    return causes


def _problem(status: int, causes: list[str]) -> dict[str, Any]:
    schema: dict[str, Any] = {"$ref": PROBLEM_REF}
    if status == 409:
        schema = {"allOf": [schema, {"type": "object", "required": ["rule", "details"]}]}
    description = _unavailable(causes) if status == 503 else ANSWERS[status]
    answer: dict[str, Any] = {"description": description, "content": {PROBLEM_JSON: {"schema": schema}}}
    if status == 503:
        answer["headers"] = {"Retry-After": {"description": "Seconds to wait before retrying",
                                             "schema": {"type": "integer"}}}
    if status == 401:
        answer["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    return answer


def answers_of(operation: dict[str, Any], method: str, route: APIRoute | None, single_sign_on: bool = False,
               ) -> list[int]:
    """The problem answers one operation can give."""
    statuses = [422]
    if operation.get("security"):
        statuses += [401, 403]
    if any(p.get("in") == "path" for p in operation.get("parameters", [])):
        statuses.append(404)
    if method in WRITES:
        statuses.append(409)
    if method in WRITES or "requestBody" in operation:
        statuses.append(413)
    if _causes_of_503(method, route, single_sign_on):
        statuses.append(503)
    return sorted(statuses)


def build_openapi(app: FastAPI, routers: list[APIRouter], single_sign_on: bool = False) -> dict[str, Any]:
    schema = get_openapi(title=app.title, version=app.version, openapi_version=app.openapi_version,
                         summary=app.summary, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem_schema.pop("$defs", {}))
    components["Problem"] = problem_schema
    routes = {(route.path_format, method.lower()): route for router in routers for route in router.routes
              if isinstance(route, APIRoute) for method in route.methods or ()}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            route = routes.get((path, method))
            kind = "get" if path in READS_OVER_POST else method  # documented as the read it is
            for status in answers_of(operation, kind, route, single_sign_on):
                responses[str(status)] = _problem(status, _causes_of_503(kind, route, single_sign_on))
            if kind in WRITES:
                for status, answer in responses.items():
                    if status.startswith("2"):
                        answer.setdefault("headers", {})[REPLAYED] = dict(REPLAYED_HEADER)
            if kind in {"post", "put", "delete"}:
                parameters = operation.setdefault("parameters", [])
                if not any(p.get("name", "").lower() == "idempotency-key" for p in parameters):
                    parameters.append(dict(IDEMPOTENCY_KEY))
    return schema


def install_openapi(app: FastAPI, routers: list[APIRouter], *, single_sign_on: bool = False) -> None:
    """``app.openapi()`` builds the document once, with the answers above (``single_sign_on``: tokens are
    checked with an identity provider's keys, which may not be had: 503 wherever a token is needed)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app, routers, single_sign_on)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
