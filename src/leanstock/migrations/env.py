"""Alembic environment: runs on the engine the app hands over, or LEANSTOCK_DATABASE_URL."""

from __future__ import annotations

from alembic import context

from leanstock.adapters.db.engine import make_engine
from leanstock.adapters.db.schema import metadata
from leanstock.config import get_settings

config = context.config
engine = config.attributes.get("engine") or make_engine(get_settings().database_url)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
