"""Settings from environment variables, with safe development defaults.

Production (`ANALISA_ENV=production`) refuses the development secrets and requires the
services that development may go without (principle 6: optional infrastructure degrades).
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

# Development-only secrets: fixed so a fresh checkout runs; refused in production.
DEV_VAULT_KEY = base64.b64encode(hashlib.sha256(b"analisa-dev-vault-key").digest()).decode()
DEV_PSEUDONYM_KEY = "analisa-dev-pseudonym-key"
DEV_JWT_SECRET = "analisa-dev-jwt-secret-change-me"
DEV_CLIENT_SECRET = "sandbox-client-secret"

# Production refuses these fields at their development value (fields checked after `env`, which
# is declared first so that each check sees it), and requires these services.
_DEV_SECRETS = {
    "vault_key": DEV_VAULT_KEY,
    "pseudonym_key": DEV_PSEUDONYM_KEY,
    "jwt_secret": DEV_JWT_SECRET,
    "instagram_client_secret": DEV_CLIENT_SECRET,
    "tiktok_client_secret": DEV_CLIENT_SECRET,
    "facebook_app_secret": DEV_CLIENT_SECRET,
}
_PRODUCTION_SERVICES = ("database_url", "redis_url", "amqp_url")


class SettingsError(ValueError):
    """Settings that cannot be loaded: each problem names its environment variable and never
    shows a value (pydantic's own message repeats the input, secrets included)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        lines = [f"  {variable}: {problem}" for variable, problem in problems]
        super().__init__("invalid settings (values not shown):\n" + "\n".join(lines))

    @classmethod
    def from_validation_error(cls, exc: ValidationError) -> SettingsError:
        aliases = {name: field.alias or name for name, field in Settings.model_fields.items()}
        problems = []
        for error in exc.errors(include_input=False, include_url=False, include_context=False):
            loc = error["loc"]
            head = str(loc[0]) if loc else "settings"
            variable = aliases.get(head, head)
            rest = "".join(f"[{part}]" for part in loc[1:])
            problems.append((variable + rest, error["msg"]))
        return cls(problems)


class Settings(BaseSettings):
    # Environment names are the aliases only: with lookup by field name too, HOME would set
    # `home` and ENV would set `env`.
    model_config = SettingsConfigDict(extra="ignore")

    env: Literal["development", "test", "production"] = Field("development", alias="ANALISA_ENV")
    home: Path = Field(Path(".analisa"), alias="ANALISA_HOME")

    # Services: unset means the embedded/in-process default (see analisa.core.db, connectors.queue).
    database_url: str | None = Field(None, alias="DATABASE_URL")
    redis_url: str | None = Field(None, alias="REDIS_URL")
    amqp_url: str | None = Field(None, alias="AMQP_URL")
    require_services: bool = Field(False, alias="ANALISA_REQUIRE_SERVICES")

    # Secrets.
    vault_key: SecretStr = Field(SecretStr(DEV_VAULT_KEY), alias="ANALISA_VAULT_KEY")
    # Earlier vault keys, comma-separated, still accepted for reading while `analisa keys
    # rotate` re-encrypts every token under ANALISA_VAULT_KEY.
    vault_previous_keys: SecretStr = Field(SecretStr(""), alias="ANALISA_VAULT_PREVIOUS_KEYS")
    pseudonym_key: SecretStr = Field(SecretStr(DEV_PSEUDONYM_KEY), alias="ANALISA_PSEUDONYM_KEY")
    jwt_secret: SecretStr = Field(SecretStr(DEV_JWT_SECRET), alias="ANALISA_JWT_SECRET")

    # Platform apps (the sandbox accepts the development defaults).
    instagram_client_id: str = Field("sandbox-instagram-app", alias="INSTAGRAM_CLIENT_ID")
    instagram_client_secret: SecretStr = Field(
        SecretStr(DEV_CLIENT_SECRET), alias="INSTAGRAM_CLIENT_SECRET"
    )
    # Facebook Login (Instagram API with Facebook Login): a brand's business account, for
    # Business Discovery of public creators. The development secret works only with the
    # sandbox; `analisa track` refuses it in production.
    facebook_app_id: str = Field("sandbox-facebook-app", alias="FACEBOOK_APP_ID")
    facebook_app_secret: SecretStr = Field(
        SecretStr(DEV_CLIENT_SECRET), alias="FACEBOOK_APP_SECRET"
    )
    facebook_authorize_url: str = Field(
        "https://www.facebook.com/v23.0/dialog/oauth", alias="FACEBOOK_AUTHORIZE_URL"
    )
    facebook_graph_url: str = Field("https://graph.facebook.com", alias="FACEBOOK_GRAPH_URL")
    tiktok_client_key: str = Field("sandbox-tiktok-app", alias="TIKTOK_CLIENT_KEY")
    tiktok_client_secret: SecretStr = Field(
        SecretStr(DEV_CLIENT_SECRET), alias="TIKTOK_CLIENT_SECRET"
    )
    oauth_redirect_uri: str = Field(
        "http://127.0.0.1:8000/v1/oauth/callback", alias="OAUTH_REDIRECT_URI"
    )

    # Platform endpoints: real hosts by default; `analisa demo` points them at the sandbox.
    instagram_authorize_url: str = Field(
        "https://www.instagram.com/oauth/authorize", alias="INSTAGRAM_AUTHORIZE_URL"
    )
    instagram_api_url: str = Field("https://api.instagram.com", alias="INSTAGRAM_API_URL")
    instagram_graph_url: str = Field("https://graph.instagram.com", alias="INSTAGRAM_GRAPH_URL")
    instagram_graph_version: str = Field("v23.0", alias="INSTAGRAM_GRAPH_VERSION")
    tiktok_authorize_url: str = Field(
        "https://www.tiktok.com/v2/auth/authorize/", alias="TIKTOK_AUTHORIZE_URL"
    )
    tiktok_api_url: str = Field("https://open.tiktokapis.com", alias="TIKTOK_API_URL")

    # Collection (issue #7): workers, planner cadence, shared budgets, incremental rounds, tokens.
    queue_prefix: str = Field("analisa", min_length=1, alias="ANALISA_QUEUE_PREFIX")
    redis_prefix: str = Field("analisa:", alias="ANALISA_REDIS_PREFIX")
    collection_interval_seconds: float = Field(
        6 * 3600, gt=0, alias="ANALISA_COLLECTION_INTERVAL_SECONDS"
    )
    worker_grace_seconds: float = Field(60, ge=0, alias="ANALISA_WORKER_GRACE_SECONDS")
    worker_heartbeat_seconds: int = Field(30, ge=1, alias="ANALISA_WORKER_HEARTBEAT_SECONDS")
    # Published work with no outcome, neither queued nor in progress this long, was lost: swept.
    collection_sweep_after_seconds: float = Field(
        600, ge=0, alias="ANALISA_COLLECTION_SWEEP_AFTER_SECONDS"
    )
    tiktok_rate_scope: Literal["app", "account"] = Field("app", alias="TIKTOK_RATE_SCOPE")
    tiktok_requests_per_minute: int = Field(600, ge=1, alias="TIKTOK_REQUESTS_PER_MINUTE")
    usage_slowdown_percent: int = Field(80, ge=1, le=100, alias="ANALISA_USAGE_SLOWDOWN_PERCENT")
    instagram_page_size: int = Field(100, ge=1, le=100, alias="INSTAGRAM_PAGE_SIZE")
    recent_insights_days: int = Field(7, ge=0, alias="ANALISA_RECENT_INSIGHTS_DAYS")
    # Stories live 24 h: collected with their insights on every round of a connected account.
    instagram_stories: bool = Field(True, alias="INSTAGRAM_STORIES")
    old_insights_every_seconds: float = Field(
        7 * 86400, gt=0, alias="ANALISA_OLD_INSIGHTS_EVERY_SECONDS"
    )
    full_listing_every_seconds: float = Field(
        86400, gt=0, alias="ANALISA_FULL_LISTING_EVERY_SECONDS"
    )
    token_refresh_window_seconds: float = Field(
        7 * 86400, gt=0, alias="ANALISA_TOKEN_REFRESH_WINDOW_SECONDS"
    )

    # Monitoring: each worker's Prometheus endpoint (0: off) and the interface the worker and
    # the pipeline exporter (`analisa metrics`) listen on.
    worker_metrics_port: int = Field(0, ge=0, le=65535, alias="ANALISA_WORKER_METRICS_PORT")
    metrics_host: str = Field("127.0.0.1", min_length=1, alias="ANALISA_METRICS_HOST")

    # Retention (orchestration/defs/retention, docs/privacy.md): raw bronze is purged this many
    # days after it was ingested, once silver holds what was derived from it; rejected import
    # lines (never read by silver) after their own period; deletes go in batches of this size.
    bronze_retention_days: int = Field(90, ge=1, le=36_500, alias="ANALISA_BRONZE_RETENTION_DAYS")
    rejected_retention_days: int = Field(
        30, ge=1, le=36_500, alias="ANALISA_REJECTED_RETENTION_DAYS"
    )
    retention_batch_rows: int = Field(
        10_000, ge=1, le=1_000_000, alias="ANALISA_RETENTION_BATCH_ROWS"
    )

    # Serving.
    api_cache_ttl_seconds: int = Field(300, alias="ANALISA_API_CACHE_TTL")
    api_redis_max_connections: int = Field(50, alias="ANALISA_API_REDIS_MAX_CONNECTIONS")
    # The API's own read-only login (migration 006); unset: DATABASE_URL with `set role` to it.
    api_database_url: str | None = Field(None, alias="ANALISA_API_DATABASE_URL")
    # API tokens: HS256 signed with ANALISA_JWT_SECRET (kid = its fingerprint); tokens signed
    # with a previous secret stay valid while it is listed here (comma-separated): rotation.
    jwt_previous_secrets: SecretStr = Field(SecretStr(""), alias="ANALISA_JWT_PREVIOUS_SECRETS")
    jwt_issuer: str = Field("analisa", min_length=1, alias="ANALISA_JWT_ISSUER")
    jwt_audience: str = Field("analisa-api", min_length=1, alias="ANALISA_JWT_AUDIENCE")
    jwt_leeway_seconds: int = Field(5, ge=0, le=10, alias="ANALISA_JWT_LEEWAY")
    api_token_ttl_seconds: int = Field(900, ge=60, le=86400, alias="ANALISA_API_TOKEN_TTL")
    # Requests per minute per client (token subject); 0 switches the limit off.
    api_rate_limit_per_minute: int = Field(1200, ge=0, alias="ANALISA_API_RATE_LIMIT")
    # Origins allowed by CORS, comma-separated (empty: no CORS headers).
    api_cors_origins: str = Field("", alias="ANALISA_API_CORS_ORIGINS")
    # Parquet exports: a folder or any fsspec URL (s3:// needs the `s3` extra, memory://).
    # ANALISA_EXPORT_DIR, the earlier name (a folder only), is still read when this is unset.
    export_root: str | None = Field(None, min_length=1, alias="ANALISA_EXPORT_ROOT")
    export_dir: Path | None = Field(None, alias="ANALISA_EXPORT_DIR")
    # Export versions kept besides the current one, for readers still on an older manifest.
    export_keep_versions: int = Field(1, ge=0, le=20, alias="ANALISA_EXPORT_KEEP_VERSIONS")
    # dbt run folders (dbt_project/target/<run>) kept after each dbt invocation.
    dbt_target_keep: int = Field(5, ge=1, alias="ANALISA_DBT_TARGET_KEEP")
    # Memory each sort or hash of a dbt model may use before spilling to disk (PostgreSQL's
    # work_mem for dbt's own sessions). The server's default (4MB) makes every large model sort on
    # disk; dbt runs two models at a time, each with a few such steps.
    dbt_work_mem: str = Field(
        "256MB", pattern=r"^[1-9][0-9]{0,6}(kB|MB|GB)$", alias="ANALISA_DBT_WORK_MEM"
    )
    # What dbt writes to the dbt.log of each run folder. At debug it logged every query of every
    # node (about a sixth of dbt's own work in an incremental build, which is dbt's Python more
    # than the database's); info keeps each node's start, end and errors. What a run prints,
    # which Dagster reads, is not affected.
    dbt_file_log_level: Literal["debug", "info", "warn", "error", "none"] = Field(
        "info", alias="ANALISA_DBT_FILE_LOG_LEVEL"
    )
    # The AI enrichment (enrichment/): auto = on when its model library is installed; off keeps
    # gold and the API as they are without it (their enrichment columns stay empty).
    enrichment: Literal["auto", "on", "off"] = Field("auto", alias="ANALISA_ENRICHMENT")
    # Captions embedded per pipeline run at most (0: all of them); a new model version then
    # fills over several runs while the previous one keeps serving.
    enrichment_max_per_run: int = Field(0, ge=0, alias="ANALISA_ENRICHMENT_MAX_PER_RUN")
    # Seconds of embedding per pipeline run at most (0: no limit): no new batch of captions is
    # started after them, so the first build over a large backlog (about 70 captions/s on two
    # cores: 200,000 captions take 48 minutes) builds gold after at most this long, and the
    # following runs go on from where it stopped.
    enrichment_max_seconds: int = Field(120, ge=0, alias="ANALISA_ENRICHMENT_MAX_SECONDS")
    log_level: str = Field("INFO", alias="ANALISA_LOG_LEVEL")
    log_json: bool = Field(False, alias="ANALISA_LOG_JSON")

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
            return
        except ValidationError as exc:
            error = SettingsError.from_validation_error(exc)
        # raised outside the except block: no chained ValidationError, whose text shows the values
        raise error

    @field_validator(*_DEV_SECRETS, mode="after")
    @classmethod
    def _refuse_dev_secret_in_production(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        if (
            info.data.get("env") == "production"
            and value.get_secret_value() == _DEV_SECRETS[info.field_name]
        ):
            raise PydanticCustomError(
                "development_default", "is the development default, refused in production"
            )
        return value

    @field_validator("jwt_secret", mode="after")
    @classmethod
    def _jwt_secret_long_enough(cls, value: SecretStr) -> SecretStr:
        # HS256 keys shorter than the hash output are brute-forceable offline from one token.
        if len(value.get_secret_value().encode()) < 32:
            raise PydanticCustomError("too_short", "must be at least 32 bytes")
        return value

    @field_validator(*_PRODUCTION_SERVICES, mode="after")
    @classmethod
    def _require_services_in_production(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("env") == "production" and not value:
            raise PydanticCustomError("required_in_production", "must be set in production")
        return value

    @property
    def export_path(self) -> Path:
        return self.export_dir or (self.home / "exports")

    @property
    def export_location(self) -> str:
        """Where Parquet exports go: ANALISA_EXPORT_ROOT, else ANALISA_EXPORT_DIR, else
        ANALISA_HOME/exports."""
        return self.export_root or str(self.export_path)


@lru_cache
def get_settings() -> Settings:
    return Settings()
