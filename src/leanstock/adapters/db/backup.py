"""Backups of the whole database to one file, and restores from one.

SQLite: the online backup API (`sqlite3.Connection.backup`, https://sqlite.org/backup.html)
copies a consistent snapshot page by page while the server keeps reading and writing; the copy
is an ordinary SQLite file. PostgreSQL: `pg_dump --format=custom` and `pg_restore`, the
PostgreSQL client tools, which must be installed and as new as the server
(https://www.postgresql.org/docs/current/app-pgdump.html). Either way the file is written
beside its final name and renamed into place, so a failed backup never leaves a half file
under the name a schedule or a person expects.

A restore refuses a target that already holds tables unless told to replace them (`force`):
restoring over a live database by mistake would undo every change since the backup.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from leanstock.adapters.db.engine import normalise_url

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
POSTGRES_CLIENT = (
    "Install the PostgreSQL client tools, as new as the server: "
    "`apt install postgresql-client` (Debian, Ubuntu), `dnf install postgresql` (Fedora, RHEL), "
    "`brew install libpq` (macOS)."
)


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Done:
    path: Path
    size: int
    kind: str  # "sqlite" or "postgresql"


def backup(url: str, path: Path, *, force: bool = False) -> Done:
    """Write a backup of the database at `url` to `path`."""
    parsed = make_url(normalise_url(url))
    if path.exists() and not force:
        raise BackupError(f"{path} exists already; name a new file, or pass --force to replace it.")
    if path.parent and not path.parent.is_dir():
        raise BackupError(f"The folder {path.parent} does not exist; create it first.")
    with _written(path) as partial:
        if parsed.get_backend_name() == "sqlite":
            try:
                _sqlite_backup(_sqlite_file(parsed, must_exist=True), partial)
            except sqlite3.Error as error:
                raise BackupError(f"The backup failed: {error}.") from None
            kind = "sqlite"
        else:
            _pg_dump(parsed, partial)
            kind = "postgresql"
    return Done(path, path.stat().st_size, kind)


def restore(path: Path, url: str, *, force: bool = False) -> Done:
    """Restore the backup at `path` into the database at `url`: an empty one, or with `force`
    one whose tables are replaced by the backup's."""
    parsed = make_url(normalise_url(url))
    if not path.is_file():
        raise BackupError(f"There is no backup file at {path}.")
    with path.open("rb") as file:
        head = file.read(len(SQLITE_MAGIC))
    sqlite = parsed.get_backend_name() == "sqlite"
    if head.startswith(PGDUMP_MAGIC) and sqlite:
        raise BackupError(
            f"{path} is a PostgreSQL backup (pg_dump); restore it into a PostgreSQL database "
            "(--database postgresql://...)."
        )
    if head == SQLITE_MAGIC and not sqlite:
        raise BackupError(
            f"{path} is a SQLite backup; restore it into a SQLite database "
            "(--database sqlite:///path/to/leanstock.db)."
        )
    if head != SQLITE_MAGIC and not head.startswith(PGDUMP_MAGIC):
        raise BackupError(
            f"{path} is not a Leanstock backup: neither a SQLite file nor a pg_dump custom-format "
            "archive (`leanstock backup` writes one of those)."
        )
    if not force and (tables := _tables(parsed)):
        where = parsed.set(drivername=parsed.get_backend_name()).render_as_string()
        raise BackupError(
            f"The database {where} is not empty ({len(tables)} tables, e.g. {tables[0]}); a "
            "restore would replace what is in it. Restore into a new, empty database, or pass "
            "--force to replace its contents with the backup's."
        )
    if sqlite:
        try:
            _sqlite_restore(path, _sqlite_file(parsed, must_exist=False))
        except sqlite3.Error as error:
            raise BackupError(f"The restore failed: {error}. Nothing usable was written.") from None
        kind = "sqlite"
    else:
        _pg_restore(path, parsed, clean=force)
        kind = "postgresql"
    return Done(path, path.stat().st_size, kind)


@contextmanager
def _written(path: Path) -> Iterator[Path]:
    """A scratch name beside `path`, renamed to it when the block succeeds."""
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _sqlite_file(url: URL, *, must_exist: bool) -> Path:
    if url.database in (None, "", ":memory:"):
        raise BackupError("An in-memory SQLite database has nothing to back up or restore into.")
    path = Path(url.database)
    if must_exist and not path.is_file():
        raise BackupError(f"There is no database at {path.resolve()}; check --database.")
    return path


def _sqlite_backup(source: Path, target: Path) -> None:
    """Copy a consistent snapshot, 1,024 pages at a time so writers are not held up, into a
    file that stands on its own (no -wal beside it)."""
    with (
        closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)) as src,
        closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst, pages=1024)
        dst.execute("PRAGMA journal_mode=DELETE")
        if dst.execute("PRAGMA integrity_check").fetchone() != ("ok",):
            raise BackupError(f"The copy of {source} failed its integrity check; try again.")


def _sqlite_restore(backup: Path, target: Path) -> None:
    """Copy the backup's pages over the target through SQLite itself, which locks the target
    while it writes and leaves it consistent whatever journal mode it is in."""
    with closing(sqlite3.connect(f"file:{backup}?mode=ro", uri=True)) as src:
        if src.execute("PRAGMA integrity_check").fetchone() != ("ok",):
            raise BackupError(f"{backup} is damaged (its integrity check fails).")
        with closing(sqlite3.connect(target, timeout=30)) as dst:
            src.backup(dst)


def _tables(url: URL) -> list[str]:
    """The tables in the database (in the schema its connections use), sorted."""
    if url.get_backend_name() == "sqlite":
        path = _sqlite_file(url, must_exist=False)
        if not path.exists() or path.stat().st_size == 0:
            return []
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return sorted(inspect(connection).get_table_names())
    except SQLAlchemyError as error:
        where = url.set(drivername=url.get_backend_name()).render_as_string()
        cause = str(getattr(error, "orig", None) or error).strip().splitlines()
        raise BackupError(
            f"Cannot open the database {where}: {cause[0] if cause else type(error).__name__}. "
            "Check --database (on PostgreSQL, create the database first: createdb NAME)."
        ) from None
    finally:
        engine.dispose()


def pg_tool(name: str) -> str:
    """The newest `pg_dump`/`pg_restore` here: in Debian's and Ubuntu's versioned PostgreSQL
    folders, else on PATH."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_version)
    path = found[-1] if found else shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not installed, and PostgreSQL backups need it. {POSTGRES_CLIENT}"
        )
    return path


def _version(path: str) -> tuple[int, ...]:
    return tuple(int(n) for n in path.split("/")[-3].split(".") if n.isdigit())


def _libpq(url: URL) -> tuple[list[str], dict[str, str]]:
    """Connection options for the client tools, the password in the environment (not on the
    command line, where other users could read it in the process list)."""
    options = [
        f"--host={url.host or 'localhost'}",
        f"--port={url.port or 5432}",
        f"--dbname={url.database or 'postgres'}",
    ]
    if url.username:
        options.append(f"--username={url.username}")
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return options, env


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        name = Path(command[0]).name
        message = done.stderr.strip() or f"exit code {done.returncode}"
        hint = ""
        if "server version mismatch" in message:
            hint = f" {POSTGRES_CLIENT}"
        raise BackupError(f"{name} failed: {message}{hint}")


def _pg_dump(url: URL, target: Path) -> None:
    options, env = _libpq(url)
    _run([pg_tool("pg_dump"), "--format=custom", f"--file={target}", *options], env)


def _pg_restore(backup: Path, url: URL, *, clean: bool) -> None:
    """All or nothing (one transaction), objects owned by the user restoring them, so a backup
    restores under another role name too."""
    options, env = _libpq(url)
    command = [pg_tool("pg_restore"), "--no-owner", "--no-acl", "--single-transaction"]
    command += ["--exit-on-error", *options]
    if clean:
        command += ["--clean", "--if-exists"]
    _run([*command, str(backup)], env)
