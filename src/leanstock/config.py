"""Settings from the environment; nothing is built at import time."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """`LEANSTOCK_*` environment variables (or a `.env` file) configure a process."""

    model_config = SettingsConfigDict(env_prefix="LEANSTOCK_", env_file=".env", extra="ignore")

    database_url: str = f"sqlite:///{Path('leanstock.db').resolve()}"
    host: str = "127.0.0.1"
    port: int = 8000
    idempotency_hours: int = 24
    # Database connections per API process; requests beyond it wait for one, so PostgreSQL
    # never has to fork a connection per request under load.
    pool_size: int = 16


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
