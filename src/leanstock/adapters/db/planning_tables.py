"""Tables of the planning side: forecast runs, their accuracy, the event calendar, plan runs.

Forecasts and accuracy figures are outputs of the planning maths and stay floats; quantities
a manager orders (plan lines) are exact.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from leanstock.adapters.db.metadata import Id, Timestamp, metadata
from leanstock.adapters.db.types import Exact

events = Table(
    "events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("skus", JSON, nullable=True),
    Column("categories", JSON, nullable=True),
    Column("uplift", Float, nullable=True),
    Column("created_at", Timestamp, nullable=False),
)

forecast_runs = Table(
    "forecast_runs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("created_at", Timestamp, nullable=False),
    Column("freq", String(1), nullable=False),
    Column("horizon", Integer, nullable=False),
    Column("engine", String(16), nullable=False),
    Column("thorough", Boolean, nullable=False),
    Column("quantiles", JSON, nullable=False),
    Column("series", Integer, nullable=False),
    Column("history_from", Date, nullable=True),
    Column("history_to", Date, nullable=True),
    Column("wall_seconds", Float, nullable=False),
    Column("accuracy", JSON, nullable=False),
)

forecast_values = Table(
    "forecast_values",
    metadata,
    Column("run_id", Id, ForeignKey("forecast_runs.id"), primary_key=True),
    Column("item_id", Id, ForeignKey("items.id"), primary_key=True),
    Column("location_id", Id, ForeignKey("locations.id"), primary_key=True),
    Column("ds", Date, primary_key=True),
    Column("forecast", Float, nullable=False),
    Column("quantiles", JSON, nullable=False),
)

forecast_totals = Table(
    "forecast_totals",
    metadata,
    Column("run_id", Id, ForeignKey("forecast_runs.id"), primary_key=True),
    Column("level", String(16), primary_key=True),  # item or category
    Column("key", String(200), primary_key=True),  # the item's SKU or the category
    Column("ds", Date, primary_key=True),
    Column("forecast", Float, nullable=False),
    Column("quantiles", JSON, nullable=False),
)

forecast_accuracy = Table(
    "forecast_accuracy",
    metadata,
    Column("run_id", Id, ForeignKey("forecast_runs.id"), primary_key=True),
    Column("item_id", Id, ForeignKey("items.id"), primary_key=True),
    Column("location_id", Id, ForeignKey("locations.id"), primary_key=True),
    Column("model", String(64), primary_key=True),
    Column("chosen", Boolean, nullable=False),
    Column("demand_class", String(32), nullable=True),
    Column("metrics", JSON, nullable=False),
    Index(None, "item_id", "location_id"),
)

plan_runs = Table(
    "plan_runs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("created_at", Timestamp, nullable=False),
    Column("status", String(32), nullable=False),
    Column("forecast_run_id", Id, ForeignKey("forecast_runs.id"), nullable=True),
    Column("parameters", JSON, nullable=False),
    Column("summary", JSON, nullable=False),
    Column("approved_at", Timestamp, nullable=True),
    Column("released_at", Timestamp, nullable=True),
)

plan_lines = Table(
    "plan_lines",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("run_id", Id, ForeignKey("plan_runs.id"), nullable=False, index=True),
    Column("item_id", Id, ForeignKey("items.id"), nullable=False),
    Column("location_id", Id, ForeignKey("locations.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("supplier_id", Id, ForeignKey("suppliers.id"), nullable=True),
    Column("source_location_id", Id, ForeignKey("locations.id"), nullable=True),
    Column("suggested_quantity", Exact(), nullable=False),
    Column("quantity", Exact(), nullable=False),
    Column("unit_cost", Exact(), nullable=False),
    Column("order_by", Date, nullable=False),
    Column("need_by", Date, nullable=False),
    Column("status", String(16), nullable=False),
    Column("explanation", Text, nullable=False),
    Column("figures", JSON, nullable=False),
    Column("released_order", String(64), nullable=True),
)
