"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL tests read LEANSTOCK_TEST_POSTGRES_URL; each test gets a schema of its own, dropped
afterwards. Where the variable is unset they skip with that reason, except under CI (CI=true),
where a missing server is a failure, so CI cannot pass without them.
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator
from urllib.parse import quote

import pytest

warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text

from leanstock.adapters.db.engine import make_engine, normalise_url, upgrade
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.entrypoints.api.app import create_app

POSTGRES_URL = os.environ.get("LEANSTOCK_TEST_POSTGRES_URL")


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.environ.get("CI") and not POSTGRES_URL:
        raise pytest.UsageError(
            "CI must set LEANSTOCK_TEST_POSTGRES_URL: PostgreSQL tests are required."
        )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A URL of an empty database: a SQLite file, or a fresh schema on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db')}/leanstock.db"
        return
    if not POSTGRES_URL:
        pytest.skip("LEANSTOCK_TEST_POSTGRES_URL is not set")
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url, pool_size=40)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def uow(engine: Engine) -> UnitOfWork:
    return UnitOfWork(engine)


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(engine=engine), raise_server_exceptions=False) as test_client:
        yield test_client
