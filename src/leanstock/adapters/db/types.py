"""Column types that keep quantities and money exact on every database."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from leanstock.domain.quantities import PLACES

_SCALE = Decimal(10) ** PLACES


def tidy(value: Decimal) -> Decimal:
    """Drop trailing zeros without switching to exponent notation (10, not 1E+1)."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


class Exact(TypeDecorator[Decimal]):
    """A Decimal with six places: NUMERIC(24, 6) on PostgreSQL, scaled BIGINT on SQLite.

    SQLite has no exact decimal type (NUMERIC affinity falls back to 8-byte floats), so there
    the value is stored as an integer count of millionths; SUM() and `+` stay exact.
    """

    impl = Numeric(24, PLACES)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(24, PLACES, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return int(Decimal(value) * _SCALE)
        return Decimal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return tidy(Decimal(int(value)) / _SCALE)
        return tidy(Decimal(value))

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal
