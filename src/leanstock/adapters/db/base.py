"""What every repository shares: its connection, inserts that return ids, and pages of rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Select, func, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from leanstock.adapters.db import tables as t
from leanstock.domain.access import EVERYTHING, Visibility
from leanstock.domain.events import Aggregate

_INSERTS: dict[tuple[str, bool], Any] = {}


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_json(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True)


def _returning(table: Any, many: bool = False) -> Any:
    """`INSERT ... RETURNING id` for `table`, built on first use: building a statement costs
    about as much CPU as running it, and the busiest paths insert on every request."""
    key = (table.name, many)
    if key not in _INSERTS:
        _INSERTS[key] = table.insert().returning(table.c.id, sort_by_parameter_order=many)
    return _INSERTS[key]


def visible_locations(visibility: Visibility) -> Select[Any] | None:
    """A subquery of the ids of the locations `visibility` grants, for `column.in_(...)`;
    None when it grants every location. Every list and page of rows kept at a location
    narrows by it, so a warehouse user limited to some never reads another's rows."""
    if visibility.locations is None:
        return None
    return select(t.locations.c.id).where(t.locations.c.code.in_(sorted(visibility.locations)))


class Repository:
    """One aggregate's rows, read and written on the unit of work's connection."""

    def __init__(
        self,
        connection: Connection,
        seen: list[Aggregate] | None = None,
        visibility: Visibility = EVERYTHING,
    ) -> None:
        self.db = connection
        self.dialect = connection.dialect.name
        self._seen = seen
        self.visibility = visibility

    def _visible_locations(self) -> Select[Any] | None:
        """The ids of the locations the principal may read rows of (None: all of them)."""
        return visible_locations(self.visibility)

    def _track(self, aggregate: Aggregate) -> None:
        """Hand an aggregate read or added to the unit of work, which writes the events it
        records when it commits."""
        if self._seen is not None:
            self._seen.append(aggregate)

    def _insert(self, table: Any) -> Any:
        """An INSERT with the dialect's ON CONFLICT clauses."""
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)

    def _add(self, table: Any, **values: Any) -> int:
        return int(self.db.execute(_returning(table), values).scalar_one())

    def _add_many(self, table: Any, rows: list[dict[str, Any]]) -> list[int]:
        if not rows:
            return []
        return [int(i) for i in self.db.execute(_returning(table, many=True), rows).scalars()]

    def _add_lines(self, table: Any, rows: list[dict[str, Any]]) -> list[int]:
        """`_add_many` for an order's lines (unique by `order_id` and `line_no`).

        On SQLite, ids returned in the rows' order cost one INSERT a row (the driver does not
        promise RETURNING's order), so there the rows go in one executemany and their ids are
        read back by key in one SELECT: two statements whatever the number of lines.
        """
        if self.dialect != "sqlite" or not rows:
            return self._add_many(table, rows)
        self.db.execute(table.insert().inline(), rows)
        keys = [(row["order_id"], row["line_no"]) for row in rows]
        found = {
            (r.order_id, r.line_no): int(r.id)
            for r in self.db.execute(
                select(table.c.order_id, table.c.line_no, table.c.id).where(
                    tuple_(table.c.order_id, table.c.line_no).in_(keys)
                )
            )
        }
        return [found[key] for key in keys]

    def _page(
        self, query: Select[Any], order: Any, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        total = self.db.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = self.db.execute(query.order_by(order).limit(limit).offset(offset)).mappings()
        return [dict(r) for r in rows], int(total)
