"""Every setting of the service, with the defaults DOMAIN.md gives.

Read once through :func:`get_settings`; override with ``FAMASSIST_*`` environment
variables (e.g. ``FAMASSIST_DATABASE_URL``).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from domain.research import DEFAULT_DOMAINS
from domain.roles import Role

# Connections beyond one per API thread: the health check's own threads and the closing of sessions.
DB_POOL_MARGIN = 5


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FAMASSIST_", extra="ignore")

    # --- where things run -------------------------------------------------
    var_dir: Path = Path("./var")
    database_url: str = "sqlite:///./var/famassist.db"
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = "famassist"
    temporal_db_file: Path = Path("./var/temporal.db")
    temporal_ui_port: int = 8233
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    log_format: str = Field(default="console", pattern="^(console|json)$")
    log_level: str = "INFO"
    max_body_bytes: int = Field(default=1_048_576, ge=1)  # a larger request body: 413 before parsing

    # --- many users at once: the API's threads and database connections (README, How it is built)
    api_threads: int = Field(default=40, ge=1)  # worker threads of an API process: every database call runs in one
    db_pool_size: int | None = Field(default=None, ge=1)  # connections kept; unset: api_threads + DB_POOL_MARGIN
    db_max_overflow: int = Field(default=10, ge=0)  # more connections opened for a burst, closed after it
    db_pool_timeout_seconds: float = Field(default=30.0, gt=0)  # then 503 with Retry-After (never 500)

    # --- retrying safely (Idempotency-Key) ----------------------------------
    idempotency_window_hours: int = Field(default=24, ge=1, le=24 * 365)  # a key answers alike this long
    unfinished_case_grace_seconds: int = Field(default=600, ge=0)  # then an opening that never started is repaired
    case_repair_interval_seconds: int = Field(default=60, ge=1)  # how often the API looks for such openings

    # --- supervision: `famassist up` restarts a child that dies; the worker stops gracefully
    restart_initial_delay_seconds: float = Field(default=1.0, gt=0)  # the first restart's delay …
    restart_max_delay_seconds: float = Field(default=30.0, gt=0)  # … doubling up to this
    restart_reset_after_seconds: float = Field(default=60.0, gt=0)  # up this long: the next delay is the first again
    worker_shutdown_seconds: float = Field(default=30.0, ge=0)  # SIGTERM: running activities get this long

    # --- the worker, sized for a national roll-out (15,000 active cases) ------
    worker_max_cached_workflows: int = Field(default=20_000, ge=0)  # running workflows kept in memory (SDK: 1,000)
    worker_max_concurrent_workflow_tasks: int = Field(default=100, ge=1)
    # Polls for workflow tasks open at once, split between the task queue (the first task of every new
    # workflow, and the workflows not in this worker's cache) and this worker's sticky queue (the rest)
    # by the ratio. The SDK's 5 and 0.2 leave one poll on the task queue: in a burst of openings the new
    # cases' first tasks wait in line, after their answers, and a step sent at once waits with them. 20
    # and 0.5 take them at once instead, in the burst's CPU time, and POST /cases answers fewer a
    # second (bench/README.md, 2026-11-25): so the SDK's are kept; raise them for bursts of steps.
    worker_workflow_task_polls: int = Field(default=5, ge=2)
    worker_task_queue_poll_ratio: float = Field(default=0.2, gt=0, le=1)  # the SDK's nonsticky_to_sticky_poll_ratio
    worker_max_concurrent_activities: int = Field(default=100, ge=1)  # the task queue's: reservations (CAP-6)
    worker_max_concurrent_record_activities: int = Field(default=16, ge=1)  # the records queue's: database writes
    worker_activity_threads: int = Field(default=16, ge=1)  # the records queue's threads: ≥ its activities
    # runs with local records (older workers) write changes in the workflow task: own slots and threads
    worker_max_concurrent_local_activities: int = Field(default=16, ge=1)
    worker_db_pool_size: int = Field(default=16, ge=1)  # the worker's database connections …
    worker_db_max_overflow: int = Field(default=16, ge=0)  # … and this many more at a peak: ≥ the writers together

    # --- operations (issue 10, README "Production") ------------------------
    metrics_token: SecretStr | None = None  # set: GET /metrics needs "Authorization: Bearer <it>"; unset: open
    worker_metrics_address: str | None = Field(default=None, pattern=r"^[^:]*:[0-9]{1,5}$")  # e.g. 0.0.0.0:9464
    metrics_read_model_seconds: float = Field(default=15.0, ge=0)  # /metrics reads the read models at most this often
    ready_poller_max_age_seconds: float = Field(default=120.0, gt=0)  # /health/ready: a worker polled this recently
    otel_endpoint: str | None = None  # OTLP/HTTP traces, e.g. http://otel-collector:4318/v1/traces; unset: off
    otel_service_name: str = "famassist"

    # --- tokens -------------------------------------------------------------
    # The development signing key (HS256). Unset in production, where tokens
    # come from the identity provider and are checked with jwt_public_key.
    jwt_secret: SecretStr | None = None
    jwt_secret_file: Path = Path("./var/dev-jwt-secret")
    jwt_public_key: str | None = None
    jwt_algorithm: str = "HS256"
    jwt_issuer: str = "famassist"
    jwt_audience: str = "famassist"
    dev_token_hours: int = 12
    # Single sign-on (README, Production: Single sign-on): with either set, tokens are checked with the
    # identity provider's published keys (by kid) instead of the keys above.
    oidc_issuer: str | None = None  # the provider's issuer URL: its discovery document names the key set; tokens' iss
    jwks_url: str | None = None  # or the key set's URL itself (tokens' iss: oidc_issuer if set, else jwt_issuer)
    jwks_algorithms: str = "RS256,ES256"  # the algorithms a provider's token may be signed with, comma-separated
    jwks_cache_seconds: float = Field(default=3600.0, gt=0)  # the key set is kept this long …
    jwks_refetch_seconds: float = Field(default=30.0, ge=0)  # … and fetched for an unknown kid at most this often
    jwks_timeout_seconds: float = Field(default=5.0, gt=0)  # the provider unanswered this long: 503
    # Which claims name the user, their roles and their municipality (api/claims.py); a dotted path
    # reaches into an object (Keycloak: realm_access.roles). The development tokens' claims by default.
    jwt_user_claim: str = "sub"
    jwt_roles_claim: str = "role"  # a string or a list of strings
    jwt_role_map: dict[str, Role] = {}  # the provider's role or group name → our role; empty: names are our roles
    jwt_municipality_claim: str = "municipality"
    jwt_municipality_map: dict[str, str] = {}  # a group (in jwt_municipality_claim) → a municipality code

    # --- the client's case (DOMAIN.md §5) ----------------------------------
    decision_due_days: int = 30  # §5.3: decision due after the application
    decision_reminder_days_before: int = 7  # §5.3: "a timer reminds before"
    decision_escalation_days_after: int = 0  # §5.3: "... and escalates after"
    service_period_months: int = 6  # §5.6 (002)
    review_reminder_days_before: int = 14  # §5.6
    review_escalation_days_after: int = 7  # §5.6
    extension_period_months: int = 6  # §5.7
    follow_up_months: int = 3  # §5.8 (004 "monitoring after closure")

    # --- the assistant's pilot (DOMAIN.md §2-§4) ----------------------------
    mun3_population_threshold: int = 20_000  # MUN-3
    mun3_min_candidates: int = 2  # MUN-3
    seminar_hours: int = 8  # MUN-4
    training_months: int = 1  # §3: month 1 from training start
    limited_service_months: int = 2  # §3: months 2-3
    pilot_months: int = 24  # §3: two years
    fte_first_months_min: Decimal = Decimal("0.3")  # PH-3
    fte_first_months_max: Decimal = Decimal("0.5")  # PH-3
    fte_max: Decimal = Decimal("1.0")  # PH-3
    training_programme_hours: int = 100  # PH-4
    child_rights_training_hours: int = 40  # PH-4
    child_rights_deadline_months: int = 6  # PH-4: end of month 6
    max_multiple_problem_clients: int = 3  # CAP-4
    mixed_group_max_clients: int = 3  # CAP-5
    mixed_group_max_with_partially_independent: int = 4  # CAP-5

    # --- hours and money (DOMAIN.md §6) -------------------------------------
    max_hours_per_day: Decimal = Decimal("8")  # HRS-2
    max_hours_per_week: Decimal = Decimal("40")  # HRS-2
    unit_rate_eur: Decimal = Decimal("6.10")  # HRS-4
    yearly_hour_cap: Decimal = Decimal("1720")  # HRS-5
    report_due_days: int = 15  # HRS-6
    report_escalation_days_after: int = 7  # HRS-6 "reminders as for reviews"

    # --- the study (DOMAIN.md §7) -------------------------------------------
    research_assessment_months: int = 6  # RES-2
    # RES-3: the key of the coded export's pseudonyms (HMAC-SHA-256 of the case id), held by the operator.
    # Without it the export answers 503. `famassist up` creates a development key file when none is set.
    research_key: SecretStr | None = None
    research_key_file: Path = Path("./var/dev-research-key")
    research_export_batch_rows: int = Field(default=1_000, ge=1, le=10_000)  # cases read per query (flat memory)
    # RES-2 (study): an assessment still missing this many days after it fell due escalates to the service head.
    research_assessment_grace_days: int = Field(default=30, ge=0)
    # RES-2 (study): the day the study ends; open control-group cases registered while it is set close then.
    study_ends_on: date | None = None
    # RES-2 (study): the domains every research assessment scores; comma-separated in the environment.
    research_domains: Annotated[tuple[str, ...], NoDecode] = DEFAULT_DOMAINS

    # --- CASE-6: workflow payloads encrypted (famassist/codec.py; README, Encryption keys) ---
    # "<key id>:<base64 of 32 bytes>", several separated by commas, the newest first: it encrypts, every
    # key decrypts. Unset: the key file (one a line, the newest first), which `famassist up` creates.
    payload_keys: SecretStr | None = None
    payload_keys_file: Path = Path("./var/dev-payload-keys")
    # The Temporal UI origins allowed to call POST /codec/decode; unset: the dev server's UI (temporal_ui_port).
    codec_cors_origins: Annotated[tuple[str, ...], NoDecode] = ()

    @field_validator("codec_cors_origins", mode="before")
    @classmethod
    def _origins_listed(cls, value: object) -> object:
        """``FAMASSIST_CODEC_CORS_ORIGINS=https://temporal.example.lv,…``."""
        if isinstance(value, str):
            value = tuple(origin.strip().rstrip("/") for origin in value.split(",") if origin.strip())
        return value

    def payload_key_text(self) -> str | None:
        """CASE-6: the payload keys' text, from the setting or the key file (as :meth:`signing_key`)."""
        if self.payload_keys is not None:
            return self.payload_keys.get_secret_value().strip() or None
        if self.payload_keys_file.is_file():
            return self.payload_keys_file.read_text().strip() or None
        return None

    def codec_origins(self) -> tuple[str, ...]:
        """The browser origins of the Temporal UI that decodes through this API."""
        return self.codec_cors_origins or (f"http://127.0.0.1:{self.temporal_ui_port}",
                                           f"http://localhost:{self.temporal_ui_port}")

    @field_validator("research_domains", mode="before")
    @classmethod
    def _domains_listed(cls, value: object) -> object:
        """RES-2 (study): ``FAMASSIST_RESEARCH_DOMAINS=housing,health,…``; at least one, none twice."""
        if isinstance(value, str):
            value = tuple(name.strip() for name in value.split(",") if name.strip())
        if isinstance(value, list | tuple) and (not value or len(set(value)) != len(value)):
            raise ValueError("research_domains: at least one domain, none twice")
        return value

    def pool_size(self) -> int:
        """The connections an API process keeps: one for each of its threads, plus the margin."""
        return self.db_pool_size or self.api_threads + DB_POOL_MARGIN

    def route_sessions(self) -> int:
        """Sync routes holding a session at once in an API process (the rest wait on the event loop).

        A route's session keeps its connection until its answer is serialised, in another worker
        thread. With at most the connections the threads cannot take, no thread ever waits for a
        connection, so none waits for a thread that a route waiting for a connection holds
        (api/deps.py ``get_session``)."""
        return max(1, self.pool_size() + self.db_max_overflow - self.api_threads)

    @model_validator(mode="after")
    def _worker_threads_suffice(self) -> Settings:
        """A database write waits for neither a thread nor a connection while it holds a slot."""
        if self.worker_activity_threads < self.worker_max_concurrent_record_activities:
            raise ValueError("worker_activity_threads must be at least worker_max_concurrent_record_activities")
        writers = self.worker_activity_threads + self.worker_max_concurrent_local_activities
        if self.worker_db_pool_size + self.worker_db_max_overflow < writers:
            raise ValueError("worker_db_pool_size + worker_db_max_overflow must be at least worker_activity_threads "
                             "+ worker_max_concurrent_local_activities")
        return self

    def single_sign_on(self) -> bool:
        """Tokens come from an identity provider (its published keys), not the static key."""
        return self.oidc_issuer is not None or self.jwks_url is not None

    @field_validator("jwt_role_map")
    @classmethod
    def _roles_of_people(cls, value: dict[str, Role]) -> dict[str, Role]:
        if Role.SYSTEM in value.values():
            raise ValueError("jwt_role_map: the system role is the workflows' own, never a caller's")
        return value

    @field_validator("jwt_municipality_map")
    @classmethod
    def _municipality_codes(cls, value: dict[str, str]) -> dict[str, str]:
        wrong = sorted(code for code in value.values() if not re.fullmatch(r"[A-Za-z0-9_-]{1,20}", code))
        if wrong:
            raise ValueError(f"jwt_municipality_map: not municipality codes: {', '.join(wrong)}")
        return value

    def signing_key(self) -> str | None:
        """The development signing key, from the setting or the key file."""
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        if self.jwt_secret_file.is_file():
            return self.jwt_secret_file.read_text().strip() or None
        return None

    def research_pseudonym_key(self) -> bytes | None:
        """RES-3: the pseudonym key, from the setting or the key file (as :meth:`signing_key`)."""
        if self.research_key is not None:
            return self.research_key.get_secret_value().encode() or None
        if self.research_key_file.is_file():
            return self.research_key_file.read_text().strip().encode() or None
        return None


@lru_cache
def get_settings() -> Settings:
    return Settings()
