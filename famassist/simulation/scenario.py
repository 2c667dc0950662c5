"""Who does what, and when: the round's plan, drawn from one seed (the same seed, the same round).

Day 0 is the simulation's first day. Municipalities join and nominate at once; training
starts a week later; cases arrive from the second month of the pilot (when assistants may
serve, CAP-1) until four months before the end. Each case's course (target group and flags,
decision, extension, closure reason, a late review) and each quarter's report (submitted on
time or late, returned or approved) is drawn here; the people in :mod:`.round` then act it out
through the API and the rules decide (a referral may be refused: CAP-2…CAP-5).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

GROUPS = ["family_with_children"] * 7 + ["youth_leaving_care"] * 2 + ["adult_with_mental_disorder"]
RISKS = ["low"] * 5 + ["medium"] * 4 + ["high"]
CLOSURES = ["goals_achieved"] * 6 + ["client_withdrew", "no_cooperation", "moved_away", "other"]
TRAINING_WEEK = 1  # training starts on day 7


@dataclass(frozen=True)
class Options:
    """What an analyst may change (``famassist simulate --help``); settings overrides in ``settings``."""

    municipalities: int = 37
    assistants: int = 50
    cases: int = 200
    years: int = 2
    seed: int = 2020
    visits_per_month: int = 1  # each visit: one visit record and one timesheet entry (a visit day, 4-8 h)
    in_flight: int = 0  # API requests at once; 0: no limit (see people.API_IN_FLIGHT)
    worker_processes: int = 1  # the workflows' and activities' processes; 0: in the people's and API's process
    full_time_share: float = 0.6  # assistants raised to 1.0 FTE at month 4 (PH-3)
    settings: dict[str, object] = field(default_factory=dict)  # e.g. {"unit_rate_eur": Decimal("5.50")}

    @property
    def weeks(self) -> int:
        return self.years * 52


@dataclass(frozen=True)
class MunicipalityPlan:
    code: str
    name: str
    population: int


@dataclass(frozen=True)
class AssistantPlan:
    assistant_id: str
    municipality: str
    full_time: bool  # amended to 1.0 FTE from month 4
    child_rights_hours: int  # PH-4: 40 completes the course; fewer raises its reminder


@dataclass(frozen=True)
class CasePlan:
    key: int
    municipality: str
    arrival_week: int
    assessment: dict[str, object]
    granted: bool
    extended: bool
    late_review: bool  # the social worker reviews after the due date (an overdue escalation)
    closure: str
    every: int  # weeks between visits
    visit_days: tuple[int, ...]  # for each visit: days back from the week's day
    hours: tuple[str, ...]


@dataclass(frozen=True)
class ReportPlan:
    submit_week: int  # weeks after the quarter ended (2: on time; 3-4: after the 15-day due date)
    returned: bool


@dataclass
class Scenario:
    options: Options
    municipalities: list[MunicipalityPlan]
    assistants: list[AssistantPlan]
    cases: list[CasePlan]
    rng: random.Random

    def report_plan(self, municipality: str, quarter: str) -> ReportPlan:
        r = random.Random(f"{self.options.seed}:{municipality}:{quarter}")
        return ReportPlan(submit_week=r.choice([2, 2, 2, 2, 3, 4]), returned=r.random() < 0.05)


def _assessment(r: random.Random) -> dict[str, object]:
    group = r.choice(GROUPS)
    risk = r.choice(RISKS) if group == "family_with_children" else None
    return {"target_group": group, "child_safety_risk": risk, "multiple_social_problems": r.random() < 0.15,
            "partially_independent": group != "family_with_children" and r.random() < 0.5,
            "skill_areas": r.sample(["social_skills", "self_care", "childcare_and_upbringing", "budget_planning",
                                     "household_management", "housing", "employment"], 2),
            "methods": ["genogram", "ecomap"], "service_needed": True,
            "opinion": "The service is needed (simulated).", "client_motivated": True}


def build(options: Options) -> Scenario:
    r = random.Random(options.seed)
    municipalities = [MunicipalityPlan(code=f"M{n:03d}", name=f"Municipality {n}",
                                       population=r.choice([4_000, 9_000, 15_000, 25_000, 60_000]))
                      for n in range(1, options.municipalities + 1)]
    assistants = [AssistantPlan(assistant_id=f"ga-{n:04d}", municipality=municipalities[n % len(municipalities)].code,
                                full_time=r.random() < options.full_time_share,
                                child_rights_hours=40 if r.random() < 0.9 else 20)
                  for n in range(options.assistants)]
    served = sorted({a.municipality for a in assistants})
    first, last = 6, max(7, options.weeks - 17)  # from month 2 (CAP-1) until four months before the end
    every = max(1, round(52 / 12 / max(options.visits_per_month, 1)))
    cases = []
    for key in range(options.cases):
        arrival = r.randint(first, last)
        visits = (options.weeks - arrival) // every + 1
        cases.append(CasePlan(
            key=key, municipality=r.choice(served), arrival_week=arrival, assessment=_assessment(r),
            granted=r.random() < 0.9, extended=r.random() < 0.4, late_review=r.random() < 0.1,
            closure=r.choice(CLOSURES), every=every, visit_days=tuple(r.randint(0, 6) for _ in range(visits)),
            hours=tuple(r.choice(["4", "5", "6", "6.5", "7", "8"]) for _ in range(visits))))
    return Scenario(options=options, municipalities=municipalities, assistants=assistants, cases=cases, rng=r)


def unit_rate(options: Options, default: Decimal) -> Decimal:
    return Decimal(str(options.settings.get("unit_rate_eur", default)))
