"""One place that maps errors to HTTP answers: 409 with the rule ID, 403, 404, 503."""

from __future__ import annotations

import re
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.errors import RuleViolation
from domain.personal_code import InvalidPersonalCode

log = structlog.get_logger(__name__)

FORBIDDING_RULES = {"CASE-1", "ROLE"}  # who may do a step: 403, not 409
RULE_ID = re.compile(r"^((CASE|CAP|PH|MUN|HRS|RES)-[0-9A-Z]+|ROLE|CASE-STATE|PILOT-STATE|REPORT-STATE)$")
FINISHED = {"/assistants": "PILOT-STATE", "/reports": "REPORT-STATE"}


def _rule_answer(rule: str, detail: str, details: Any = None) -> JSONResponse:
    code = 403 if rule in FORBIDDING_RULES else 409
    return JSONResponse({"rule": rule, "detail": detail, "details": details or {}}, status_code=code)


async def _update_failed(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, WorkflowUpdateFailedError)
    cause = exc.cause
    if isinstance(cause, ApplicationError) and cause.type == "UNAVAILABLE":
        return JSONResponse({"detail": cause.message}, status_code=503)
    if isinstance(cause, ApplicationError) and cause.type == "INVALID-INPUT":
        return JSONResponse({"detail": [{"loc": ["body"], "msg": cause.message, "type": "value_error"}]},
                            status_code=422)
    if isinstance(cause, ApplicationError) and cause.type and RULE_ID.match(cause.type):
        details = cause.details[0] if cause.details else {}
        return _rule_answer(cause.type, cause.message, details)
    log.error("case update failed", error=str(cause))
    return JSONResponse({"detail": "the step could not be completed; try again"}, status_code=503)


async def _rule_violation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RuleViolation)
    return _rule_answer(exc.rule, exc.message, exc.details)


async def _invalid_personal_code(_: Request, exc: Exception) -> JSONResponse:
    # The message never contains the code (CASE-6).
    return JSONResponse({"detail": [{"loc": ["body", "personal_code"], "msg": str(exc),
                                     "type": "value_error", "rule": "CASE-6"}]}, status_code=422)


async def _invalid_request(_: Request, exc: Exception) -> JSONResponse:
    """422 naming each field; the submitted values are not echoed (they may be personal)."""
    assert isinstance(exc, RequestValidationError)
    errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
              for e in exc.errors()]
    return JSONResponse({"detail": errors}, status_code=422)


async def _rpc_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RPCError)
    if exc.status is RPCStatusCode.NOT_FOUND:
        rule = next((r for prefix, r in FINISHED.items() if request.url.path.startswith(prefix)), "CASE-STATE")
        return _rule_answer(rule, "its workflow has finished; nothing more can change")
    log.error("temporal unavailable", status=str(exc.status), error=exc.message)
    return JSONResponse({"detail": "the workflow service is unavailable; try again"}, status_code=503)


async def _update_timed_out(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": "the step did not answer in time; it may still complete: read it again"},
                        status_code=503)


async def _already_started(_: Request, exc: Exception) -> JSONResponse:
    return _rule_answer("PILOT-STATE", "a workflow with this id exists already")


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    """Anything else: a 500 that names no data (a message may carry personal data)."""
    log.error("unexpected error", error_type=type(exc).__name__)
    return JSONResponse({"detail": "internal error; it has been logged"}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Exception, _unexpected)
    app.add_exception_handler(WorkflowAlreadyStartedError, _already_started)
    app.add_exception_handler(WorkflowUpdateRPCTimeoutOrCancelledError, _update_timed_out)
    app.add_exception_handler(WorkflowUpdateFailedError, _update_failed)
    app.add_exception_handler(RuleViolation, _rule_violation)
    app.add_exception_handler(InvalidPersonalCode, _invalid_personal_code)
    app.add_exception_handler(RPCError, _rpc_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
