"""The expiry sweep: every lot past its expiry date still on a shelf is written off to scrap
with reason `expiry`, one operation per run, so spoilage shows in the KPIs and the shelves
match the ledger. Expired stock is already left out of availability (`domain.ledger.available`);
the sweep makes the write-off explicit. Run it daily (`leanstock expire`, `POST /stock/expiry`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from leanstock.domain import catalog
from leanstock.domain.errors import InvalidInput
from leanstock.domain.ledger import MoveKind, Place, Posting, ScrapReason
from leanstock.domain.serials import SerialMove
from leanstock.services.ports import UnitOfWork
from leanstock.services.posting import (
    MoveLine,
    Operation,
    audit_operation,
    checked_time,
    current_day,
    post_lines,
)
from leanstock.services.retry import retrying
from leanstock.services.serials import all_at


@dataclass(frozen=True)
class ExpirySweep:
    """What a sweep wrote off: the operation (None when nothing had expired) and its lines."""

    day: date
    operation: Operation

    @property
    def lines(self) -> list[MoveLine]:
        return self.operation.moves

    @property
    def quantity(self) -> Decimal:
        return sum((m.quantity for m in self.lines), Decimal(0))


@retrying
def expire(
    uow: UnitOfWork,
    *,
    today: date | None = None,
    actor: str = "system",
    occurred_at: datetime | None = None,
    locations: frozenset[str] | None = None,
) -> ExpirySweep:
    """Scrap every lot that expired before `today` (a lot is usable through its expiry date),
    at every physical location or only at `locations` (a warehouse user's own)."""
    day = current_day(today)
    if day > current_day(None):
        raise InvalidInput(
            f"today {day.isoformat()} is in the future: the sweep writes off what has expired "
            "by now; leave it out or name today or an earlier day.",
            "today",
        )
    when = checked_time(occurred_at)
    with uow.acting(actor):
        found = uow.ledger.expired_stock(day)
        scrap = uow.virtual_place(catalog.SCRAP)
        places: dict[int, Place] = {}
        postings: list[tuple[str, Posting]] = []
        serials: list[SerialMove] = []
        if found:
            rows = []
            for item_id, location_id, _, _ in found:
                if location_id not in places:
                    _, code = uow.ledger.names(item_id, location_id)
                    location = uow.catalog.location(code).value
                    places[location_id] = Place(location_id, code, location.may_go_negative)
                if locations is None or places[location_id].code in locations:
                    rows.append((item_id, places[location_id]))
            locked = sorted(set(rows), key=lambda r: (r[0], r[1].id))
            uow.ledger.lock_stocks(locked)
            keys = {(item_id, place.id) for item_id, place in locked}
            for item_id, location_id, lot, quantity in uow.ledger.expired_stock(day):
                if (item_id, location_id) not in keys:
                    continue  # expired since the first read; the next sweep takes it
                sku, _ = uow.ledger.names(item_id, location_id)
                place = places[location_id]
                postings.append((sku, Posting(item_id, place, scrap, quantity, lot)))
                # a serial-tracked lot goes with all its serials there
                serials += all_at(uow, item_id, place, scrap, lot)
        operation = post_lines(
            uow,
            MoveKind.SCRAP,
            postings,
            when,
            f"expiry sweep {day.isoformat()}",
            reason=ScrapReason.EXPIRY.value,
            serials=serials,
        )
        audit_operation(
            uow,
            "expire",
            operation,
            f"expiry:{day.isoformat()}",
            reason=ScrapReason.EXPIRY.value,
            operation_id=operation.id,
        )
        uow.commit()
    return ExpirySweep(day, operation)
