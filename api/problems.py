"""One error model for every 4xx and 5xx: RFC 9457 problem details (``application/problem+json``).

Members: ``type``, ``title``, ``status``, ``detail``, ``instance``; extension members carry what a
client acts on: ``rule`` and ``details`` (the numbers) for a refused step, ``errors`` for a 422
(field locations and messages, never the submitted values: they may be personal), and
``may_have_been_applied`` for a 503 after which the caller retries with the same Idempotency-Key.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

PROBLEM_JSON = "application/problem+json"
MAX_FIELD_ERRORS = 50  # a body of 100,000 unknown keys answers with 50 errors, not 100,000

RULE_TYPE = "urn:famassist:problem:rule"  # + ":<rule ID>", e.g. urn:famassist:problem:rule:HRS-2
INVALID_TYPE = "urn:famassist:problem:invalid-request"
UNAVAILABLE_TYPE = "urn:famassist:problem:unavailable"
TOO_LARGE_TYPE = "urn:famassist:problem:body-too-large"


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="Where: e.g. [\"body\", \"hours\"] or [\"query\", \"year\"]")
    msg: str
    type: str
    rule: str | None = Field(default=None, description="The rule the field breaks, when one does (e.g. CASE-6)")


class Problem(BaseModel):
    """RFC 9457 problem details with this service's extension members."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(default="about:blank", description="A URI naming the kind of problem")
    title: str = Field(description="A short summary of the kind of problem")
    status: int = Field(ge=400, le=599, description="The HTTP status code")
    detail: str | None = Field(default=None, description="What happened this time, in words")
    instance: str | None = Field(default=None, description="The path of the request")
    rule: str | None = Field(default=None, description="409/403: the rule ID that refuses the step (e.g. HRS-2)")
    details: dict[str, Any] | None = Field(default=None, description="409/403: the numbers behind the rule")
    errors: list[FieldError] | None = Field(default=None, description="422: each field that is not accepted")
    more_errors: int | None = Field(default=None, description="422: how many further errors were left out")
    may_have_been_applied: bool | None = Field(
        default=None, description="503: whether the step may have been applied; retry with the same Idempotency-Key")


def problem(status: int, detail: str | None = None, *, instance: str | None = None, type_: str = "about:blank",
            title: str | None = None, headers: dict[str, str] | None = None, **extensions: Any) -> JSONResponse:
    """A problem+json answer; ``extensions`` set to None are left out."""
    body: dict[str, Any] = {"type": type_, "title": title or HTTPStatus(status).phrase, "status": status}
    if detail is not None:
        body["detail"] = detail
    if instance is not None:
        body["instance"] = instance
    body.update({k: v for k, v in extensions.items() if v is not None})
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def field_errors(errors: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``errors`` member (and ``more_errors``) from pydantic-style errors, without their ``input``."""
    kept = [{"loc": [p if isinstance(p, int) else str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")),
             "type": str(e.get("type", "value_error")), **({"rule": e["rule"]} if e.get("rule") else {})}
            for e in errors[:MAX_FIELD_ERRORS]]
    more = len(errors) - len(kept)
    return {"errors": kept, "more_errors": more or None}
