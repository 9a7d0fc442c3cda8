"""The one MetaData every table is defined on, and the column types the tables share.

A module of its own so that the table modules (`tables`, `order_tables`, `planning_tables`)
depend on it and never on each other; `schema` gathers them all for Alembic.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, DateTime, Integer, MetaData

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Id = BigInteger().with_variant(Integer(), "sqlite")
Timestamp = DateTime(timezone=True)
