"""Who is involved (DOMAIN.md §1) and who acts on a case."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class Role(StrEnum):
    SOCIAL_WORKER = "social_worker"  # sociālais darbinieks, gadījuma vadītājs
    SERVICE_HEAD = "service_head"  # sociālā dienesta vadītājs
    ASSISTANT = "assistant"  # ģimenes asistents
    TRAINING_PROVIDER = "training_provider"  # apmācību sniedzējs
    MINISTRY = "ministry"  # Labklājības ministrija
    RESEARCHER = "researcher"  # pētījuma veicējs
    SYSTEM = "system"  # the workflow's own timers
    OPERATOR = "operator"  # who runs the service (IT): holds the payload key, decodes payloads (CASE-6)


CASE_MANAGERS = frozenset({Role.SOCIAL_WORKER, Role.SERVICE_HEAD})
MUNICIPAL_ROLES = frozenset({Role.SOCIAL_WORKER, Role.SERVICE_HEAD, Role.ASSISTANT})


class Actor(BaseModel):
    """Who does a step: a user id and role, never a personal identifier (CASE-6)."""

    user_id: str = Field(min_length=1, max_length=100)
    role: Role


SYSTEM_ACTOR = Actor(user_id="famassist", role=Role.SYSTEM)
