"""The one exception the domain raises: a rule or state that forbids a step."""

from __future__ import annotations

from typing import Any


class RuleViolation(Exception):
    """A step is forbidden by a rule of DOMAIN.md (``rule`` is its ID, e.g. ``CASE-1``).

    ``rule`` is ``CASE-STATE`` when the case is simply not in a state that allows the
    step (DOMAIN.md §5 order of steps).
    """

    def __init__(self, rule: str, message: str, **details: Any) -> None:
        super().__init__(f"{rule}: {message}")
        self.rule = rule
        self.message = message
        self.details = details
