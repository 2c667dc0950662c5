"""Routes that run one workflow Update each: the body is the command without ``actor``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, create_model

from domain.case_commands import Command


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
