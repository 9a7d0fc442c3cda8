"""Load the generated sample business (`leanstock.demo`) into an empty database.

Everything goes through the repositories, in one transaction: the demo database is either
complete or untouched. The history is two years of moves (300k+), so it is recorded in bulk
(`LedgerRepository.post_history`) after checking, move by move in time order, that no
physical location ever runs short — the check `post` would make per operation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from itertools import groupby
from typing import Any

import polars as pl

from leanstock.adapters.auth.credentials import new_password
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.demo.catalog import SUPPLIERS
from leanstock.demo.generate import WAREHOUSE, DemoBusiness, shortfalls
from leanstock.domain.access import Actor, Role
from leanstock.domain.catalog import SupplierItem
from leanstock.domain.errors import Conflict, InvalidInput, NotFound
from leanstock.domain.ledger import OperationRecord, Place, Posting
from leanstock.domain.orders import BomLine
from leanstock.services import accounts, tokens
from leanstock.services.order_history import record_order_history
from leanstock.services.orders import demand_history

OPERATION = ("occurred_at", "kind", "reference", "partner", "reason")
MOVE = ("sku", "source", "target", "quantity", "lot")


@dataclass(frozen=True)
class DemoSummary:
    items: int
    locations: int
    suppliers: int
    supplier_items: int
    boms: int
    lots: int
    operations: int
    moves: int
    first_day: date
    last_day: date


def load_demo(uow: UnitOfWork, business: DemoBusiness) -> DemoSummary:
    """Write the sample business into an empty, migrated database; refuse one with items.

    Moves are grouped into operations the way the business books them: one per purchase-order
    delivery, per store and day for sales, use, bakes, transfers and expiry scrap.
    """
    short = shortfalls(business.moves, [loc.code for loc in business.locations])
    if not short.is_empty():
        first = short.row(0, named=True)
        raise Conflict(
            f"The demo history takes {first['sku']} (lot {first['lot']}) below zero at "
            f"{first['location']} on {first['occurred_at']}; it cannot be loaded."
        )
    with uow:
        if uow.catalog.items(limit=1).total:
            raise InvalidInput(
                "The database already has items; load the demo into a new, empty database.",
                "database",
            )
        for location in business.locations:
            uow.catalog.add_location(location)
        for supplier in business.suppliers:
            uow.catalog.add_supplier(supplier)
        item_ids = {item.sku: uow.catalog.add_item(item).id for item in business.items}
        for terms in business.supplier_items:
            uow.catalog.put_supplier_item(terms, create=True)
        for bom in business.boms:
            uow.boms.put(
                item_ids[bom.sku],
                bom.lead_time_days,
                [
                    (item_ids[component], BomLine(bom.sku, component, quantity))
                    for component, quantity in bom.lines
                ],
            )
        uow.ledger.add_lots(
            [(item_ids[sku], lot, expires) for sku, lot, expires in business.lots.iter_rows()]
        )
        places = _places(uow, business)
        rows = business.moves.select(*OPERATION, *MOVE).iter_rows()
        operations = [
            OperationRecord(
                kind=kind,
                postings=[
                    Posting(item_ids[sku], places[source], places[target], quantity, lot)
                    for *_, sku, source, target, quantity, lot in group
                ],
                occurred_at=when,
                reference=reference,
                partner=partner,
                reason=reason,
            )
            for (when, kind, reference, partner, reason), group in groupby(
                rows, key=lambda row: row[: len(OPERATION)]
            )
        ]
        uow.ledger.post_history(operations)
        record_order_history(uow, business)
        uow.commit()
    return DemoSummary(
        items=len(business.items),
        locations=len(business.locations),
        suppliers=len(business.suppliers),
        supplier_items=len(business.supplier_items),
        boms=len(business.boms),
        lots=business.lots.height,
        operations=len(operations),
        moves=sum(len(op.postings) for op in operations),
        first_day=business.start,
        last_day=business.end,
    )


def _places(uow: UnitOfWork, business: DemoBusiness) -> dict[str, Place]:
    codes = set(business.moves["source"]) | set(business.moves["target"])
    places = {}
    for code in sorted(codes):
        stored = uow.catalog.location(code)
        places[code] = Place(stored.id, code, stored.value.may_go_negative)
    return places


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: Role
    password: str
    binding: str


def _login(uow: UnitOfWork, email: str, role: Role, binding: dict[str, Any]) -> DemoLogin:
    """The demo user `email` with a new password (created, or reset and re-bound)."""
    password = new_password()
    try:
        user_id = accounts.user_id_of(uow, email)
    except NotFound:
        user_id = accounts.create_user(uow, email, password, role, **binding).id
    else:
        accounts.update_user(uow, user_id, {"role": role, "active": True, **binding})
        accounts.reset_password(uow, user_id, password)
    where = ", ".join(f"{k}: {v[0] if isinstance(v, list) else v}" for k, v in binding.items())
    return DemoLogin(email, role, password, where)


def supplier_email(code: str) -> str:
    """The demo portal user of a supplier: `supplier@` for the first, `supplier-<code>@` for
    the others."""
    if code == SUPPLIERS[0].code:
        return f"{Role.SUPPLIER.value}@leanstock.example"
    return f"{Role.SUPPLIER.value}-{code.lower()}@leanstock.example"


def demo_logins(uow: UnitOfWork) -> list[DemoLogin]:
    """One demo user per role, and a supplier-portal user per supplier, each given a new
    random password on every call (only hashes are stored, so the passwords can be shown only
    when they are set). The warehouse user works at the central warehouse; each supplier user
    for its supplier. The previous demo tokens are revoked and the owner gets a new one: it
    is the `api` login, last."""
    bindings: dict[Role, dict[str, Any]] = {Role.WAREHOUSE: {"locations": [WAREHOUSE]}}
    logins = [
        _login(uow, f"{role.value}@leanstock.example", role, bindings.get(role, {}))
        for role in Role
        if role is not Role.SUPPLIER
    ]
    logins += [
        _login(uow, supplier_email(s.code), Role.SUPPLIER, {"supplier": s.code}) for s in SUPPLIERS
    ]
    owner = accounts.user_id_of(uow, f"{Role.OWNER.value}@leanstock.example")
    for old in tokens.list_tokens(uow, owner, limit=500).items:
        if old.name == "demo" and old.status == "active":
            tokens.revoke_token(uow, Actor.system("demo"), old.id)
    made = tokens.create_token(uow, owner, "demo", lifetime=timedelta(days=30))
    logins.append(DemoLogin(made.token.user, Role.OWNER, made.secret, "API token"))
    return logins


SAMPLE_WEEK_DAYS = 7


def sample_files(uow: UnitOfWork) -> dict[str, pl.DataFrame]:
    """The README tour's sample files, from the business's own history (`demo --samples`).

    - `sales.csv`: demand per item, location and month as ordered (item, location, ds: the
      1st, qty, stockout), whole months only, for `leanstock forecast --history --freq M`;
    - `demand.csv`: demand per item and week over all locations (item, ds, qty), and
      `items.csv`: each of those items' lead time in weeks (its first supplier's, else its
      BOM's, rounded up), unit cost, MOQ and pack size, for `leanstock simulate`.
    """
    daily = demand_history(uow, "D")
    if daily.height == 0:
        raise InvalidInput(
            "There is no sales history to write samples from; build the demo first.", "database"
        )
    first, last = daily["ds"].min(), daily["ds"].max()
    month = pl.col("ds")
    sales = demand_history(uow, "M").filter(
        month >= first, month.dt.offset_by("1mo").dt.offset_by("-1d") <= last
    )
    weekly = (
        demand_history(uow, "W").group_by("item", "ds").agg(pl.col("qty").sum()).sort("item", "ds")
    )
    with uow:
        items = {item.sku: item for item in uow.catalog.items(limit=1_000_000).items}
        offers: dict[str, SupplierItem] = {}
        for offer in uow.catalog.supplier_items(limit=1_000_000).items:
            if offer.sku not in offers or offer.priority < offers[offer.sku].priority:
                offers[offer.sku] = offer
        bake_days = uow.planning.production_lead_times()
    rows = []
    for sku in weekly["item"].unique().sort():
        terms = offers.get(sku)
        days = terms.lead_time_days if terms else bake_days.get(sku, 0)
        rows.append(
            {
                "item": sku,
                "lead_time": -(-days // SAMPLE_WEEK_DAYS),
                "unit_cost": float(items[sku].unit_cost),
                "moq": float(terms.moq) if terms else 1.0,
                "pack_size": float(terms.pack_size) if terms else 1.0,
            }
        )
    return {
        "sales.csv": sales.sort("item", "location", "ds"),
        "demand.csv": weekly,
        "items.csv": pl.DataFrame(rows),
    }
