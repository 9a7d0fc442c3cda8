"""The migrations are the schema: they go up to the head, down to nothing and up again on both
databases, and what they build is what the models (`adapters/db/schema.py`) describe.

The suite's other tests run on copies of one migrated template (tests/conftest.py); this file
is where the migrations themselves are run from an empty database.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, select

from leanstock.adapters.db import tables as t
from leanstock.adapters.db.engine import alembic_config, head_revision, make_engine, schema_revision
from leanstock.adapters.db.schema import metadata


@pytest.fixture
def empty(empty_db_url: str) -> Iterator[Engine]:
    engine = make_engine(empty_db_url)
    yield engine
    engine.dispose()


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def differences(engine: Engine) -> list[object]:
    """What `alembic revision --autogenerate` would write: empty when models and schema agree."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "compare_server_default": False},
        )
        return list(compare_metadata(context, metadata))


def test_up_to_head_down_to_base_and_up_again(empty: Engine) -> None:
    config = alembic_config(empty)
    command.upgrade(config, "head")
    assert schema_revision(empty) == head_revision()
    assert tables(empty) == set(metadata.tables)
    with empty.connect() as connection:  # the seeded virtual locations are there once
        kinds = connection.execute(select(t.locations.c.kind)).scalars().all()
    assert sorted(kinds) == sorted(
        ["supplier", "customer", "production", "scrap", "adjustment", "in_transit"]
    )

    command.downgrade(config, "base")
    assert schema_revision(empty) is None
    assert tables(empty) == set()

    command.upgrade(config, "head")
    assert schema_revision(empty) == head_revision()
    assert tables(empty) == set(metadata.tables)
    assert differences(empty) == [], "the models and the migrations differ: write a migration"


@pytest.mark.slow
def test_each_migration_steps_down_and_up_again(empty: Engine) -> None:
    config = alembic_config(empty)
    head = int(head_revision())
    command.upgrade(config, "head")
    for revision in range(head - 1, 0, -1):
        command.downgrade(config, f"{revision:04d}")
        assert schema_revision(empty) == f"{revision:04d}"
        command.upgrade(config, f"{revision + 1:04d}")
        assert schema_revision(empty) == f"{revision + 1:04d}"
        command.downgrade(config, f"{revision:04d}")
    command.upgrade(config, "head")
    assert differences(empty) == []
