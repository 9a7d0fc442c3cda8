"""`leanstock backup FILE` and `leanstock restore FILE`: the whole database to one file and back
(adapters/db/backup.py says how, docs/deploy.md when)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from leanstock.entrypoints.cli.app import app, console, database_url, err_console


def _fail(error: Exception) -> typer.Exit:
    err_console.print(f"[red]{escape(str(error))}[/]", highlight=False, soft_wrap=True)
    return typer.Exit(2)


@app.command()
def backup(
    file: Annotated[Path, typer.Argument(help="The backup file to write.", dir_okay=False)],
    force: Annotated[bool, typer.Option(help="Replace FILE if it exists.")] = False,
) -> None:
    """Back the database up to FILE while the server runs: a copy of the SQLite file (through
    SQLite's online backup API), or a pg_dump custom-format archive of the PostgreSQL database
    (needs pg_dump installed). Works on any schema version, so back up before `leanstock init`
    upgrades."""
    from leanstock.adapters.db import backup as backups

    try:
        done = backups.backup(database_url(), file, force=force)
    except backups.BackupError as error:
        raise _fail(error) from None
    console.print(
        f"Backed up the {done.kind} database to {escape(str(done.path))} ({done.size:,} bytes).",
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def restore(
    file: Annotated[Path, typer.Argument(help="A file written by `leanstock backup`.")],
    force: Annotated[
        bool,
        typer.Option(
            help="Replace the contents of a database that is not empty (stop the server first)."
        ),
    ] = False,
) -> None:
    """Restore a backup into the database (--database or LEANSTOCK_DATABASE_URL). The database
    must be empty, or new, unless --force is given. Then run `leanstock init` if the backup
    is from an older version."""
    from leanstock.adapters.db import backup as backups
    from leanstock.adapters.db.engine import head_revision, make_engine, schema_revision

    url = database_url()
    try:
        done = backups.restore(file, url, force=force)
    except backups.BackupError as error:
        raise _fail(error) from None
    engine = make_engine(url)
    try:
        revision = schema_revision(engine)
    finally:
        engine.dispose()
    console.print(
        f"Restored {escape(str(done.path))} into the {done.kind} database (schema {revision}).",
        highlight=False,
        soft_wrap=True,
    )
    if revision is not None and revision < head_revision():
        console.print(
            f"The backup's schema is older than this leanstock's ({head_revision()}): "
            "run `leanstock init` to upgrade it."
        )
