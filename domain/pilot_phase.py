"""The phases of an assistant's pilot lifecycle (DOMAIN.md §3).

``nominated`` → ``interviewed`` → (``rejected``) | ``contracted`` → ``training`` →
``limited_service`` → ``full_service`` → ``completed``; ``withdrawn`` when the contract
ends early. Only the two service phases may serve clients (§3 table, CAP-1).
"""

from __future__ import annotations

from enum import StrEnum


class AssistantPhase(StrEnum):
    NOMINATED = "nominated"
    INTERVIEWED = "interviewed"
    REJECTED = "rejected"
    CONTRACTED = "contracted"
    TRAINING = "training"
    LIMITED_SERVICE = "limited_service"
    FULL_SERVICE = "full_service"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"


SERVING_PHASES = frozenset({AssistantPhase.LIMITED_SERVICE, AssistantPhase.FULL_SERVICE})
END_PHASES = frozenset({AssistantPhase.REJECTED, AssistantPhase.COMPLETED, AssistantPhase.WITHDRAWN})
