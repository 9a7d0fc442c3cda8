"""Settings from the environment; nothing is built at import time."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """`LEANSTOCK_*` environment variables (or a `.env` file) configure a process."""

    model_config = SettingsConfigDict(env_prefix="LEANSTOCK_", env_file=".env", extra="ignore")

    # ./leanstock.db in the directory the process works in when it reads its settings.
    database_url: str = Field(default_factory=lambda: f"sqlite:///{Path('leanstock.db').resolve()}")
    host: str = "127.0.0.1"
    port: int = 8000
    idempotency_hours: int = 24
    # Database connections per API process; requests beyond it wait for one, so PostgreSQL
    # never has to fork a connection per request under load.
    pool_size: int = 16

    # Security. Secrets never live in code: database credentials come with the URL above.
    # Argon2id cost (RFC 9106's second recommendation: t=3, 64 MiB, p=4). Lower it only in tests.
    password_time_cost: int = Field(default=3, ge=1)
    password_memory_kib: int = Field(default=65536, ge=8)
    password_parallelism: int = Field(default=4, ge=1)
    # Password hashes computed at once per process: each takes `password_memory_kib`.
    password_hash_concurrency: int = Field(default=4, ge=1)
    session_idle_minutes: int = Field(default=30, ge=1)
    session_absolute_hours: int = Field(default=12, ge=1)
    # Send the session cookie over HTTPS only; turn off only for plain http on one's own machine.
    cookie_secure: bool = True
    # Strict-Transport-Security max-age; set it (e.g. 31536000) once the site is HTTPS-only.
    hsts_seconds: int = Field(default=0, ge=0)
    # Origins allowed to call the API from a browser (CORS); none unless configured.
    cors_origins: list[str] = []
    max_body_bytes: int = Field(default=2_000_000, ge=1024)
    # A file uploaded to `POST /api/v1/imports/{kind}` may be this big (a spreadsheet of
    # a business's history is bigger than any JSON request).
    max_import_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    # Let webhooks go to loopback and private addresses: for development and tests only
    # (otherwise a subscription could make the server call its own network: SSRF).
    webhooks_allow_private: bool = False
    # Run the webhook publisher inside `leanstock serve` (off: run `leanstock worker`).
    publisher: bool = True
    # Seconds the publisher waits between passes when there was nothing to do.
    publisher_interval: float = Field(default=2.0, gt=0)
    # Interactive API docs at /docs and /redoc and the schema at /openapi.json.
    docs: bool = True
    # Seconds `leanstock serve` gives requests in flight to finish after SIGTERM before it
    # cancels them (uvicorn's `timeout_graceful_shutdown`).
    shutdown_seconds: int = Field(default=30, ge=1)
    # Let the crash tests kill the server mid-request (`entrypoints/api/test_hooks.py`).
    # Never in production.
    test_hooks: bool = False

    # The Dask scheduler `POST /what-if` with engine "dask" runs on (tcp://host:8786); unset,
    # a local cluster in the API process. Requests never name one.
    dask_scheduler: str | None = None

    # Observability (docs/deploy.md, "Logs, health and metrics"). Logs go to stderr, one JSON
    # object a line ("json") or plain lines ("text"), each with the request's id.
    log_format: Literal["json", "text"] = "json"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # One line per request (method, route, status, milliseconds, request id, who).
    access_log: bool = True
    # Prometheus metrics at /metrics: "local" answers loopback clients only (a scraper on the
    # same host), "open" anyone, "off" no one. With a token set, a request bearing it
    # (`Authorization: Bearer <token>`) is answered from anywhere.
    metrics: Literal["off", "local", "open"] = "local"
    metrics_token: SecretStr | None = None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
