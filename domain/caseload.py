"""How many clients an assistant may hold (DOMAIN.md §4, CAP-1…CAP-5, CAP-7).

Pure functions over value types: no I/O, no clock, no settings. The configurable limits
(CAP-4, CAP-5) come in as :class:`CaseloadLimits`, which the caller builds from the
settings. Weights are exact :class:`~fractions.Fraction` values and the FTE is converted
from :class:`~decimal.Decimal` exactly, so 6 × 1/6 is exactly 1 and never 0.9999….

:func:`caseload_violations` answers "may this assistant take this client?" with every
rule the step would break (CAP-7), in rule order; an empty list means yes. CAP-6 (check
and assignment as one atomic step) is the caller's concern: it must run this check and
record the assignment under one lock/transaction or inside one workflow.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from pydantic import BaseModel, ConfigDict

from domain.case_model import ChildSafetyRisk, TargetGroup
from domain.pilot_phase import SERVING_PHASES, AssistantPhase

# CAP-2: the weight of one client of each target group (000 §10.12, §10.6).
WEIGHTS: dict[TargetGroup, Fraction] = {
    TargetGroup.FAMILY_WITH_CHILDREN: Fraction(1, 4),
    TargetGroup.ADULT_WITH_MENTAL_DISORDER: Fraction(1, 4),
    TargetGroup.YOUTH_LEAVING_CARE: Fraction(1, 6),
}


class ClientLoad(BaseModel):
    """What the CAP rules need to know about one client (a case) of an assistant."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    target_group: TargetGroup
    child_safety_risk: ChildSafetyRisk | None = None
    multiple_social_problems: bool = False
    partially_independent: bool = False

    @property
    def has_multiple_problems(self) -> bool:
        """§4: a high child-safety risk always implies multiple social problems."""
        return self.multiple_social_problems or self.child_safety_risk is ChildSafetyRisk.HIGH

    @property
    def weight(self) -> Fraction:
        """CAP-2: the client's share of one full-time assistant."""
        return WEIGHTS[self.target_group]


class CaseloadLimits(BaseModel):
    """The configurable limits of §4 (defaults as in DOMAIN.md and the settings)."""

    model_config = ConfigDict(frozen=True)

    max_multiple_problem_clients: int = 3  # CAP-4
    mixed_group_max_clients: int = 3  # CAP-5
    mixed_group_max_with_partially_independent: int = 4  # CAP-5
    partially_independent_needed: int = 2  # CAP-5


DEFAULT_LIMITS = CaseloadLimits()


class CaseloadViolation(BaseModel):
    """One broken rule of a refusal (CAP-7): its ID, a readable message and the numbers.

    ``numbers`` holds strings so exact fractions survive any serializer ("3/4").
    """

    model_config = ConfigDict(frozen=True)

    rule: str
    message: str
    numbers: dict[str, str]


def load_of(current: Sequence[ClientLoad]) -> Fraction:
    """CAP-2: the sum of the weights of the given clients, exactly."""
    return sum((client.weight for client in current), Fraction(0))


def capacity_of(fte: Decimal) -> Fraction:
    """CAP-2: the assistant's FTE as an exact fraction (Decimal("0.3") → 3/10)."""
    return Fraction(fte)


def _fte_text(fte: Decimal) -> str:
    """The FTE as a person writes it: 1.0 → "1", 0.30 → "0.3"."""
    return format(fte.normalize(), "f")


def caseload_violations(
    phase: AssistantPhase,
    fte: Decimal,
    current: Sequence[ClientLoad],
    candidate: ClientLoad,
    limits: CaseloadLimits = DEFAULT_LIMITS,
) -> list[CaseloadViolation]:
    """Every rule (CAP-1…CAP-5) that taking ``candidate`` on top of ``current`` would
    break, in rule order (CAP-7); an empty list when the client may be taken.

    A candidate whose ``case_id`` is already among ``current`` is already held: re-reserving
    the same case adds no client, so the answer is an empty list.
    """
    if any(client.case_id == candidate.case_id for client in current):
        return []
    violations: list[CaseloadViolation] = []
    after = [*current, candidate]

    # CAP-1: no clients outside limited_service and full_service.
    if phase not in SERVING_PHASES:
        violations.append(
            CaseloadViolation(
                rule="CAP-1",
                message=f"an assistant in phase {phase.value} may not serve clients",
                numbers={"phase": phase.value},
            )
        )

    # CAP-2: the sum of weights may not exceed the FTE.
    used = load_of(current)
    total = used + candidate.weight
    capacity = capacity_of(fte)
    if total > capacity:
        violations.append(
            CaseloadViolation(
                rule="CAP-2",
                message=f"weights {used} + {candidate.weight} = {total} exceed the FTE {_fte_text(fte)}",
                numbers={
                    "used": str(used),
                    "adding": str(candidate.weight),
                    "total": str(total),
                    "capacity": str(capacity),
                },
            )
        )

    # CAP-3: in limited_service, no high child-safety risk and no multiple social problems.
    if phase is AssistantPhase.LIMITED_SERVICE and candidate.has_multiple_problems:
        reasons = []
        if candidate.child_safety_risk is ChildSafetyRisk.HIGH:
            reasons.append("high child-safety risk")
        if candidate.multiple_social_problems:
            reasons.append("multiple social problems")
        violations.append(
            CaseloadViolation(
                rule="CAP-3",
                message=f"in limited_service a client with {' and '.join(reasons)} is refused",
                numbers={
                    "phase": phase.value,
                    "child_safety_risk": candidate.child_safety_risk.value if candidate.child_safety_risk else "",
                    "multiple_social_problems": str(candidate.has_multiple_problems).lower(),
                },
            )
        )

    # CAP-4: at most `max_multiple_problem_clients` clients with multiple social problems.
    if candidate.has_multiple_problems:
        count = sum(1 for client in after if client.has_multiple_problems)
        if count > limits.max_multiple_problem_clients:
            violations.append(
                CaseloadViolation(
                    rule="CAP-4",
                    message=(
                        f"{count} clients with multiple social problems exceed "
                        f"the maximum {limits.max_multiple_problem_clients}"
                    ),
                    numbers={"count": str(count), "max": str(limits.max_multiple_problem_clients)},
                )
            )

    # CAP-5: clients from more than one target group: at most 3, or 4 with at least 2
    # partially independent.
    groups = {client.target_group for client in after}
    if len(groups) > 1:
        independent = sum(1 for client in after if client.partially_independent)
        if independent >= limits.partially_independent_needed:
            maximum = limits.mixed_group_max_with_partially_independent
        else:
            maximum = limits.mixed_group_max_clients
        if len(after) > maximum:
            violations.append(
                CaseloadViolation(
                    rule="CAP-5",
                    message=(
                        f"{len(after)} clients from {len(groups)} target groups exceed the maximum {maximum} "
                        f"({independent} partially independent; "
                        f"{limits.mixed_group_max_with_partially_independent} allowed with at least "
                        f"{limits.partially_independent_needed})"
                    ),
                    numbers={
                        "clients": str(len(after)),
                        "target_groups": str(len(groups)),
                        "partially_independent": str(independent),
                        "max": str(maximum),
                    },
                )
            )

    return violations


def fte_change_violations(fte: Decimal, current: Sequence[ClientLoad]) -> list[CaseloadViolation]:
    """CAP-2 for a contract amendment: the new FTE may not fall below the current load."""
    used = load_of(current)
    capacity = capacity_of(fte)
    if used <= capacity:
        return []
    return [
        CaseloadViolation(
            rule="CAP-2",
            message=f"weights of the current clients {used} exceed the new FTE {_fte_text(fte)}",
            numbers={"used": str(used), "capacity": str(capacity)},
        )
    ]
