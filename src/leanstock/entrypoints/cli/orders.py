"""Order commands: the same services the API calls, printed as Rich tables."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.table import Table

from leanstock.domain.errors import InvalidInput
from leanstock.domain.quantities import exact
from leanstock.entrypoints.cli.app import app, console, handled, iso_date, open_engine

if TYPE_CHECKING:
    from leanstock.adapters.db.uow import UnitOfWork

T = TypeVar("T")

NUMERIC = {"quantity", "shipped", "reserved", "open", "short", "received", "lines", "produced"}


def _uow() -> UnitOfWork:
    from leanstock.adapters.db.uow import UnitOfWork

    return UnitOfWork(open_engine())


def _table(
    title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], caption: str | None = None
) -> None:
    table = Table(title=title, caption=caption)
    for column in columns:
        table.add_column(column, justify="right" if column in NUMERIC else "left")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)


@app.command("orders")
def list_sales_orders(
    status: Annotated[str | None, typer.Option(help="draft, confirmed, shipped, ...")] = None,
    customer: Annotated[str | None, typer.Option(help="The name as ordered.")] = None,
    customer_code: Annotated[str | None, typer.Option(help="A customer record's code.")] = None,
    limit: int = 50,
    offset: int = 0,
) -> None:
    """List sales orders, newest first."""
    from leanstock.services import orders

    with handled():
        page = orders.list_orders(_uow(), status, customer, limit, offset, customer_code)
    _table(
        "Sales orders",
        ["number", "customer", "code", "status", "ordered at", "lines", "quantity", "shipped"],
        (
            [
                r["number"],
                r["customer"],
                r["customer_code"],
                r["status"],
                f"{r['ordered_at']:%Y-%m-%d %H:%M}",
                r["lines"],
                r["quantity"],
                r["shipped"],
            ]
            for r in page.items
        ),
        f"{page.total} in all",
    )


@app.command("order")
def show_sales_order(number: Annotated[str, typer.Argument(help="SO-000001")]) -> None:
    """One sales order: its lines, what is reserved, pegged supply and promise dates."""
    from leanstock.services import orders

    with handled():
        view = orders.get_order(_uow(), number)
    who = f"{view.customer} ({view.customer_code})" if view.customer_code else view.customer
    console.print(
        f"[bold]{view.number}[/] for {who}: {view.status}, ordered {view.ordered_at:%Y-%m-%d %H:%M}"
    )
    _table(
        "Lines",
        [
            "line",
            "sku",
            "location",
            "quantity",
            "shipped",
            "open",
            "reserved",
            "short",
            "fulfilment",
            "requested",
            "promise",
            "pegged supply",
        ],
        (
            [
                ln.line_no,
                ln.sku,
                ln.location,
                ln.quantity,
                ln.shipped,
                ln.open_quantity,
                ln.reserved,
                ln.short_at_order,
                "cancelled" if ln.cancelled else ln.fulfilment,
                ln.requested_date,
                f"{ln.promise_date or ''}{' (late)' if ln.misses_request else ''}",
                ", ".join(
                    f"{p.supply} {p.received}/{p.quantity} ({p.status}, {p.expected})"
                    for p in ln.pegs
                ),
            ]
            for ln in view.lines
        ),
    )
    for ln in view.lines:
        if ln.promise_note:
            console.print(f"[yellow]Line {ln.line_no} ({ln.sku}):[/] {ln.promise_note}.")


@app.command("purchase-orders")
def list_purchase_orders(
    status: Annotated[str | None, typer.Option(help="draft, released, received, ...")] = None,
    supplier: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> None:
    """List purchase orders, newest first."""
    from leanstock.services import purchasing

    with handled():
        page = purchasing.list_purchase_orders(_uow(), status, supplier, limit, offset)
    _table(
        "Purchase orders",
        ["number", "supplier", "status", "lines", "quantity", "received", "promised", "note"],
        (
            [
                r["number"],
                r["supplier"],
                r["status"],
                r["lines"],
                r["quantity"],
                r["received"],
                r["promised_date"],
                " ".join(
                    filter(
                        None,
                        [
                            f"drop-ship to {r['drop_ship_customer']}"
                            if r["drop_ship_customer"]
                            else "",
                            "change requested" if r["change_requested"] else "",
                        ],
                    )
                ),
            ]
            for r in page.items
        ),
        f"{page.total} in all",
    )


@app.command("purchase-order")
def show_purchase_order(number: Annotated[str, typer.Argument(help="PO-000001")]) -> None:
    """One purchase order with its lines and the sales lines they are pegged to."""
    from leanstock.services import purchasing

    with handled():
        view = purchasing.get_purchase_order(_uow(), number)
    console.print(f"[bold]{view.number}[/] to {view.supplier}: {view.status}")
    _table(
        "Lines",
        ["line", "sku", "location", "quantity", "received", "promised", "pegged to"],
        (
            [
                ln.line_no,
                ln.sku,
                ln.location,
                ln.quantity,
                ln.received,
                ln.confirmed_date or ln.expected_date,
                ", ".join(ln.pegged_to),
            ]
            for ln in view.lines
        ),
    )


@app.command("production-orders")
def list_production_orders(status: str | None = None, limit: int = 50, offset: int = 0) -> None:
    """List production orders, newest first."""
    from leanstock.services import production

    with handled():
        page = production.list_production_orders(_uow(), status, limit, offset)
    _table(
        "Production orders",
        ["number", "sku", "location", "quantity", "produced", "status", "due"],
        (
            [
                r["number"],
                r["sku"],
                r["location"],
                r["quantity"],
                r["produced"],
                r["status"],
                r["due_date"],
            ]
            for r in page.items
        ),
        f"{page.total} in all",
    )


def _quantities(pairs: list[str], what: str) -> list[tuple[str, Decimal]]:
    """`A:3` pairs (SKU or line number, quantity) as given on the command line."""
    found: list[tuple[str, Decimal]] = []
    for pair in pairs:
        key, sep, quantity = pair.rpartition(":")
        if not sep or not key:
            raise InvalidInput(f"Write each {what} as {what.upper()}:QUANTITY, not {pair!r}.", what)
        found.append((key, exact(quantity)))
    return found


def _line_numbers(pairs: list[str]) -> dict[int, Decimal]:
    lines: dict[int, Decimal] = {}
    for key, quantity in _quantities(pairs, "line"):
        if not key.isdigit():
            raise InvalidInput(f"{key!r} is not a line number.", "line")
        lines[int(key)] = quantity
    return lines


@app.command("place-order")
def place_order(
    customer: Annotated[
        str | None,
        typer.Argument(help="The customer's name (a walk-in sale, or a record's other name)."),
    ] = None,
    *,
    customer_code: Annotated[
        str | None, typer.Option("--customer-code", "-c", help="A customer record's code.")
    ] = None,
    lines: Annotated[list[str], typer.Option("--line", "-l", help="SKU:QUANTITY, repeatable.")],
    location: Annotated[str, typer.Option(help="Where the order ships from.")],
    confirm: Annotated[bool, typer.Option(help="Reserve stock and pull supply now.")] = False,
    requested: Annotated[
        date | None,
        typer.Option(parser=iso_date, help="When the customer wants it, YYYY-MM-DD (every line)."),
    ] = None,
    unit: Annotated[
        str | None,
        typer.Option(help="The unit of the quantities (a sales unit: dozen); every line."),
    ] = None,
) -> None:
    """Record a customer order (and confirm it with --confirm)."""
    from leanstock.services import orders

    with handled():
        new = [
            orders.NewLine(sku, q, requested_date=requested, unit=unit)
            for sku, q in _quantities(lines, "sku")
        ]
        view = orders.place_order(
            _uow(),
            customer,
            new,
            location=location,
            confirm=confirm,
            actor="cli",
            customer_code=customer_code,
        )
    console.print(f"[green]{view.number}[/] {view.status}")
    show_sales_order(view.number)


@app.command("confirm-order")
def confirm_order(number: str) -> None:
    """Confirm a draft order: reserve available stock, pull supply for the rest."""
    from leanstock.services import orders

    with handled():
        orders.confirm_order(_uow(), number, actor="cli")
    show_sales_order(number)


@app.command("ship-order")
def ship_order(
    number: str,
    lines: Annotated[
        list[str] | None,
        typer.Option("--line", "-l", help="LINE:QUANTITY; leave out for all reserved."),
    ] = None,
    serials: Annotated[
        list[str] | None,
        typer.Option(
            "--serial",
            help="A serial shipped (serial-tracked items), LINE=SERIAL; once per unit.",
        ),
    ] = None,
) -> None:
    """Ship what is reserved for an order, all of it or the lines named."""
    from leanstock.services import orders

    with handled():
        quantities = _line_numbers(lines) if lines else None
        named = _serials_per_line(serials or [], quantities)
        orders.ship_order(_uow(), number, quantities, actor="cli", serials=named or None)
    show_sales_order(number)


@app.command("return-order")
def return_order(
    number: str,
    line: int,
    quantity: Decimal,
    to: Annotated[str, typer.Option(help="stock (usable again), quarantine, or scrap.")] = "stock",
    lot: Annotated[str | None, typer.Option(help="The lot that came back.")] = None,
    reason: Annotated[
        str | None, typer.Option(help="Why, when scrapped: damage, spoilage, quality, ...")
    ] = None,
    note: str | None = None,
    serials: Annotated[
        list[str] | None,
        typer.Option("--serial", help="A serial that came back (serial-tracked items)."),
    ] = None,
) -> None:
    """Receive goods a customer sent back against a shipped line."""
    from leanstock.domain.errors import InvalidInput
    from leanstock.domain.ledger import ScrapReason
    from leanstock.services import returns

    with handled():
        if to not in {t.value for t in returns.ReturnTo}:
            raise InvalidInput(f"--to {to!r}: use stock, quarantine or scrap.", "to")
        if reason is not None and reason not in {r.value for r in ScrapReason}:
            raise InvalidInput(f"--reason {reason!r} is not a scrap reason.", "reason")
        returns.return_goods(
            _uow(),
            number,
            line,
            quantity,
            returns.ReturnTo(to),
            lot=lot,
            reason=ScrapReason(reason) if reason else None,
            note=note,
            actor="cli",
            serials=serials or (),
        )
    show_sales_order(number)


@app.command("cancel-order")
def cancel_order(number: str, reason: str | None = None) -> None:
    """Cancel what is not shipped; the supply it pulled is reduced or flagged."""
    from leanstock.services import orders

    with handled():
        orders.cancel_order(_uow(), number, reason=reason, actor="cli")
    show_sales_order(number)


@app.command("release-po")
def release_purchase_order(number: str) -> None:
    """Send a draft purchase order to its supplier."""
    from leanstock.services import purchasing

    with handled():
        purchasing.release(_uow(), number, actor="cli")
    show_purchase_order(number)


@app.command("receive-po")
def receive_purchase_order(
    number: str,
    lines: Annotated[list[str], typer.Option("--line", "-l", help="LINE:QUANTITY accepted.")],
    lots: Annotated[
        list[str] | None,
        typer.Option(
            "--lot",
            help="The lot of a lot-tracked item: LOT for every line, or LINE=LOT for one.",
        ),
    ] = None,
    expires: Annotated[
        list[str] | None,
        typer.Option(
            "--expires-on",
            help="The lot's expiry, YYYY-MM-DD for every line or LINE=YYYY-MM-DD for one "
            "(default: today + the item's shelf life).",
        ),
    ] = None,
    units: Annotated[
        list[str] | None,
        typer.Option(
            "--unit",
            help="The unit of the quantities (a purchase unit, e.g. sack): UNIT for every line "
            "or LINE=UNIT for one (default: the stock unit).",
        ),
    ] = None,
    serials: Annotated[
        list[str] | None,
        typer.Option(
            "--serial",
            help="A serial received (serial-tracked items): SERIAL, or LINE=SERIAL; once per unit.",
        ),
    ] = None,
) -> None:
    """Receive a delivery against a purchase order; pegged orders get it first."""
    from leanstock.services import purchasing

    with handled():
        quantities = _line_numbers(lines)
        lot_of = _per_line(lots or [], quantities, "lot", str)
        expiry_of = _per_line(expires or [], quantities, "expires-on", _date)
        unit_of = _per_line(units or [], quantities, "unit", str)
        serials_of = _serials_per_line(serials or [], quantities)
        receipt = [
            purchasing.ReceiptLine(
                n,
                q,
                lot=lot_of.get(n),
                expires_on=expiry_of.get(n),
                unit=unit_of.get(n),
                serials=tuple(serials_of.get(n, [])),
            )
            for n, q in quantities.items()
        ]
        purchasing.receive(_uow(), number, receipt, actor="cli")
    show_purchase_order(number)


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"{value!r} is not a date: write it as YYYY-MM-DD (ISO 8601), e.g. 2025-03-31.",
            "expires-on",
        ) from None


def _per_line(
    values: list[str], lines: dict[int, Decimal], what: str, parse: Callable[[str], T]
) -> dict[int, T]:
    """`VALUE` for every received line, or `LINE=VALUE` for one."""
    found: dict[int, T] = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep:
            found.update({n: parse(value) for n in lines})
            continue
        if not key.isdigit() or int(key) not in lines:
            raise InvalidInput(
                f"--{what} {value!r}: {key!r} is not one of the lines received "
                f"({', '.join(map(str, lines))}); write LINE={what.upper()}.",
                what,
            )
        found[int(key)] = parse(rest)
    return found


def _serials_per_line(values: list[str], lines: dict[int, Decimal] | None) -> dict[int, list[str]]:
    """`LINE=SERIAL` per serial (a plain `SERIAL` when one line is named), gathered by line."""
    found: dict[int, list[str]] = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep:
            if lines is None or len(lines) != 1:
                raise InvalidInput(
                    f"--serial {value!r}: say which line it is on (LINE=SERIAL).", "serial"
                )
            found.setdefault(next(iter(lines)), []).append(value)
            continue
        if not key.isdigit() or (lines is not None and int(key) not in lines):
            raise InvalidInput(
                f"--serial {value!r}: {key!r} is not a line named; write LINE=SERIAL.", "serial"
            )
        found.setdefault(int(key), []).append(rest)
    return found
