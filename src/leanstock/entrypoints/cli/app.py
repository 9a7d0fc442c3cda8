"""The `leanstock` Typer application that every command module registers on."""

from __future__ import annotations

import getpass
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import Engine

from leanstock.adapters.db.engine import make_engine, upgrade
from leanstock.config import get_settings
from leanstock.domain.access import Actor, RequestContext, acting
from leanstock.domain.errors import DomainError

app = typer.Typer(
    name="leanstock",
    help="Leanstock: just-in-time inventory management.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
console = Console()
err_console = Console(stderr=True)


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
) -> None:
    """Leanstock: just-in-time inventory management."""
    # Whatever this command changes is audited as done from the command line by this login.
    context = RequestContext(uuid.uuid4().hex, Actor.system(f"cli:{_login()}"))
    ctx.with_resource(acting(context))
    if database is not None:
        os.environ["LEANSTOCK_DATABASE_URL"] = database
        get_settings.cache_clear()


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def database_url() -> str:
    return get_settings().database_url


def open_engine(migrate: bool = True) -> Engine:
    """An engine on the configured database, its schema brought up to date."""
    engine = make_engine(database_url())
    if migrate:
        upgrade(engine)
    return engine


@contextmanager
def handled() -> Iterator[None]:
    """Business errors become one red line and exit code 2, never a traceback."""
    try:
        yield
    except DomainError as error:
        where = f" ({error.field})" if error.field else ""
        err_console.print(f"[red]{error.title}{where}:[/] {error.detail}")
        raise typer.Exit(2) from None
