"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

The schema is migrated once per test session (per xdist worker), not once per test: the first
test of a kind migrates a template, and every test then gets a copy of it. On SQLite the copy is
the migrated file copied; on PostgreSQL it is a database of its own, made by `CREATE DATABASE ...
TEMPLATE` from the migrated template database (schema, seed rows, sequences, triggers: all the
migrations made; PostgreSQL copies the files, which is several times quicker than replaying the
DDL), and dropped afterwards. Names carry this session's and this worker's ids, because other
sessions run tests against the same PostgreSQL server at the same time (and a template may have
no other connection while it is copied). Tests that need the same seeded data
(the demo business, ...) can ask for a template of it (`templates.copy(kind, name, seed)`), so it
is loaded once per worker rather than once per test. `test_migrations.py` holds the migrations
themselves to what the models say, upgrade and downgrade on both databases.

PostgreSQL tests read LEANSTOCK_TEST_POSTGRES_URL. Where it is unset they skip with that reason,
except under CI (CI=true), where a missing server is a failure, so CI cannot pass without them.

The API client signs its requests with an owner's token, as a real client must. Password
hashing is made cheap here, for the tests only (the settings' defaults stay at full cost).
"""

from __future__ import annotations

import functools
import gc
import os
import queue
import shutil
import sqlite3
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Generator, Iterator, Mapping
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

# Bytecode is cached even where PYTHONDONTWRITEBYTECODE is set (as on the shared machine): else
# every pytest process (each xdist worker) compiles Leanstock's modules and rewrites every test
# module's asserts again, about 6 CPU-seconds a process. The files go to __pycache__/ (ignored).
sys.dont_write_bytecode = False

os.environ.setdefault("LEANSTOCK_PASSWORD_TIME_COST", "1")
os.environ.setdefault("LEANSTOCK_PASSWORD_MEMORY_KIB", "64")
os.environ.setdefault("LEANSTOCK_PASSWORD_PARALLELISM", "1")

warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
import typer.main
import typer.testing
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from leanstock.adapters.db.engine import make_engine, normalise_url, upgrade
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.access import Role, Scope
from leanstock.domain.errors import NotFound
from leanstock.entrypoints.api.app import create_app
from leanstock.services import accounts, tokens

POSTGRES_URL = os.environ.get("LEANSTOCK_TEST_POSTGRES_URL")
OWNER = "owner@example.com"
PASSWORD = "correct horse battery staple"
# Unique to this pytest process: each xdist worker is a process of its own, and its name is
# added so a reader of the server's schemas can tell whose they are.
SESSION = f"{uuid.uuid4().hex[:8]}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"

Seed = Callable[[Engine], None]


@functools.cache
def _click_command(app: typer.Typer) -> Any:
    return typer.main.get_command(app)


# Typer's CliRunner turns the Typer app into its click command again on every `invoke`: it reads
# the signature and type hints of each of Leanstock's hundreds of commands, 0.3-0.5 CPU-s an
# invocation, most of what a CLI test's call cost. The command is the same every time (the app is
# built when `leanstock.entrypoints.cli` is imported), so it is made once per process here; the
# invocation itself (parsing, the command's code, the exit code and output) is unchanged.
typer.testing._get_command = _click_command  # type: ignore[attr-defined]


# The modules that take longest (worker-seconds summed from `--durations=0` of the default run,
# most first): with `--dist loadfile` a worker gets whole modules in collection order, so a long
# module collected late can leave one worker running it while the other has nothing left. These
# go first; every other module keeps its place after them.
LONGEST_FIRST = (
    "tests/e2e/test_web.py",
    "tests/e2e/test_api_hostile_input.py",
    "tests/e2e/test_api_orders.py",
    "tests/integration/test_plan_service.py",
    "tests/integration/test_orders_history.py",
    "tests/e2e/test_api_stock.py",
    "tests/integration/test_demo_load.py",
    "tests/e2e/test_api_auth.py",
    "tests/unit/planning/test_forecast_combine.py",
    "tests/e2e/test_web_settings.py",
    "tests/integration/test_edi.py",
    "tests/e2e/test_api_supplier_portal.py",
)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {path: n for n, path in enumerate(LONGEST_FIRST)}
    root = config.rootpath
    items.sort(key=lambda item: rank.get(item.path.relative_to(root).as_posix(), len(rank)))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Python's garbage collector, tuned for a test run. What collection loaded (every module,
    the test items, their marks) lives until the end: `gc.freeze` moves it out of the
    generations, so a full collection no longer walks it. And the youngest generation is
    collected every 20,000 allocations, not every 700: a test allocates millions of short-lived
    objects (rows, requests, SQL), and most are freed by reference counting anyway. On the API
    and web modules (`test_api_stock`, `test_api_hostile_input`, `test_web`, one process) the
    time spent collecting fell from 26.9 s to 8.8 s with the freeze and to 5.3 s with both."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 10, 10)


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


def _schema_url(schema: str) -> str:
    assert POSTGRES_URL is not None
    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}options={quote(f'-csearch_path={schema}')}"


@functools.cache
def _shared_admin() -> Engine:
    """One engine for creating and dropping schemas, disposed when the session ends."""
    assert POSTGRES_URL is not None
    return create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")


def pytest_sessionfinish(session: pytest.Session) -> None:
    DROPPER.finish()
    if POSTGRES_URL and _shared_admin.cache_info().currsize:
        _shared_admin().dispose()


@contextmanager
def _schema(admin: Engine, name: str, script: str | None = None) -> Iterator[str]:
    """A schema `name` (filled by `script`, if given) for the block, dropped afterwards."""
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{name}"'))
    if script:  # many statements in one: the driver's own call, with no parameters
        raw = admin.raw_connection()
        try:
            # One transaction for the whole script, committed without waiting for the disk:
            # a test schema need not survive a crash of the PostgreSQL server.
            raw.driver_connection.execute(  # type: ignore[union-attr]
                f"BEGIN; SET LOCAL synchronous_commit = off; {script}; COMMIT;"
            )
        finally:
            raw.close()
    try:
        yield _schema_url(name)
    finally:
        DROPPER.drop(admin, name)


def _database_url(name: str) -> str:
    """LEANSTOCK_TEST_POSTGRES_URL with another database's name in it."""
    assert POSTGRES_URL is not None
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def _create_database(name: str, template: str | None = None) -> None:
    """A new database `name`: empty, or a copy of the database `template` (PostgreSQL copies
    its files, far quicker than replaying the schema's DDL for each test)."""
    copy = f' TEMPLATE "{template}"' if template else ""
    with _shared_admin().connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))


class _Dropper:
    """Drops the tests' schemas and databases on threads of their own, so a test does not wait
    for it; the session waits for the last one at its end. Several threads, because a DROP
    DATABASE mostly waits (for every backend of the server to close the files), and one
    thread alone falls behind the tests on a busy server."""

    THREADS = 4

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[Engine, str] | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._failure: BaseException | None = None
        self._at_end: dict[str, None] = {}  # the names, in order
        self._before_finish: list[Callable[[], None]] = []

    def at_finish(self, run: Callable[[], None]) -> None:
        """Run `run` when the session ends, before the last drops are waited for."""
        self._before_finish.append(run)

    def drop(self, admin: Engine, schema: str) -> None:
        self._put(admin, f'DROP SCHEMA "{schema}" CASCADE')

    def drop_database(self, name: str) -> None:
        self._at_end.pop(name, None)
        self._put(_shared_admin(), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def drop_database_at_end(self, name: str) -> None:
        """Drop `name` when the session ends, with the others: concurrent drops share the
        checkpoint each one forces."""
        self._at_end[name] = None

    def _put(self, admin: Engine, statement: str) -> None:
        if not self._threads:
            for number in range(self.THREADS):
                thread = threading.Thread(target=self._run, name=f"drop-{number}", daemon=True)
                thread.start()
                self._threads.append(thread)
        self._queue.put((admin, statement))

    def _run(self) -> None:
        while (job := self._queue.get()) is not None:
            admin, statement = job
            try:
                with admin.connect() as connection:
                    connection.execute(text(statement))
            except BaseException as failure:  # reported when the session ends
                self._failure = failure

    def finish(self) -> None:
        for run in self._before_finish:
            run()
        self._before_finish.clear()
        for name in list(self._at_end):
            self.drop_database(name)
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()
        self._threads.clear()
        if self._failure is not None:
            raise self._failure


DROPPER = _Dropper()


@contextmanager
def database(kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A URL of an empty database: a SQLite file, or a fresh schema on the PostgreSQL server."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db')}/leanstock.db"
        return
    if not POSTGRES_URL:
        pytest.skip("LEANSTOCK_TEST_POSTGRES_URL is not set")
    with _schema(_shared_admin(), f"test_{uuid.uuid4().hex[:12]}") as url:
        yield url


def _new_copy_name() -> str:
    return f"test_{SESSION}_{uuid.uuid4().hex[:12]}"[:63]


# A template database may have no other connection while it is copied, so the copies made on
# the spare thread and on the test's own thread take turns.
COPYING = threading.Lock()


class _Spares:
    """Copies of the migrated template made ahead, on a thread of their own: a test that asks
    for a database takes one that is ready, and the next is made while the test runs (a copy
    costs the server 0.1-0.5 s, mostly waiting for the disk, which then overlaps the tests'
    own work instead of adding to it)."""

    AHEAD = 2

    def __init__(self) -> None:
        self._ready: queue.Queue[str | BaseException] = queue.Queue()
        self._wanted = threading.Semaphore(0)
        self._thread: threading.Thread | None = None
        self._made: list[str] = []

    def take(self, template: str) -> str:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, args=(template,), name="spare-databases", daemon=True
            )
            for _ in range(self.AHEAD):
                self._wanted.release()
            self._thread.start()
            DROPPER.at_finish(self._finish)
        self._wanted.release()
        ready = self._ready.get()
        if isinstance(ready, BaseException):
            raise ready
        self._made.remove(ready)
        return ready

    def _run(self, template: str) -> None:
        while True:
            self._wanted.acquire()
            if self._thread is None:
                return
            name = _new_copy_name()
            try:
                with COPYING:
                    _create_database(name, template)
            except BaseException as failure:  # handed to the test that waits for this copy
                self._ready.put(failure)
                continue
            self._made.append(name)
            self._ready.put(name)

    def _finish(self) -> None:
        """Stop making copies, and drop the ones no test took."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._wanted.release()
        thread.join()
        for name in self._made:
            DROPPER.drop_database(name)
        self._made.clear()


# Whether a database's schema is still the template's: for each catalog that describes it
# (tables, columns, defaults, constraints, indexes, triggers and whether enabled, functions, types
# and enum labels, schemas, rules, the database's settings) its row count and the newest
# transaction that wrote a row. A copy holds the template's files, so both are equal; any DDL in
# the copy (a downgrade, a dropped or disabled trigger) writes catalog rows in a newer transaction,
# and a DROP removes rows, so a test that changed the schema leaves a different value and its
# database is dropped instead of reused. (VACUUM and ANALYZE update pg_class in place, without a
# new transaction id, so they do not count.) This replaced an md5 of the catalog's definitions
# (pg_get_constraintdef, pg_get_triggerdef, ...): 20 ms of the server's CPU a reset, this 8.
_SCHEMA_STAMP = """
SELECT string_agg(part, ' ') FROM (
  SELECT 'class' || count(*) || ':' || max(xmin::text::bigint) AS part FROM pg_class
  UNION ALL SELECT 'attribute' || count(*) || ':' || max(xmin::text::bigint) FROM pg_attribute
  UNION ALL
  SELECT 'attrdef' || count(*) || ':' || coalesce(max(xmin::text::bigint), 0) FROM pg_attrdef
  UNION ALL SELECT 'constraint' || count(*) || ':' || max(xmin::text::bigint) FROM pg_constraint
  UNION ALL SELECT 'index' || count(*) || ':' || max(xmin::text::bigint) FROM pg_index
  UNION ALL
  SELECT 'trigger' || count(*) || ':' || coalesce(max(xmin::text::bigint), 0) FROM pg_trigger
  UNION ALL SELECT 'proc' || count(*) || ':' || max(xmin::text::bigint) FROM pg_proc
  UNION ALL SELECT 'type' || count(*) || ':' || max(xmin::text::bigint) FROM pg_type
  UNION ALL SELECT 'enum' || count(*) || ':' || coalesce(max(xmin::text::bigint), 0) FROM pg_enum
  UNION ALL SELECT 'namespace' || count(*) || ':' || max(xmin::text::bigint) FROM pg_namespace
  UNION ALL
  SELECT 'rule' || count(*) || ':' || coalesce(max(xmin::text::bigint), 0) FROM pg_rewrite
  UNION ALL
  SELECT 'settings' || count(*) || ':' || coalesce(max(xmin::text::bigint), 0)
    FROM pg_db_role_setting
   WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
) AS parts
"""


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _Snapshot:
    """What a template database holds, to put a used copy of it back as it was: the schema's
    stamp (`_SCHEMA_STAMP`), every table's rows (as `COPY` text) and every sequence's state."""

    def __init__(self, connection: Any) -> None:
        self.schema: str = _value(connection, _SCHEMA_STAMP)
        self.tables: list[str] = [
            _quoted(table)
            for (table,) in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        self.rows: dict[str, bytes] = {}
        for table in self.tables:
            with connection.cursor().copy(f"COPY {table} TO STDOUT") as copy:
                rows = b"".join(bytes(block) for block in copy)
            if rows:
                self.rows[table] = rows
        sequences = [
            _quoted(sequence)
            for (sequence,) in connection.execute(
                "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
            )
        ]
        self.sequences: list[tuple[str, int, bool]] = []
        for sequence in sequences:
            last_value, is_called = connection.execute(
                f"SELECT last_value, is_called FROM public.{sequence}"
            ).fetchone()
            self.sequences.append((sequence, last_value, is_called))


class _Reused:
    """The PostgreSQL databases of one template that this worker's tests have used, put back
    as the template has them and handed to the next test, rather than dropped and copied again.

    A `DROP DATABASE` forces a checkpoint on PostgreSQL 15 (a flush of every dirty buffer of
    the whole server), and a copy writes the template's files again; putting a used database
    back is a `DELETE` of each table's rows (with the triggers off, `session_replication_role
    = replica`, so the append-only ledger's and the foreign keys' triggers do not fire), the
    template's rows copied in and every sequence set as the template has it: tens of
    milliseconds. Connections a test left open are ended first (as `DROP ... WITH (FORCE)`
    did). A database whose schema a test changed (a downgrade, a dropped trigger: its stamp
    differs from the template's) is dropped instead; so is one that fails to reset."""

    def __init__(self, template: str) -> None:
        self._template = template
        self._snapshot: _Snapshot | None = None
        self._used: list[str] = []

    def take(self) -> str | None:
        """A used database put back as the template has it, or None (then make a copy)."""
        while self._used:
            name = self._used.pop()
            try:
                if self._reset(name):
                    return name
            except Exception:  # dropped below, and the test gets a fresh copy
                pass
            DROPPER.drop_database(name)
        return None

    def give_back(self, name: str) -> None:
        """`name` is free again: reset when a test next asks (a template used once is never
        reset), dropped with the others when the session ends."""
        self._used.append(name)
        DROPPER.drop_database_at_end(name)

    def _reset(self, name: str) -> bool:
        with _connect(name) as connection:
            _end_other_connections(connection)
            if self._snapshot is None:
                with COPYING, _connect(self._template) as template:
                    self._snapshot = _Snapshot(template)
            snapshot = self._snapshot
            if _value(connection, _SCHEMA_STAMP) != snapshot.schema:
                return False
            with connection.transaction():
                connection.execute("SET LOCAL session_replication_role = replica")
                connection.execute("; ".join(f"DELETE FROM {t}" for t in snapshot.tables))
                for table, rows in snapshot.rows.items():
                    with connection.cursor().copy(f"COPY {table} FROM STDIN") as copy:
                        copy.write(rows)
                if snapshot.sequences:
                    connection.execute(
                        "SELECT "
                        + ", ".join(
                            f"setval('public.{s}', {value}, {called})"
                            for s, value, called in snapshot.sequences
                        )
                    )
        return True


def _connect(database: str) -> Any:
    """A psycopg connection (autocommit) to the test server's database `database`."""
    import psycopg

    url = make_url(_database_url(database)).set(drivername="postgresql")
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


def _value(connection: Any, query: str) -> Any:
    return connection.execute(query).fetchone()[0]


def _end_other_connections(connection: Any) -> None:
    """End every other connection to this database (ones a test's engine left open), and wait
    until they are gone, so none holds a lock or sees the reset half done."""
    connection.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    for _ in range(500):
        left = _value(
            connection,
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        if not left:
            return
        time.sleep(0.01)
    raise RuntimeError("connections to a used test database did not end")


class Templates:
    """Migrated (and optionally seeded) databases made once per session, copied per test."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._tmp = tmp_path_factory
        self._sqlite: dict[str, Path] = {}
        self._databases: dict[str, str] = {}
        self._spares = _Spares()
        self._pools: dict[str, _Reused] = {}

    @contextmanager
    def copy(self, kind: str, name: str = "migrated", seed: Seed | None = None) -> Iterator[str]:
        """A URL of a database of its own holding the template `name`: the migrated schema,
        plus what `seed` writes (once per session; `seed` must be the same for one name)."""
        if kind == "sqlite":
            template = self._sqlite_template(name, seed)
            target = self._tmp.mktemp("db") / "leanstock.db"
            shutil.copyfile(template, target)
            yield f"sqlite:///{target}"
            return
        if not POSTGRES_URL:
            pytest.skip("LEANSTOCK_TEST_POSTGRES_URL is not set")
        source = self._postgres_template(name, seed)
        pool = self._pools.setdefault(name, _Reused(source))
        copy = pool.take()
        if copy is None:
            if name == "migrated":
                copy = self._spares.take(source)
            else:
                copy = _new_copy_name()
                with COPYING:
                    _create_database(copy, source)
        try:
            yield _database_url(copy)
        finally:
            pool.give_back(copy)

    @contextmanager
    def for_test(
        self, request: pytest.FixtureRequest, kind: str, seeds: Mapping[str, tuple[str, Seed]]
    ) -> Iterator[str]:
        """A database for this test: a copy of the seeded template `seeds[fixture]` if the test
        asks for that fixture, else of the migrated one. A module whose fixture builds data
        that takes seconds (a forecast, months of orders) overrides `db_url` with this, so the
        data is built once per session and each test still gets its own copy to change."""
        for fixture, (name, seed) in seeds.items():
            if fixture in request.fixturenames:
                with self.copy(kind, name, seed) as url:
                    yield url
                return
        with self.copy(kind) as url:
            yield url

    def _sqlite_template(self, name: str, seed: Seed | None) -> Path:
        if name not in self._sqlite:
            path = self._tmp.mktemp(f"template-{name}") / "leanstock.db"
            if name != "migrated":
                shutil.copyfile(self._sqlite_template("migrated", None), path)
            engine = make_engine(f"sqlite:///{path}")
            try:
                if name == "migrated":
                    upgrade(engine)
                if seed is not None:
                    seed(engine)
            finally:
                engine.dispose()
            with closing(sqlite3.connect(path)) as connection:  # all of it into the one file
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._sqlite[name] = path
        return self._sqlite[name]

    def _postgres_template(self, name: str, seed: Seed | None) -> str:
        """The name of a database migrated (and seeded) once per session, that copies are made
        from; no connection to it stays open, as `CREATE DATABASE ... TEMPLATE` requires."""
        if name not in self._databases:
            template = f"tmpl_{SESSION}_{name}"[:63]
            base = None if name == "migrated" else self._postgres_template("migrated", None)
            with COPYING:
                _create_database(template, base)
            DROPPER.drop_database_at_end(template)
            engine = make_engine(_database_url(template))
            try:
                if base is None:
                    upgrade(engine)
                if seed is not None:
                    seed(engine)
            finally:
                engine.dispose()
            self._databases[name] = template
        return self._databases[name]


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    return Templates(tmp_path_factory)


DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=DATABASES)
def db_kind(request: pytest.FixtureRequest) -> str:
    """ "sqlite" or "postgres": each database test runs once on each."""
    kind: str = request.param
    return kind


@pytest.fixture
def empty_db_url(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A URL of an empty database (no schema): a SQLite file that does not exist yet, or a
    fresh schema on the PostgreSQL server."""
    with database(db_kind, tmp_path_factory) as url:
        yield url


@pytest.fixture
def db_url(db_kind: str, templates: Templates) -> Iterator[str]:
    """A URL of a database of this test's own, at the newest schema (the one `engine` uses)."""
    with templates.copy(db_kind) as url:
        yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url, pool_size=40)
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


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's chromium driven by Playwright, started once per session and xdist worker
    (starting one takes about a second); each browser test opens a context of its own in it
    (cookies, storage and cache), so no test sees another's (tests/e2e/test_web_browser.py)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox"]
        )
        yield browser
        browser.close()
