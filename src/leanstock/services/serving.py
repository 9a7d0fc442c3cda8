"""Serve a whole sales order at once: reserve from stock, then pull the rest, in a fixed number
of round trips whatever the number of lines (issue #18, docs/performance.md).

The rules are the single line's (`services.pull`): what a locked stock row can promise is
`pull.reservable` (the availability rule, `domain.ledger.available`), whom to buy from is
`pull.preferred_suppliers` (the sourcing rule, `domain.sourcing.choose_supplier`), and how a
draft line grows is `domain.orders.order_quantity`. Only the statements change: every stock row
of the order is locked in one statement in (item, location) order, the lots are read in one, the
reservations written in one, the suppliers' drafts locked in one in supplier order (so two
orders take rows and drafts in the same order and cannot wait on each other in a circle), and
the draft lines and pegs written in one each. Lines on the same stock row or the same draft line
see the ones before them, as one-by-one serving would.

Policies that open an order per line (drop-ship, make-to-order, transfer) still pull line by
line through `pull.pull`, after every reservation is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from leanstock.domain.catalog import Item, Policy
from leanstock.domain.ledger import Place, StockLevel
from leanstock.domain.orders import (
    Fulfilment,
    PegStatus,
    PurchaseLine,
    SupplyKind,
    number,
    order_quantity,
)
from leanstock.services.ports import UnitOfWork
from leanstock.services.pull import (
    Demand,
    PegView,
    PreferredSupplier,
    Pulled,
    preferred_suppliers,
    pull,
    reservable,
)

ZERO = Decimal(0)


@dataclass(frozen=True)
class Wanted:
    """`quantity` of `item` that `demand` wants served now."""

    demand: Demand
    item: Item
    quantity: Decimal


def serve_all(
    uow: UnitOfWork, wanted: Sequence[Wanted], today: date
) -> list[tuple[Decimal, Pulled]]:
    """Per entry of `wanted`, in its order: how much was reserved, and what was pulled for the
    rest. The same answers as `pull.reserve_from_stock` then `pull.pull` line by line in
    (item, location) order."""
    ordered = sorted(
        range(len(wanted)), key=lambda i: (wanted[i].demand.item_id, wanted[i].demand.place.id)
    )
    stocked = [i for i in ordered if wanted[i].item.policy is not Policy.DROP_SHIP]
    reserved = dict(
        zip(stocked, _reserve_all(uow, [wanted[i] for i in stocked], today), strict=True)
    )
    short = {i: wanted[i].quantity - reserved.get(i, ZERO) for i in ordered}
    bought = [i for i in ordered if short[i] > 0 and wanted[i].item.policy is Policy.BUY_TO_ORDER]
    pulled = dict(
        zip(
            bought,
            _buy_all(uow, [(wanted[i].demand, short[i]) for i in bought], today),
            strict=True,
        )
    )
    for i in ordered:
        if i not in pulled:
            w = wanted[i]
            pulled[i] = (
                pull(uow, w.demand, w.item, short[i], today)
                if short[i] > 0
                else Pulled(Fulfilment.STOCK)
            )
    return [(reserved.get(i, ZERO), pulled[i]) for i in range(len(wanted))]


def _reserve_all(uow: UnitOfWork, wanted: Sequence[Wanted], today: date) -> list[Decimal]:
    """Reserve what each entry can get, in the order given; how much each got."""
    if not wanted:
        return []
    levels = uow.ledger.lock_stocks([(w.demand.item_id, w.demand.place) for w in wanted])
    lot_keys = sorted({(w.demand.item_id, w.demand.place.id) for w in wanted if w.item.lot_tracked})
    lots = uow.ledger.lots_of(lot_keys) if lot_keys else {}
    given: dict[tuple[int, int], Decimal] = {}
    takes: list[Decimal] = []
    promises: list[tuple[int, int, str, Decimal]] = []
    for w in wanted:
        key = (w.demand.item_id, w.demand.place.id)
        row = levels[key]
        level = StockLevel(row.on_hand, row.reserved + given.get(key, ZERO))
        take = reservable(level, lots[key] if w.item.lot_tracked else None, w.quantity, today)
        if take > 0:
            given[key] = given.get(key, ZERO) + take
            promises.append((key[0], key[1], w.demand.reference, take))
        takes.append(take)
    uow.ledger.reserve_many(promises)
    return takes


@dataclass
class _DraftLine:
    """A draft line as the pulls before this one left it (id None: not yet inserted)."""

    order_id: int
    line_no: int
    ordered: Decimal
    pegged: Decimal
    line_id: int | None = None
    new: tuple[PurchaseLine, Place] | None = None
    expected: date | None = None


def _buy_all(
    uow: UnitOfWork, entries: Sequence[tuple[Demand, Decimal]], today: date
) -> list[Pulled]:
    """Pull each (demand, quantity) onto its preferred supplier's open draft, as `pull._buy`
    does for one: the draft's line for the item and location grows to cover every open peg,
    rounded to the supplier's MOQ and pack (`order_quantity`), or a line is added."""
    chosen = preferred_suppliers(uow, [d.item_id for d, _ in entries])
    suppliers = sorted({p.supplier_id for p in chosen.values() if p is not None})
    drafts = uow.purchasing.lock_drafts(suppliers) if suppliers else {}

    def key(demand: Demand, preferred: PreferredSupplier) -> tuple[int, int, int]:
        return (drafts[preferred.supplier_id], demand.item_id, demand.place.id)

    keys = [key(d, p) for d, _ in entries if (p := chosen[d.item_id]) is not None]
    found = uow.purchasing.draft_lines(sorted(set(keys)))
    lines = {
        k: _DraftLine(k[0], line_no, ordered, pegged, line_id)
        for k, (line_id, line_no, ordered, pegged) in found.items()
    }
    adding = sorted({k[0] for k in keys if k not in lines})
    next_no = uow.purchasing.next_line_nos(adding) if adding else {}

    pulled: list[Pulled] = []
    pegs: list[tuple[Demand, _DraftLine, Decimal, date]] = []
    for demand, quantity in entries:
        preferred = chosen[demand.item_id]
        if preferred is None:
            pulled.append(Pulled(Fulfilment.BACKORDER))
            continue
        terms = preferred.terms
        expected = today + timedelta(days=terms.lead_time_days)
        k = key(demand, preferred)
        line = lines.get(k)
        if line is None:
            size = order_quantity(quantity, terms.moq, terms.pack_size)
            new = PurchaseLine(
                next_no[k[0]], demand.sku, demand.place.code, size, terms.price, expected
            )
            next_no[k[0]] += 1
            line = lines[k] = _DraftLine(k[0], new.line_no, size, quantity, new=(new, demand.place))
        else:
            line.ordered = max(
                line.ordered, order_quantity(line.pegged + quantity, terms.moq, terms.pack_size)
            )
            line.pegged += quantity
            line.expected = expected
            if line.new is not None:
                line.new[0].quantity, line.new[0].expected_date = line.ordered, expected
        pegs.append((demand, line, quantity, expected))
        pulled.append(Pulled(Fulfilment.PURCHASE))

    added = [line for _, line in sorted(lines.items()) if line.new is not None]
    ids = uow.purchasing.add_lines(
        [
            (line.order_id, new, item_id, place)
            for (_, item_id, _), line in sorted(lines.items())
            if line.new is not None
            for new, place in [line.new]
        ]
    )
    for line, line_id in zip(added, ids, strict=True):
        line.line_id = line_id
    uow.purchasing.resize_lines(
        [
            (line.line_id, line.ordered, line.expected)
            for line in lines.values()
            if line.new is None and line.line_id is not None and line.expected is not None
        ]
    )
    uow.pegs.add_many(
        [
            (demand.kind, demand.id, SupplyKind.PURCHASE, line.line_id or 0, demand.reference, q)
            for demand, line, q, _ in pegs
        ]
    )
    views = iter(pegs)
    for result in pulled:
        if result.fulfilment is Fulfilment.PURCHASE:
            _, line, q, expected = next(views)
            supply = f"{number('purchase', line.order_id)}/{line.line_no}"
            result.pegs.append(
                PegView(supply, SupplyKind.PURCHASE.value, q, ZERO, PegStatus.OPEN.value, expected)
            )
    return pulled
