"""The Temporal UI's codec server (CASE-6): encrypted payloads decoded for the operator only.

Temporal's codec server protocol: ``POST <endpoint>/decode`` with ``{"payloads": [...]}``, each
payload in proto3 JSON (``metadata`` values and ``data`` in base64), answered in the same shape,
decoded. The Temporal UI (``--ui-codec-endpoint`` on the dev server, ``TEMPORAL_CODEC_ENDPOINT`` in
docker-compose.yml) and the CLI (``temporal workflow show --codec-endpoint … --codec-auth``) use it.

Only the ``operator`` role may decode: the people who run the service and hold the payload key.
Decoded payloads carry free text and may carry personal identifiers of any municipality, so no
municipal role sees them here, nor the ministry (which reads cases without personal identifiers,
DOMAIN.md §1). There is no ``/codec/encode``: nothing is started or signalled from the UI.
Each call is logged with who decoded how many payloads (never what they said).
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Header, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field
from temporalio.api.common.v1 import Payload

from api.auth import Principal, require_roles
from api.deps import SettingsDep
from api.openapi import PROBLEM_REF
from api.problems import PROBLEM_JSON
from domain.roles import Role
from famassist.codec import NoPayloadKey, PayloadTampered, UnknownPayloadKey, codec_from_settings

router = APIRouter(prefix="/codec", tags=["codec"])
log = structlog.get_logger("codec")
NO_KEY_RETRY_SECONDS = 60
MAX_PAYLOADS = 1_000  # one history page's payloads; the body limit (max_body_bytes) applies too

ANSWERS: dict[int | str, dict[str, Any]] = {
    503: {"description": "No payload key is configured (CASE-6): nothing can be decoded. `Retry-After` says when "
                         "to retry (once the operator has configured the key).",
          "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}},
          "headers": {"Retry-After": {"description": "Seconds to wait before retrying",
                                      "schema": {"type": "integer"}}}},
}


class JsonPayload(BaseModel):
    """A Temporal payload in proto3 JSON: bytes as base64."""

    model_config = ConfigDict(extra="ignore")

    metadata: dict[str, str] = Field(default_factory=dict, description="Each value base64, e.g. encoding",
                                     max_length=32)
    data: str = Field(default="", description="The payload's bytes, base64")


class PayloadList(BaseModel):
    payloads: list[JsonPayload] = Field(max_length=MAX_PAYLOADS)


def _bytes(text: str, where: list[str | int]) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise HTTPException(422, [
            {"loc": where, "msg": "not base64", "type": "base64_invalid"}]) from None


def to_proto(payload: JsonPayload, index: int) -> Payload:
    where: list[str | int] = ["body", "payloads", index]
    return Payload(metadata={k: _bytes(v, [*where, "metadata", k]) for k, v in payload.metadata.items()},
                   data=_bytes(payload.data, [*where, "data"]))


def to_json(payload: Payload) -> JsonPayload:
    return JsonPayload(metadata={k: base64.b64encode(v).decode() for k, v in payload.metadata.items()},
                       data=base64.b64encode(payload.data).decode())


@router.post("/decode", response_model=PayloadList, responses=ANSWERS)
async def decode(body: PayloadList, settings: SettingsDep,
                 principal: Annotated[Principal, require_roles(Role.OPERATOR)],
                 x_namespace: Annotated[str | None, Header(max_length=255, description=(
                     "The namespace the UI shows (sent by the UI; one key set serves every namespace)"))] = None,
                 ) -> PayloadList:
    """CASE-6: the payloads decrypted (the Temporal UI's codec server protocol); payloads that are not
    encrypted come back as they were. Operators only. 422 names a payload sealed with a key that is
    not configured, or one that was changed."""
    try:
        codec = codec_from_settings(settings)
    except NoPayloadKey:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "no payload key is configured (CASE-6)",
                            headers={"Retry-After": str(NO_KEY_RETRY_SECONDS)}) from None
    decoded: list[JsonPayload] = []
    for index, payload in enumerate(body.payloads):
        try:
            decoded.append(to_json(codec.open(to_proto(payload, index))))
        except (UnknownPayloadKey, PayloadTampered) as exc:
            raise HTTPException(422, [
                {"loc": ["body", "payloads", index], "msg": str(exc), "type": type(exc).__name__,
                 "rule": "CASE-6"}]) from None
    log.info("payloads decoded", user_id=principal.user_id, payloads=len(decoded), namespace=x_namespace)
    return PayloadList(payloads=decoded)
