"""Days between a date and a moment in SQL, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class LeadDays(FunctionElement[float]):
    """Days from an order's release (its UTC date) to a receipt's date, in either database."""

    type = Float()
    inherit_cache = True
    name = "lead_days"


@compiles(LeadDays)
def lead_days_sqlite(element: LeadDays, compiler: Any, **kw: Any) -> str:
    received, ordered = (compiler.process(c, **kw) for c in element.clauses)
    return f"(julianday({received}) - julianday(date({ordered})))"


@compiles(LeadDays, "postgresql")
def lead_days_postgresql(element: LeadDays, compiler: Any, **kw: Any) -> str:
    received, ordered = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST({received} - CAST(({ordered} AT TIME ZONE 'UTC') AS DATE) AS FLOAT)"
