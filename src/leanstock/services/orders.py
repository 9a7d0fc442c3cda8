"""Sales orders: place, confirm (reserve, then pull what stock cannot serve), ship, change, cancel.

Each line records its demand when the order is confirmed, served or not, so stock-outs do not
hide demand (docs/architecture.md, the JIT loop, step 1); `demand_history` is what the
forecasts read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from leanstock.domain import catalog
from leanstock.domain.catalog import Item
from leanstock.domain.errors import InvalidInput, InvalidTransition, NotFound
from leanstock.domain.ledger import MoveKind, Place, Posting, Reservation, draw
from leanstock.domain.orders import (
    DemandKind,
    Fulfilment,
    SalesLine,
    SalesOrder,
    SalesStatus,
    missed_request,
    order_id,
    promise_date,
)
from leanstock.domain.orders import number as order_number
from leanstock.domain.orders.events import RequestedDateMissed
from leanstock.domain.quantities import positive
from leanstock.services.backorders import fill_backorders
from leanstock.services.demand import demand_history as demand_history
from leanstock.services.paging import Page, page_bounds
from leanstock.services.ports import LineRef, UnitOfWork
from leanstock.services.posting import (
    checked_time,
    current_day,
    line_errors,
    post,
    stock_quantity,
    take,
)
from leanstock.services.pull import (
    Demand,
    PegView,
    drop,
    lead_times,
    promises,
    quote,
)
from leanstock.services.retry import retrying
from leanstock.services.serials import departures
from leanstock.services.serving import Wanted, serve_all

ZERO = Decimal(0)


@dataclass(frozen=True)
class NewLine:
    sku: str
    quantity: Decimal
    location: str | None = None
    requested_date: date | None = None
    # The unit `quantity` is in (a sales unit: a dozen); None: the stock unit.
    unit: str | None = None


@dataclass(frozen=True)
class SalesLineView:
    line_no: int
    sku: str
    location: str
    quantity: Decimal
    ordered_quantity: Decimal
    shipped: Decimal
    open_quantity: Decimal
    reserved: Decimal
    short_at_order: Decimal
    fulfilment: str
    cancelled: bool
    requested_date: date | None
    promise_date: date | None
    pegs: list[PegView] = field(default_factory=list)
    returned: Decimal = ZERO

    @property
    def promise_note(self) -> str | None:
        """Why the promise misses the requested date (None when it is met)."""
        return missed_request(self.requested_date, self.promise_date, self.open_quantity)

    @property
    def misses_request(self) -> bool:
        return self.promise_note is not None


@dataclass(frozen=True)
class SalesOrderView:
    number: str
    customer: str
    status: str
    ordered_at: datetime
    lines: list[SalesLineView]
    customer_code: str | None = None


def sales_id(value: str) -> int:
    found = order_id("sales", value)
    if found is None:
        raise NotFound("sales order", value, "order")
    return found


def _demand(order: SalesOrder, line: SalesLine, ref: LineRef) -> Demand:
    return Demand(
        DemandKind.SALES_LINE,
        ref.id,
        f"{order.number}/{line.line_no}",
        ref.item_id,
        line.sku,
        ref.place,
        order.customer,
        order.id,
    )


def _line_view(
    line: SalesLine, reserved: Decimal, promised: date | None, pegs: list[PegView]
) -> SalesLineView:
    return SalesLineView(
        line.line_no,
        line.sku,
        line.location,
        line.quantity,
        line.ordered_quantity,
        line.shipped,
        line.open_quantity,
        reserved,
        line.short_at_order,
        line.fulfilment.value,
        line.cancelled,
        line.requested_date,
        promised,
        pegs,
        line.returned,
    )


def _serve(
    uow: UnitOfWork,
    order: SalesOrder,
    refs: Mapping[int, LineRef],
    items: Mapping[str, Item],
    today: date,
    wanted: Mapping[int, Decimal],
) -> dict[int, SalesLineView]:
    """Reserve what stock can give each line and pull the rest; record the shortfall.

    The whole order at once (`services.serving`): its stock rows locked together in
    item-location order, so two orders locking the same rows take them in the same order.
    """
    lines = [ln for ln in order.lines if ln.line_no in wanted]
    demands = [_demand(order, line, refs[line.line_no]) for line in lines]
    served = serve_all(
        uow,
        [
            Wanted(demand, items[line.sku], wanted[line.line_no])
            for line, demand in zip(lines, demands, strict=True)
        ],
        today,
    )
    uncovered = [
        demand.item_id
        for line, demand, (reserved, pulled) in zip(lines, demands, served, strict=True)
        if reserved + sum((s.quantity for s in pulled.supplies), ZERO) < wanted[line.line_no]
    ]
    leads = lead_times(uow, uncovered) if uncovered else {}
    views: dict[int, SalesLineView] = {}
    for line, demand, (reserved, pulled) in zip(lines, demands, served, strict=True):
        quantity = wanted[line.line_no]
        short = quantity - reserved
        line.short_at_order += short
        if short > 0:
            line.fulfilment = pulled.fulfilment
        promised = promise_date(
            today,
            quantity,
            reserved,
            pulled.supplies,
            leads.get(demand.item_id),
            line.requested_date,
        )
        missed = missed_request(line.requested_date, promised, quantity)
        if missed is not None and line.requested_date is not None:
            uow.record(
                RequestedDateMissed(
                    subject=order.number,
                    line=f"{order.number}/{line.line_no}",
                    requested=line.requested_date,
                    promised=promised,
                    reason=missed,
                )
            )
        views[line.line_no] = _line_view(line, reserved, promised, pulled.pegs)
    return views


def _items(uow: UnitOfWork, skus: Sequence[str]) -> dict[str, Item]:
    """The items of some SKUs, read in one query."""
    known, _ = uow.sales.items_and_place(sorted(set(skus)))
    return {sku: (known.get(sku) or uow.catalog.item(sku)).value for sku in set(skus)}


def _resolve(
    uow: UnitOfWork, lines: Sequence[NewLine], location: str | None
) -> tuple[list[SalesLine], list[tuple[int, Place]], dict[str, Item]]:
    """The order's lines, each line's item id and place, and the items, checked: every line
    names an active item and a warehouse or store (its own, or the order's)."""
    order_lines: list[SalesLine] = []
    refs: list[tuple[int, Place]] = []
    items: dict[str, Item] = {}
    places: dict[str, Place] = {}
    known, usual = uow.sales.items_and_place([new.sku for new in lines], location)
    if location is not None and usual is not None:
        places[location], physical = usual
        if not physical:
            raise InvalidInput(
                f"{location} is a virtual location; name a warehouse or store.", "location"
            )
    for n, new in enumerate(lines, 1):
        code = new.location or location
        if code is None:
            raise InvalidInput(f"Line {n} names no location to ship from.", "location")
        stored = known.get(new.sku)
        if stored is None:
            raise NotFound("item", new.sku, "sku")
        sku = stored.value.sku  # `new.sku` may be a barcode
        if not stored.value.active:
            raise InvalidInput(f"Item {sku} is not active; it cannot be sold.", "sku")
        items[sku] = stored.value
        if code not in places:
            places[code], physical = uow.sales.place(code, "location")
            if not physical:
                raise InvalidInput(
                    f"{code} is a virtual location; name a warehouse or store.", "location"
                )
        refs.append((stored.id, places[code]))
        with line_errors(n - 1, len(lines) > 1):
            quantity = stock_quantity(uow, stored, positive(new.quantity), new.unit, "quantity")
        order_lines.append(SalesLine(n, sku, code, quantity, new.requested_date))
    return order_lines, refs, items


@retrying
def place_order(
    uow: UnitOfWork,
    customer: str | None,
    lines: Sequence[NewLine],
    *,
    location: str | None = None,
    confirm: bool = False,
    ordered_at: datetime | None = None,
    actor: str = "system",
    today: date | None = None,
    customer_code: str | None = None,
) -> SalesOrderView:
    """Record a customer's order; with `confirm`, confirm it in the same transaction.

    `customer_code` refers to a customer record (its name is the order's `customer` unless
    one is given); `customer` alone is a walk-in sale, named by free text."""
    if customer is None and customer_code is None:
        raise InvalidInput(
            "Name the customer: a customer_code of a customer record, or a customer name "
            "for a walk-in sale.",
            "customer",
        )
    if customer is not None:
        customer = catalog.text(customer, "customer")
    if not lines:
        raise InvalidInput("An order needs at least one line.", "lines")
    when = checked_time(ordered_at)
    day = current_day(today)
    with uow.acting(actor):
        customer_id = None
        if customer_code is not None:
            record = uow.customers.get(customer_code)
            if not record.value.active:
                raise InvalidInput(
                    f"Customer {customer_code} is not active; activate it first or order as "
                    "a walk-in sale.",
                    "customer_code",
                )
            customer_id = record.id
            customer = customer or record.value.name
        assert customer is not None
        order_lines, refs, items = _resolve(uow, lines, location)
        order = SalesOrder(customer, order_lines, ordered_at=when, customer_code=customer_code)
        order.place(confirm)
        ids = uow.sales.add(order, refs, customer_id)
        line_refs = {
            line.line_no: LineRef(line_id, item_id, place)
            for line, line_id, (item_id, place) in zip(order_lines, ids, refs, strict=True)
        }
        if confirm:
            views = _serve(
                uow, order, line_refs, items, day, {ln.line_no: ln.quantity for ln in order_lines}
            )
            uow.sales.save_lines([ln for ln in order_lines if ln.short_at_order > 0])
        else:
            views = {
                ln.line_no: _line_view(
                    ln,
                    ZERO,
                    quote(
                        uow,
                        _demand(order, ln, line_refs[ln.line_no]),
                        items[ln.sku],
                        ln.quantity,
                        day,
                        ln.requested_date,
                    ),
                    [],
                )
                for ln in order_lines
            }
        uow.commit()
    return SalesOrderView(
        order.number,
        order.customer,
        order.status.value,
        when,
        [views[ln.line_no] for ln in order_lines],
        order.customer_code,
    )


@retrying
def confirm_order(
    uow: UnitOfWork, number: str, *, actor: str = "system", today: date | None = None
) -> SalesOrderView:
    """Confirm a draft: each line reserves available stock and pulls supply for the rest."""
    day = current_day(today)
    with uow.acting(actor):
        order, refs = uow.sales.get(sales_id(number), lock=True)
        order.confirm()
        items = _items(uow, [ln.sku for ln in order.lines])
        _serve(uow, order, refs, items, day, {ln.line_no: ln.quantity for ln in order.lines})
        uow.sales.save(order)
        uow.commit()
    return get_order(uow, number, today=day)


@retrying
def ship_order(
    uow: UnitOfWork,
    number: str,
    lines: Mapping[int, Decimal] | None = None,
    *,
    actor: str = "system",
    occurred_at: datetime | None = None,
    today: date | None = None,
    serials: Mapping[int, Sequence[str]] | None = None,
) -> SalesOrderView:
    """Ship reserved stock of some lines (`line_no → quantity`), or all that is reserved.

    A line ships only what is reserved for it: what is still coming ships when it arrives.
    Drop-shipped lines ship when the supplier's delivery to the customer is received. A line
    of a serial-tracked item names the serials it ships (`line_no → serials`), so the
    customer's serials are known.
    """
    when = checked_time(occurred_at)
    day = current_day(today)
    with uow.acting(actor):
        order, refs = uow.sales.get(sales_id(number), lock=True)
        order.check_shippable()
        wanted = dict(lines) if lines is not None else None
        for line_no in wanted or {}:
            order.line(line_no)
        shipping: dict[int, tuple[Decimal, list[Reservation]]] = {}
        for line in order.lines:
            if wanted is not None and line.line_no not in wanted:
                continue
            reference = f"{order.number}/{line.line_no}"
            reservations = uow.ledger.open_reservations(reference)
            held = sum((r.open_quantity for r in reservations), ZERO)
            amount = positive(wanted[line.line_no]) if wanted is not None else held
            if amount <= 0:
                continue
            if line.fulfilment is Fulfilment.DROP_SHIP and held == 0:
                raise InvalidTransition(
                    f"Line {line.line_no} of {order.number} is drop-shipped: it ships when "
                    "the supplier's delivery to the customer is received."
                )
            if amount > held:
                raise InvalidTransition(
                    f"Line {line.line_no} of {order.number} has {held} reserved to ship; "
                    f"{amount} asked. The rest ships when its supply arrives."
                )
            shipping[line.line_no] = (amount, reservations)
        order.ship({line_no: amount for line_no, (amount, _) in shipping.items()})
        customer_place = uow.virtual_place(catalog.CUSTOMER)
        for line_no, (amount, reservations) in shipping.items():
            ref = refs[line_no]
            item = uow.catalog.item(order.line(line_no).sku)
            if item.value.serial_tracked:
                uow.ledger.lock_stock(ref.item_id, ref.place)  # the stock row, then serials
            with line_errors(line_no - 1, True):
                moved, lots = departures(
                    uow, item, amount, (serials or {}).get(line_no, ()), ref.place, customer_place
                )
            picks = [
                pick
                for lot, quantity in (lots.items() if moved else [(None, amount)])
                for pick in take(uow, item, ref.place, quantity, day, lot, own_reserved=amount)
            ]
            uow.ledger.consume(draw(reservations, amount))
            postings = [Posting(ref.item_id, ref.place, customer_place, q, lt) for lt, q in picks]
            post(
                uow,
                MoveKind.SHIPMENT,
                item,
                postings,
                when,
                order.number,
                order.customer,
                serials=moved,
            )
        uow.sales.save(order)
        uow.commit()
    return get_order(uow, number, today=day)


@retrying
def cancel_order(
    uow: UnitOfWork,
    number: str,
    *,
    reason: str | None = None,
    actor: str = "system",
    today: date | None = None,
) -> SalesOrderView:
    """Cancel what is not shipped: reservations go back, pulled supply is reduced or flagged."""
    with uow.acting(actor):
        order, refs = uow.sales.get(sales_id(number), lock=True)
        opens = {ln.line_no: ln.open_quantity for ln in order.lines}
        was_draft = order.status is SalesStatus.DRAFT
        dropped = order.cancel(reason)
        if not was_draft:
            for line in dropped:
                demand = _demand(order, line, refs[line.line_no])
                drop(uow, demand, opens[line.line_no], opens[line.line_no])
        uow.sales.save(order)
        if not was_draft:
            _pass_on(uow, [refs[line.line_no] for line in dropped], order.number, today)
        uow.commit()
    return get_order(uow, number, today=today)


@retrying
def change_line(
    uow: UnitOfWork,
    number: str,
    line_no: int,
    quantity: Decimal,
    *,
    actor: str = "system",
    today: date | None = None,
) -> SalesOrderView:
    """Change a line's quantity. Less: drop the difference (supply first, stock last);
    more, on a confirmed order: reserve and pull the extra like a confirmation does.
    """
    day = current_day(today)
    with uow.acting(actor):
        order, refs = uow.sales.get(sales_id(number), lock=True)
        line = order.line(line_no)
        open_before = line.open_quantity
        was_draft = order.status is SalesStatus.DRAFT
        delta = order.change_line(line_no, quantity)
        if not was_draft and delta < 0:
            drop(uow, _demand(order, line, refs[line_no]), open_before, -delta)
        elif not was_draft and delta > 0:
            _serve(uow, order, refs, _items(uow, [line.sku]), day, {line_no: delta})
        uow.sales.save(order)
        if not was_draft and delta < 0:
            _pass_on(uow, [refs[line_no]], order.number, day)
        uow.commit()
    return get_order(uow, number, today=day)


@retrying
def cancel_line(
    uow: UnitOfWork, number: str, line_no: int, *, actor: str = "system", today: date | None = None
) -> SalesOrderView:
    """Cancel one line's unshipped rest, with the same propagation as cancelling the order."""
    with uow.acting(actor):
        order, refs = uow.sales.get(sales_id(number), lock=True)
        was_draft = order.status is SalesStatus.DRAFT
        line = order.line(line_no)
        open_before = line.open_quantity
        dropped = order.cancel_line(line_no)
        if not was_draft:
            drop(uow, _demand(order, line, refs[line_no]), open_before, dropped)
        uow.sales.save(order)
        if not was_draft:
            _pass_on(uow, [refs[line_no]], order.number, today)
        uow.commit()
    return get_order(uow, number, today=today)


def _pass_on(uow: UnitOfWork, refs: Sequence[LineRef], source: str, today: date | None) -> None:
    """Stock a cancelled or reduced line gave back goes to the lines waiting for it."""
    for item_id, place in sorted(
        {(r.item_id, r.place) for r in refs}, key=lambda k: (k[0], k[1].id)
    ):
        fill_backorders(uow, item_id, place, current_day(today), source)


def _view(
    uow: UnitOfWork, order: SalesOrder, refs: Mapping[int, LineRef], day: date
) -> SalesOrderView:
    demands = [
        (_demand(order, ln, refs[ln.line_no]), ln.open_quantity, ln.requested_date)
        for ln in order.lines
    ]
    promised, reserved, pegs = promises(uow, demands, day)
    if order.status is SalesStatus.DRAFT:
        items = _items(uow, [ln.sku for ln in order.lines])
        for (demand, open_quantity, requested), line in zip(demands, order.lines, strict=True):
            promised[demand.id] = quote(uow, demand, items[line.sku], open_quantity, day, requested)
    return SalesOrderView(
        order.number,
        order.customer,
        order.status.value,
        _utc(order.ordered_at),
        [
            _line_view(
                ln,
                reserved[refs[ln.line_no].id],
                promised[refs[ln.line_no].id],
                pegs[refs[ln.line_no].id],
            )
            for ln in order.lines
        ],
        order.customer_code,
    )


def get_order(uow: UnitOfWork, number: str, *, today: date | None = None) -> SalesOrderView:
    """The order with, per line, what is reserved, the supply pegged to it and its promise date."""
    with uow:
        order, refs = uow.sales.get(sales_id(number))
        _require_visible(uow, order)
        return _view(uow, order, refs, current_day(today))


def _require_visible(uow: UnitOfWork, order: SalesOrder) -> None:
    """An order at none of the principal's locations answers as a missing one."""
    if not uow.visibility.sees_any(ln.location for ln in order.lines):
        raise NotFound("sales order", order.number, "order")


def list_orders(
    uow: UnitOfWork,
    status: str | None = None,
    customer: str | None = None,
    limit: int = 50,
    offset: int = 0,
    customer_code: str | None = None,
) -> Page[dict[str, Any]]:
    """Sales orders, newest first; `customer` matches the name as ordered, `customer_code`
    the customer record."""
    limit, offset = page_bounds(limit, offset)
    if status is not None and status not in {s.value for s in SalesStatus}:
        raise InvalidInput(f"Unknown status {status!r}.", "status")
    with uow:
        if customer_code is not None:
            uow.customers.get(customer_code)
        rows, total = uow.sales.page(status, customer, limit, offset, customer_code)
    for row in rows:
        row["number"] = order_number("sales", row.pop("id"))
    return Page(rows, total, limit, offset)


def order_events(uow: UnitOfWork, number: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(outbox events, audit trail) of one order, oldest first."""
    with uow:
        order_id = sales_id(number)
        if uow.visibility.narrowed:
            _require_visible(uow, uow.sales.get(order_id)[0])
        return uow.outbox.events(number.upper()), uow.outbox.audit_trail(number.upper())


def _utc(moment: datetime | None) -> datetime:
    """SQLite hands timestamps back without their zone; they were written in UTC."""
    if moment is None:
        return datetime.now(UTC)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
