"""Writes sent together (`adapters.db.pipeline`, psycopg's pipeline mode on PostgreSQL) fail
as they would one by one: a balance the database refuses is a conflict that changes nothing,
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain import catalog as places
from leanstock.domain.catalog import Item, Location
from leanstock.domain.errors import Conflict
from leanstock.domain.ledger import Posting
from leanstock.services import catalog, queries, stock
from leanstock.services.posting import physical_place


def test_a_balance_the_database_refuses_inside_a_pipeline_is_a_conflict(uow: UnitOfWork) -> None:
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_item(uow, Item("A", "A"))
    stock.receive(uow, "A", "WH", Decimal(1))

    def post_past_the_checks() -> None:
        """Straight to the ledger, past the service's checks: WH would hold -4."""
        with uow:
            item = uow.catalog.item("A")
            shipment = Posting(
                item.id,
                physical_place(uow, "WH", "location"),
                uow.virtual_place(places.CUSTOMER),
                Decimal(5),
            )
            uow.ledger.post("shipment", [shipment], datetime.now(UTC))
            uow.commit()

    with pytest.raises(Conflict, match="nothing was changed"):
        post_past_the_checks()

    assert queries.stock(uow, "A", "WH", 10, 0).items[0]["on_hand"] == 1
    stock.ship(uow, "A", "WH", Decimal(1))  # the connection and the ledger work on
    assert queries.stock(uow, "A", "WH", 10, 0).items[0]["on_hand"] == 0
