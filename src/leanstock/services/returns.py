"""Customer returns: goods sent back against a shipped sales line, received to stock (usable
again, filling backorders first), to quarantine (to be checked) or straight to scrap.

The line records what came back, and the demand history nets it out (`demand_history`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from leanstock.domain import catalog
from leanstock.domain.errors import InvalidInput
from leanstock.domain.ledger import MoveKind, Posting, ScrapReason
from leanstock.domain.quantities import positive
from leanstock.services.backorders import fill_backorders
from leanstock.services.orders import SalesOrderView, get_order, sales_id
from leanstock.services.ports import UnitOfWork
from leanstock.services.posting import checked_time, current_day, known_item, post
from leanstock.services.retry import retrying
from leanstock.services.serials import departures
from leanstock.services.stock.quarantine import QUARANTINE


class ReturnTo(StrEnum):
    STOCK = "stock"
    QUARANTINE = "quarantine"
    SCRAP = "scrap"


@retrying
def return_goods(
    uow: UnitOfWork,
    number: str,
    line_no: int,
    quantity: Decimal,
    to: ReturnTo,
    *,
    lot: str | None = None,
    reason: ScrapReason | None = None,
    note: str | None = None,
    actor: str = "system",
    occurred_at: datetime | None = None,
    today: date | None = None,
    serials: Sequence[str] = (),
) -> SalesOrderView:
    """Receive goods a customer sent back against line `line_no` of order `number`:
    customer → the line's location, the quarantine, or scrap (with a reason). A serial-tracked
    item names the serials that came back; each must be one a customer received."""
    quantity = positive(quantity)
    when = checked_time(occurred_at)
    day = current_day(today)
    if to is ReturnTo.SCRAP and reason is None:
        raise InvalidInput("Say why returned goods are scrapped (reason).", "reason")
    with uow.acting(actor):
        order, refs = uow.sales.get(sales_id(number), lock=True)
        line = order.line(line_no)
        item = known_item(uow, line.sku, None, lot)
        if item.value.lot_tracked and lot is None and not serials:
            raise InvalidInput(f"{line.sku} is lot-tracked: name the lot that came back.", "lot")
        order.record_return(line_no, quantity, to.value)
        ref = refs[line_no]
        if to is ReturnTo.STOCK:
            target = ref.place
        elif to is ReturnTo.QUARANTINE:
            target = uow.catalog.ensure_location(
                QUARANTINE, "Quarantine (rejected at receipt)", "quarantine"
            )
        else:
            target = uow.virtual_place(catalog.SCRAP)
        if lot is not None and uow.ledger.lot(item.id, lot) is None:
            raise InvalidInput(f"No lot {lot} of {line.sku} was ever received.", "lot")
        if to is not ReturnTo.SCRAP:
            uow.ledger.lock_stock(item.id, target)
        customer = uow.virtual_place(catalog.CUSTOMER)
        moved, lots = departures(uow, item, quantity, serials, customer, target, lot)
        cost = item.value.unit_cost  # back at the item's unit cost (docs/costing.md)
        post(
            uow,
            MoveKind.CUSTOMER_RETURN,
            item,
            [
                Posting(item.id, customer, target, q, came, unit_cost=cost)
                for came, q in (lots.items() if moved else [(lot, quantity)])
            ],
            when,
            f"{order.number}/{line_no}",
            order.customer,
            reason.value if reason is not None else "returned",
            note,
            serials=moved,
        )
        uow.sales.save(order)
        if to is ReturnTo.STOCK:
            fill_backorders(uow, item.id, target, day, f"return {order.number}/{line_no}")
        uow.commit()
    return get_order(uow, number, today=day)
