"""Only `leanstock init` changes the schema; other commands check it is this version's."""

from __future__ import annotations

import re
from importlib.resources import files

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from typer.testing import CliRunner

from leanstock.adapters.db.engine import alembic_config, head_revision, schema_revision
from leanstock.entrypoints.cli import app

runner = CliRunner()


def test_migrations_are_numbered_files_in_one_line_so_the_head_is_the_highest_number(
    engine: Engine,
) -> None:
    scripts = ScriptDirectory.from_config(alembic_config(engine))
    numbers = []
    for script in scripts.walk_revisions():
        name = script.path.rsplit("/", 1)[-1]
        assert re.fullmatch(r"\d{4}_\w+\.py", name), f"{name}: name migrations NNNN_what.py"
        assert script.revision == name[:4], f"{name}: its revision must be {name[:4]!r}"
        numbers.append(int(script.revision))
    assert sorted(numbers) == list(range(1, len(numbers) + 1)), "numbered 0001, 0002, ..."
    assert scripts.get_heads() == [head_revision()]
    assert (files("leanstock") / "migrations" / "versions").is_dir()


def test_a_command_on_an_older_schema_says_to_back_up_and_init_and_changes_nothing(
    engine: Engine, db_url: str
) -> None:
    head = head_revision()
    before = f"{int(head) - 1:04d}"
    command.downgrade(alembic_config(engine), before)

    refused = runner.invoke(app, ["--database", db_url, "items"])
    assert refused.exit_code == 2
    assert f"is at schema {before}" in refused.output
    assert "run `leanstock init` to upgrade it" in " ".join(refused.output.split())
    assert schema_revision(engine) == before

    assert runner.invoke(app, ["--database", db_url, "init"]).exit_code == 0
    assert schema_revision(engine) == head
    assert runner.invoke(app, ["--database", db_url, "items"]).exit_code == 0


def test_a_command_on_a_database_without_the_schema_says_to_init(empty_db_url: str) -> None:
    refused = runner.invoke(app, ["--database", empty_db_url, "stock"])
    if empty_db_url.startswith("sqlite"):  # the file does not exist yet
        assert "no database at" in refused.output
    else:
        assert "has no Leanstock schema; run `leanstock init`" in refused.output
    assert refused.exit_code == 2
