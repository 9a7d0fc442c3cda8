"""The `leanstock` Typer application that every command module registers on.

`leanstock --help` must answer at once, so nothing here or at the top of a command module
imports a heavy library (SQLAlchemy, pydantic, polars, numpy, statsforecast, FastAPI,
uvicorn): a command imports what it needs inside its own body.
`tests/e2e/test_cli_startup.py` checks it; `leanstock bench cli` times it.
"""

from __future__ import annotations

import getpass
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from leanstock import __version__
from leanstock.domain.access import Actor, RequestContext, acting
from leanstock.domain.errors import DomainError

if TYPE_CHECKING:
    from sqlalchemy import Engine

app = typer.Typer(
    name="leanstock",
    help="Leanstock: just-in-time inventory management.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
console = Console()
err_console = Console(stderr=True)


def _show_version(value: bool) -> None:
    if value:
        print(f"leanstock {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            "-d",
            help="Database URL (default: LEANSTOCK_DATABASE_URL, else ./leanstock.db).",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Leanstock: just-in-time inventory management."""
    # Whatever this command changes is audited as done from the command line by this login.
    context = RequestContext(uuid.uuid4().hex, Actor.system(f"cli:{_login()}"))
    ctx.with_resource(acting(context))
    if database is not None:
        from leanstock.config import get_settings

        os.environ["LEANSTOCK_DATABASE_URL"] = database
        get_settings.cache_clear()


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def database_url() -> str:
    from leanstock.config import get_settings

    return get_settings().database_url


def missing_sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names when that file does not exist (None for anything else)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database)
    return None if path.exists() else path.resolve()


def open_engine(create: bool = False) -> Engine:
    """An engine on the configured database, whose schema is this version's.

    Only `init` and `demo` pass `create`: they create the database or upgrade its schema.
    Any other command stops with exit code 2 on a SQLite file that does not exist (instead of
    quietly working on a new, empty database) and on a schema of another version (upgrading is
    `leanstock init`'s job, after a backup).
    """
    from leanstock.adapters.db.engine import head_revision, make_engine, schema_revision, upgrade

    url = database_url()
    missing = missing_sqlite_file(url)
    if missing is not None and not create:
        _stop(
            f"no database at {missing}; run `leanstock init` or pass `--database`.\n"
            "The database is --database URL, else LEANSTOCK_DATABASE_URL, else ./leanstock.db."
        )
    engine = make_engine(url)
    if create:
        upgrade(engine)
        return engine
    current, head = schema_revision(engine), head_revision()
    if current != head:
        engine.dispose()
        where = engine.url.render_as_string(hide_password=True)
        if current is None:
            _stop(f"The database {where} has no Leanstock schema; run `leanstock init`.")
        if current > head:
            _stop(
                f"The database {where} is at schema {current}, newer than this leanstock "
                f"{__version__} knows ({head}): upgrade leanstock."
            )
        _stop(
            f"The database {where} is at schema {current}; leanstock {__version__} needs "
            f"{head}. Back it up, then run `leanstock init` to upgrade it."
        )
    return engine


def _stop(message: str) -> NoReturn:
    err_console.print(f"[red]{escape(message)}[/]", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def iso_date(value: str) -> date:
    """A calendar date as written on the command line: YYYY-MM-DD (ISO 8601)."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date: write it as YYYY-MM-DD (ISO 8601), e.g. 2025-03-31."
        ) from None


def iso_datetime(value: str) -> datetime:
    """A moment as written on the command line: YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]."""
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date or time: write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM "
            "(ISO 8601), e.g. 2025-03-31 or 2025-03-31T14:30."
        ) from None


@contextmanager
def handled() -> Iterator[None]:
    """Business errors become one red line and exit code 2, never a traceback."""
    try:
        yield
    except DomainError as error:
        where = f" ({error.field})" if error.field else ""
        err_console.print(f"[red]{error.title}{where}:[/] {escape(error.detail)}")
        raise typer.Exit(2) from None
