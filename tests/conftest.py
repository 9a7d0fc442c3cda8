"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL tests read LEANSTOCK_TEST_POSTGRES_URL; each test gets a schema of its own, dropped
afterwards. Where the variable is unset they skip with that reason, except under CI (CI=true),
where a missing server is a failure, so CI cannot pass without them.

The API client signs its requests with an owner's token, as a real client must. Password
hashing is made cheap here, for the tests only (the settings' defaults stay at full cost).
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import pytest

os.environ.setdefault("LEANSTOCK_PASSWORD_TIME_COST", "1")
os.environ.setdefault("LEANSTOCK_PASSWORD_MEMORY_KIB", "64")
os.environ.setdefault("LEANSTOCK_PASSWORD_PARALLELISM", "1")

warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text

from leanstock.adapters.db.engine import make_engine, normalise_url, upgrade
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.access import Role, Scope
from leanstock.domain.errors import NotFound
from leanstock.entrypoints.api.app import create_app
from leanstock.services import accounts, tokens

POSTGRES_URL = os.environ.get("LEANSTOCK_TEST_POSTGRES_URL")
OWNER = "owner@example.com"
PASSWORD = "correct horse battery staple"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    """Each test's outcome on its item (`rep_call`), so the browser tests' page fixture can
    take a screenshot when the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.environ.get("CI") and not POSTGRES_URL:
        raise pytest.UsageError(
            "CI must set LEANSTOCK_TEST_POSTGRES_URL: PostgreSQL tests are required."
        )


@contextmanager
def database(kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A URL of an empty database: a SQLite file, or a fresh schema on the PostgreSQL server."""
    if kind == "sqlite":
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


DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=DATABASES)
def db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A URL of an empty database: a SQLite file, or a fresh schema on the PostgreSQL server."""
    with database(request.param, tmp_path_factory) as url:
        yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url, pool_size=40)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def uow(engine: Engine) -> UnitOfWork:
    return UnitOfWork(engine)


def make_token(
    engine: Engine,
    email: str,
    role: Role,
    *,
    locations: list[str] | None = None,
    supplier: str | None = None,
    scope: Scope = Scope.WRITE,
) -> str:
    """A user (created if new, password `PASSWORD`) and a fresh API token of theirs."""
    uow = UnitOfWork(engine)
    try:
        user_id = accounts.user_id_of(uow, email)
    except NotFound:
        user = accounts.create_user(
            uow, email, PASSWORD, role, locations=locations, supplier=supplier
        )
        user_id = user.id
    return tokens.create_token(uow, user_id, "tests", scope).secret


@pytest.fixture
def token_for(engine: Engine) -> Callable[..., str]:
    """`token_for(email, role, locations=..., supplier=..., scope=...)`: a user's new token."""

    def make(email: str, role: Role, **bindings: Any) -> str:
        return make_token(engine, email, role, **bindings)

    return make


@pytest.fixture
def owner_token(engine: Engine) -> str:
    return make_token(engine, OWNER, Role.OWNER)


@pytest.fixture
def client(engine: Engine, owner_token: str) -> Iterator[TestClient]:
    """An API client signed in as an owner (with a Bearer token)."""
    with TestClient(
        create_app(engine=engine),
        raise_server_exceptions=False,
        headers={"Authorization": f"Bearer {owner_token}"},
    ) as test_client:
        yield test_client
