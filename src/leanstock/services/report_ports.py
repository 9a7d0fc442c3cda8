"""The port of the ledger's reads for people and reports (stock levels, lots, past on hand,
move history, the items list's figures): `adapters/db/stock_reports.py` implements it,
`tests/fakes` in memory. `services.ports` re-exports it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Protocol

from leanstock.services.records import ItemFigures


class StockReportsRepo(Protocol):
    """Reads of the ledger for people and reports."""

    def stock_levels(
        self,
        today: date,
        sku: str | None = None,
        location: str | None = None,
        physical_only: bool = True,
        limit: int = 100,
        offset: int = 0,
        short_only: bool = False,
    ) -> tuple[list[dict[str, Any]], int]: ...
    def lot_levels(self, item_id: int, location_id: int | None = None) -> list[dict[str, Any]]: ...
    def expiring_lots(
        self, today: date, until: date, location: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]: ...
    def lot_moves(self, item_id: int, lot: str) -> list[dict[str, Any]]: ...
    def batch_moves(self, reference: str) -> list[dict[str, Any]]: ...
    def on_hand_as_of(
        self, at: datetime, item_id: int | None = None, location_id: int | None = None
    ) -> list[dict[str, Any]]: ...
    def moves(
        self,
        item_id: int,
        location_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
        newest: bool = False,
    ) -> tuple[list[dict[str, Any]], int]: ...
    def item_figures(
        self, item_skus: Sequence[str], demand_since: datetime
    ) -> dict[str, ItemFigures]:
        """The stock and recent demand of these items (one page of a list), in a fixed number
        of queries whatever the page's size; every SKU asked for has an entry."""
        ...

    def usage_values(self, since: datetime) -> dict[str, float]:
        """Per active item (all of them, over every location, as `GET /classification`),
        its usage value: demand since `since` × unit cost. The input of the ABC classes."""
        ...
