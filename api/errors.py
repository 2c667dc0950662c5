"""One place that maps errors to HTTP answers, all as RFC 9457 problem details (api/problems.py).

409 (403 for CASE-1 and ROLE) with the rule ID and its numbers; 401/403/404/405 from HTTPException
and routing; 422 naming each field; 503 with ``Retry-After`` when Temporal cannot be reached or a
step's outcome is unknown, saying whether the step may have been applied.
"""

from __future__ import annotations

import re
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import (
    RPCTimeoutOrCancelledError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError, TemporalError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.metrics import metrics_of
from api.problems import INVALID_TYPE, RULE_TYPE, UNAVAILABLE_TYPE, field_errors, problem
from domain.errors import RuleViolation
from domain.personal_code import InvalidPersonalCode

log = structlog.get_logger(__name__)

FORBIDDING_RULES = {"CASE-1", "ROLE"}  # who may do a step: 403, not 409
RULE_ID = re.compile(r"^((CASE|CAP|PH|MUN|HRS|RES)-[0-9A-Z]+|ROLE|CASE-STATE|PILOT-STATE|REPORT-STATE)$")
# The state rule of the workflow a route drives: a finished workflow, or a start of one that exists already.
STATE_RULES = {"/assistants": "PILOT-STATE", "/reports": "REPORT-STATE", "/cases": "CASE-STATE"}
RETRY_AFTER_SECONDS = 5
READS = {"GET", "HEAD", "OPTIONS"}
# The server answered and refused: nothing was done.
REFUSED_BY_SERVER = {RPCStatusCode.INVALID_ARGUMENT, RPCStatusCode.ALREADY_EXISTS, RPCStatusCode.PERMISSION_DENIED,
                     RPCStatusCode.RESOURCE_EXHAUSTED, RPCStatusCode.FAILED_PRECONDITION,
                     RPCStatusCode.UNIMPLEMENTED, RPCStatusCode.UNAUTHENTICATED}
NOT_CONNECTED = ("failed client connect", "tcp connect error", "connection refused", "dns error")


def state_rule(path: str) -> str:
    """The state rule of the route's workflow (an assistant's pilot, a report, a case)."""
    return next((rule for prefix, rule in STATE_RULES.items() if path.startswith(prefix)), "CASE-STATE")


def rule_answer(request: Request, rule: str, detail: str, details: Any = None) -> JSONResponse:
    code = 403 if rule in FORBIDDING_RULES else 409
    if (metrics := metrics_of(request)) is not None:  # GET /metrics (issue 10)
        metrics.steps_refused.labels(rule, str(code)).inc()
    return problem(code, detail, instance=request.url.path, type_=f"{RULE_TYPE}:{rule}",
                   title="A rule refuses this step", rule=rule, details=details or {})


def unavailable(request: Request, detail: str, *, may_have_been_applied: bool, outcome_kept: bool = False,
                ) -> JSONResponse:
    """503 with Retry-After; a read changes nothing, so it is never 'may have been applied'.

    ``outcome_kept``: the step ran and failed, and Temporal keeps that outcome under the
    Update id the key gives: the same key would get this failure again, so the advice is a
    new key (nothing was applied, so a new key writes nothing twice).
    """
    applied = may_have_been_applied and request.method not in READS
    if outcome_kept:
        advice = "nothing was applied: retry with a new Idempotency-Key"
    elif applied:
        advice = ("it may have been applied: retry with the same Idempotency-Key, which answers as the first "
                  "request did and writes nothing twice")
    else:
        advice = "nothing was applied: retry with the same Idempotency-Key"
    return problem(503, f"{detail}; {advice}", instance=request.url.path, type_=UNAVAILABLE_TYPE,
                   title="The workflow service cannot answer now", headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                   may_have_been_applied=applied)


def invalid(request: Request, errors: list[dict[str, Any]], detail: str = "the request is not accepted",
            ) -> JSONResponse:
    return problem(422, detail, instance=request.url.path, type_=INVALID_TYPE, title="Invalid request",
                   **field_errors(errors))


async def _update_failed(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, WorkflowUpdateFailedError)
    cause = exc.cause
    if isinstance(cause, ApplicationError) and cause.type == "UNAVAILABLE":
        return unavailable(request, cause.message, may_have_been_applied=False, outcome_kept=True)
    if isinstance(cause, ApplicationError) and cause.type == "INVALID-INPUT":
        return invalid(request, [{"loc": ["body"], "msg": cause.message, "type": "value_error"}])
    if isinstance(cause, ApplicationError) and cause.type and RULE_ID.match(cause.type):
        details = cause.details[0] if cause.details else {}
        return rule_answer(request, cause.type, cause.message, details)
    log.error("case update failed", error_type=type(cause).__name__)
    return unavailable(request, "the step could not be completed", may_have_been_applied=False, outcome_kept=True)


async def _rule_violation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RuleViolation)
    return rule_answer(request, exc.rule, exc.message, exc.details)


async def _invalid_personal_code(request: Request, exc: Exception) -> JSONResponse:
    # The message never contains the code (CASE-6).
    return invalid(request, [{"loc": ["body", "personal_code"], "msg": str(exc), "type": "value_error",
                              "rule": "CASE-6"}])


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """422 naming each field; the submitted values are not echoed (they may be personal)."""
    assert isinstance(exc, RequestValidationError)
    errors = [{**e, "rule": "CASE-6"} if isinstance((e.get("ctx") or {}).get("error"), InvalidPersonalCode) else e
              for e in exc.errors()]
    return invalid(request, errors)


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    """HTTPException from routes and auth (401/403/404/422) and Starlette's own 404/405."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:  # FastAPI cannot decode the body: as for malformed JSON, 422
        return invalid(request, [{"loc": ["body"], "msg": "the body cannot be decoded as JSON",
                                  "type": "json_invalid"}])
    if isinstance(exc.detail, list):  # a route's 422 naming fields
        return invalid(request, [e if isinstance(e, dict) else {"msg": str(e)} for e in exc.detail])
    return problem(exc.status_code, str(exc.detail) if exc.detail else None, instance=request.url.path,
                   headers=dict(exc.headers) if exc.headers else None)


async def _rpc_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RPCError)
    if exc.status is RPCStatusCode.NOT_FOUND:
        return rule_answer(request, state_rule(request.url.path), "its workflow has finished; nothing more can change")
    log.error("temporal unavailable", status=str(exc.status))
    refused = exc.status in REFUSED_BY_SERVER or any(s in exc.message.lower() for s in NOT_CONNECTED)
    return unavailable(request, "the workflow service did not complete the call", may_have_been_applied=not refused)


async def _update_timed_out(request: Request, exc: Exception) -> JSONResponse:
    return unavailable(request, "the step did not answer in time and may still complete", may_have_been_applied=True)


async def _temporal_error(request: Request, exc: Exception) -> JSONResponse:
    """Any other failure talking to Temporal (a call timed out or was cancelled …): the outcome is unknown."""
    log.error("temporal call failed", error_type=type(exc).__name__)
    return unavailable(request, "the workflow service did not answer", may_have_been_applied=True)


async def _already_started(request: Request, exc: Exception) -> JSONResponse:
    """A start of a workflow that exists (running or finished): the state rule of the route's workflow."""
    return rule_answer(request, state_rule(request.url.path), "it has been started already; nothing was started")


async def _runtime_error(request: Request, exc: Exception) -> JSONResponse:
    """The Temporal client raises a bare RuntimeError when it cannot connect: nothing was sent."""
    if str(exc).lower().startswith("failed client connect"):
        log.error("temporal unreachable")
        return unavailable(request, "the workflow service cannot be reached", may_have_been_applied=False)
    return await _unexpected(request, exc)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    """Anything else: a 500 that names no data (a message may carry personal data)."""
    log.error("unexpected error", error_type=type(exc).__name__)
    return problem(500, "internal error; it has been logged", instance=request.url.path)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Exception, _unexpected)
    app.add_exception_handler(RuntimeError, _runtime_error)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(TemporalError, _temporal_error)
    app.add_exception_handler(RPCTimeoutOrCancelledError, _temporal_error)
    app.add_exception_handler(WorkflowAlreadyStartedError, _already_started)
    app.add_exception_handler(WorkflowUpdateRPCTimeoutOrCancelledError, _update_timed_out)
    app.add_exception_handler(WorkflowUpdateFailedError, _update_failed)
    app.add_exception_handler(RuleViolation, _rule_violation)
    app.add_exception_handler(InvalidPersonalCode, _invalid_personal_code)
    app.add_exception_handler(RPCError, _rpc_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
