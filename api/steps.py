"""Routes that run one workflow Update each: the body is the command without ``actor``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, create_model
from temporalio.client import WorkflowHandle

from api.idempotency import RequestKey
from domain.case_commands import Command

UPDATE_TIMEOUT = timedelta(seconds=60)  # then 503: the step may still complete


async def run_update(handle: WorkflowHandle[Any, Any], update: Any, message: Command,
                     request_key: RequestKey | None) -> Any:
    """Run one step; with an Idempotency-Key its Update id is the key's, so a retry attaches to it."""
    return await handle.execute_update(update, message, rpc_timeout=UPDATE_TIMEOUT,
                                       id=request_key.update_id() if request_key else None)


def body_model(command: type[Command], exclude: frozenset[str] = frozenset()) -> type[BaseModel]:
    """The command's fields without ``actor`` (the caller is the actor) and ``exclude``."""
    fields: dict[str, Any] = {
        name: (info.annotation, info) for name, info in command.model_fields.items()
        if name != "actor" and name not in exclude
    }
    return create_model(f"{command.__name__}Body", __config__={"extra": "forbid"}, **fields)


def summary_of(doc: str) -> str:
    """The first clause of a step's description, for the OpenAPI summary."""
    return doc.split(";")[0].split(" (")[0]
