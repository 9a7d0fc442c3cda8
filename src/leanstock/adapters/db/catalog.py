"""Items, locations, suppliers and supplier items in the database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Connection, RowMapping, Select, bindparam, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from leanstock.adapters.db import tables as t
from leanstock.adapters.db.base import visible_locations
from leanstock.adapters.db.item_keys import ordered
from leanstock.domain.access import EVERYTHING, Visibility
from leanstock.domain.barcodes import scanned
from leanstock.domain.catalog import (
    PHYSICAL_KINDS,
    CostingMethod,
    Item,
    ItemKind,
    Location,
    LocationKind,
    Policy,
    PriceBreak,
    Supplier,
    SupplierItem,
)
from leanstock.domain.errors import AlreadyExists, NotFound
from leanstock.domain.ledger import Place
from leanstock.services.ports import ItemOrder, Page, Stored

T = TypeVar("T")


def _now() -> datetime:
    return datetime.now(UTC)


def item_from_row(row: RowMapping) -> Item:
    return Item(
        sku=row["sku"],
        name=row["name"],
        unit=row["unit"],
        kind=ItemKind(row["kind"]),
        category=row["category"],
        unit_cost=row["unit_cost"],
        lot_tracked=row["lot_tracked"],
        shelf_life_days=row["shelf_life_days"],
        policy=Policy(row["policy"]),
        active=row["active"],
        costing=CostingMethod(row["costing"]) if row["costing"] else None,
        divisible=row["divisible"],
        serial_tracked=row["serial_tracked"],
    )


def _location(row: RowMapping) -> Location:
    return Location(
        code=row["code"],
        name=row["name"],
        kind=LocationKind(row["kind"]),
        allow_negative=row["allow_negative"],
    )


def _supplier(row: RowMapping) -> Supplier:
    return Supplier(code=row["code"], name=row["name"], email=row["email"], active=row["active"])


def supplier_item_from_row(row: RowMapping) -> SupplierItem:
    return SupplierItem(
        supplier=row["supplier"],
        sku=row["sku"],
        price=row["price"],
        lead_time_days=row["lead_time_days"],
        moq=row["moq"],
        pack_size=row["pack_size"],
        priority=row["priority"],
        supplier_sku=row["supplier_sku"],
        price_breaks=tuple(
            PriceBreak(Decimal(q), Decimal(p)) for q, p in row["price_breaks"] or []
        ),
    )


def _item_values(item: Item) -> dict[str, Any]:
    return {
        "sku": item.sku,
        "name": item.name,
        "unit": item.unit,
        "kind": item.kind.value,
        "category": item.category,
        "unit_cost": item.unit_cost,
        "lot_tracked": item.lot_tracked,
        "shelf_life_days": item.shelf_life_days,
        "policy": item.policy.value,
        "active": item.active,
        "costing": item.costing.value if item.costing else None,
        "divisible": item.divisible,
        "serial_tracked": item.serial_tracked,
    }


def items_by_barcode(db: Connection, refs: Sequence[str]) -> dict[str, RowMapping]:
    """The item rows of those `refs` that are barcodes, by the ref as given: every lookup of
    an item by SKU falls back on it for what is not a SKU."""
    codes = {scanned(ref): ref for ref in refs}
    rows = (
        db.execute(
            select(t.items, t.item_barcodes.c.barcode)
            .join(t.item_barcodes, t.item_barcodes.c.item_id == t.items.c.id)
            .where(t.item_barcodes.c.barcode.in_(sorted(codes)))
        )
        .mappings()
        .all()
    )
    return {codes[r["barcode"]]: r for r in rows}


_LOCATION = t.locations.alias("location")
# Items and locations by SKU and code, built once: every stock document asks it, and building
# the select and its cache key anew cost about a tenth of a millisecond of CPU each time
# (docs/performance.md, "Since 145b9bf").
_ITEMS_AND_LOCATIONS = (
    select(
        t.items,
        _LOCATION.c.id.label("location_id"),
        _LOCATION.c.code.label("location_code"),
        _LOCATION.c.name.label("location_name"),
        _LOCATION.c.kind.label("location_kind"),
        _LOCATION.c.allow_negative.label("location_allow_negative"),
    )
    .join(_LOCATION, _LOCATION.c.code.in_(bindparam("codes", expanding=True)))
    .where(t.items.c.sku.in_(bindparam("skus", expanding=True)))
)


class CatalogRepository:
    def __init__(self, connection: Connection, visibility: Visibility = EVERYTHING) -> None:
        self.db = connection
        self.visibility = visibility
        # What `known` read, for `items_and_locations` (a batch of stock documents).
        self._known_items: dict[str, Stored[Item]] = {}
        self._known_locations: dict[str, Stored[Location]] = {}

    def _page(
        self, query: Select[Any], order: Sequence[Any], limit: int, offset: int
    ) -> tuple[list[Any], int]:
        total = self.db.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = self.db.execute(query.order_by(*order).limit(limit).offset(offset)).mappings().all()
        return list(rows), int(total)

    # Items

    def item(self, sku: str, field: str = "sku") -> Stored[Item]:
        """The item with SKU `sku`, or else the one with barcode `sku` (a scanned code)."""
        row = self.db.execute(select(t.items).where(t.items.c.sku == sku)).mappings().first()
        if row is None:
            row = (
                self.db.execute(
                    select(t.items)
                    .join(t.item_barcodes, t.item_barcodes.c.item_id == t.items.c.id)
                    .where(t.item_barcodes.c.barcode == scanned(sku))
                )
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound("item", sku, field)
        return Stored(row["id"], item_from_row(row))

    def _by_barcode(self, refs: Sequence[str]) -> dict[str, RowMapping]:
        return items_by_barcode(self.db, refs)

    # Barcodes

    def barcodes(self, skus: Sequence[str]) -> dict[str, list[str]]:
        """The barcodes of the items with these SKUs, in order, by SKU, in one query (an item
        with none is left out)."""
        found: dict[str, list[str]] = {}
        if not skus:
            return found
        rows = self.db.execute(
            select(t.items.c.sku, t.item_barcodes.c.barcode)
            .join(t.item_barcodes, t.item_barcodes.c.item_id == t.items.c.id)
            .where(t.items.c.sku.in_(sorted(set(skus))))
            .order_by(t.item_barcodes.c.barcode)
        )
        for row in rows:
            found.setdefault(row.sku, []).append(row.barcode)
        return found

    def barcode_owner(self, barcode: str) -> str | None:
        """The SKU of the item that has `barcode`, if any."""
        return self.db.execute(
            select(t.items.c.sku)
            .join(t.item_barcodes, t.item_barcodes.c.item_id == t.items.c.id)
            .where(t.item_barcodes.c.barcode == barcode)
        ).scalar_one_or_none()

    def sku_taken(self, sku: str) -> bool:
        return self.db.execute(select(t.items.c.id).where(t.items.c.sku == sku)).first() is not None

    def add_barcode(self, item_id: int, barcode: str) -> None:
        self.db.execute(
            t.item_barcodes.insert().values(barcode=barcode, item_id=item_id, created_at=_now())
        )

    def remove_barcode(self, item_id: int, barcode: str) -> bool:
        deleted = self.db.execute(
            t.item_barcodes.delete().where(
                t.item_barcodes.c.item_id == item_id, t.item_barcodes.c.barcode == barcode
            )
        )
        return bool(deleted.rowcount)

    def items_and_locations(
        self, skus: Sequence[str], codes: Sequence[str]
    ) -> tuple[dict[str, Stored[Item]], dict[str, Stored[Location]]] | None:
        """Items and locations in one round trip (none when `known` read them all already);
        None when any of them is missing."""
        if set(skus) <= self._known_items.keys() and set(codes) <= self._known_locations.keys():
            return (
                {sku: self._known_items[sku] for sku in skus},
                {code: self._known_locations[code] for code in codes},
            )
        rows = (
            self.db.execute(
                _ITEMS_AND_LOCATIONS, {"skus": sorted(set(skus)), "codes": sorted(set(codes))}
            )
            .mappings()
            .all()
        )
        items = {r["sku"]: Stored(r["id"], item_from_row(r)) for r in rows}
        if missing := set(skus) - set(items):
            for ref, row in self._by_barcode(sorted(missing)).items():
                items[ref] = Stored(row["id"], item_from_row(row))
        locations = {
            r["location_code"]: Stored(
                r["location_id"],
                Location(
                    code=r["location_code"],
                    name=r["location_name"],
                    kind=LocationKind(r["location_kind"]),
                    allow_negative=r["location_allow_negative"],
                ),
            )
            for r in rows
        }
        if set(skus) - set(items) or set(codes) - set(locations):
            return None
        return items, locations

    def add_item(self, item: Item) -> Stored[Item]:
        if self.db.execute(select(t.items.c.id).where(t.items.c.sku == item.sku)).first():
            raise AlreadyExists("item", item.sku, "sku")
        now = _now()
        new_id = self.db.execute(
            t.items.insert().values(**_item_values(item), created_at=now, updated_at=now)
        ).inserted_primary_key
        assert new_id is not None
        return Stored(int(new_id[0]), item)

    def update_item(self, item: Item) -> None:
        self.db.execute(
            t.items.update()
            .where(t.items.c.sku == item.sku)
            .values(**_item_values(item), updated_at=_now())
        )

    def items(
        self,
        limit: int = 50,
        offset: int = 0,
        search: str | None = None,
        category: str | None = None,
        kind: str | None = None,
        policy: str | None = None,
        lot_tracked: bool | None = None,
        active: bool | None = None,
        order: ItemOrder | None = None,
    ) -> Page[Item]:
        query = select(t.items)
        if search:
            needle = search.lower()
            query = query.where(
                or_(
                    func.lower(t.items.c.sku).contains(needle, autoescape=True),
                    func.lower(t.items.c.name).contains(needle, autoescape=True),
                    t.items.c.id.in_(
                        select(t.item_barcodes.c.item_id).where(
                            t.item_barcodes.c.barcode == scanned(search)
                        )
                    ),
                )
            )
        for column, value in (
            (t.items.c.category, category),
            (t.items.c.kind, kind),
            (t.items.c.policy, policy),
            (t.items.c.lot_tracked, lot_tracked),
            (t.items.c.active, active),
        ):
            if value is not None:
                query = query.where(column == value)
        if order is None or (order.key == "sku" and not order.descending):
            rows, total = self._page(query, (t.items.c.sku,), limit, offset)
            return Page([item_from_row(r) for r in rows], total, limit, offset)
        total = self.db.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        sorted_query = ordered(query, order, visible_locations(self.visibility))
        found = self.db.execute(sorted_query.limit(limit).offset(offset)).mappings().all()
        return Page([item_from_row(r) for r in found], int(total), limit, offset)

    # Locations

    def location(self, code: str, field: str = "location") -> Stored[Location]:
        row = (
            self.db.execute(select(t.locations).where(t.locations.c.code == code))
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound("location", code, field)
        return Stored(row["id"], _location(row))

    def add_location(self, location: Location) -> Stored[Location]:
        if self.db.execute(
            select(t.locations.c.id).where(t.locations.c.code == location.code)
        ).first():
            raise AlreadyExists("location", location.code, "code")
        new_id = self.db.execute(
            t.locations.insert().values(
                code=location.code,
                name=location.name,
                kind=location.kind.value,
                allow_negative=location.allow_negative,
                created_at=_now(),
            )
        ).inserted_primary_key
        assert new_id is not None
        return Stored(int(new_id[0]), location)

    def update_location(self, location: Location) -> None:
        self.db.execute(
            t.locations.update()
            .where(t.locations.c.code == location.code)
            .values(name=location.name, allow_negative=location.allow_negative)
        )

    def locations(
        self,
        limit: int = 50,
        offset: int = 0,
        kind: str | None = None,
        physical: bool | None = None,
    ) -> Page[Location]:
        query = select(t.locations)
        if kind is not None:
            query = query.where(t.locations.c.kind == kind)
        if physical is not None:
            kinds = [k.value for k in PHYSICAL_KINDS]
            query = query.where(
                t.locations.c.kind.in_(kinds) if physical else t.locations.c.kind.not_in(kinds)
            )
        if self.visibility.locations is not None:
            # A limited user sees its own sites and the ledger's virtual locations.
            query = query.where(
                t.locations.c.code.in_(sorted(self.visibility.locations))
                | t.locations.c.kind.not_in([k.value for k in PHYSICAL_KINDS])
            )
        rows, total = self._page(query, (t.locations.c.id,), limit, offset)
        return Page([_location(r) for r in rows], total, limit, offset)

    # Suppliers

    def supplier(self, code: str, field: str = "supplier") -> Stored[Supplier]:
        row = (
            self.db.execute(select(t.suppliers).where(t.suppliers.c.code == code))
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound("supplier", code, field)
        return Stored(row["id"], _supplier(row))

    def add_supplier(self, supplier: Supplier) -> Stored[Supplier]:
        if self.db.execute(
            select(t.suppliers.c.id).where(t.suppliers.c.code == supplier.code)
        ).first():
            raise AlreadyExists("supplier", supplier.code, "code")
        new_id = self.db.execute(
            t.suppliers.insert().values(
                code=supplier.code,
                name=supplier.name,
                email=supplier.email,
                active=supplier.active,
                created_at=_now(),
            )
        ).inserted_primary_key
        assert new_id is not None
        return Stored(int(new_id[0]), supplier)

    def update_supplier(self, supplier: Supplier) -> None:
        self.db.execute(
            t.suppliers.update()
            .where(t.suppliers.c.code == supplier.code)
            .values(name=supplier.name, email=supplier.email, active=supplier.active)
        )

    def suppliers(
        self, limit: int = 50, offset: int = 0, active: bool | None = None
    ) -> Page[Supplier]:
        query = select(t.suppliers)
        if active is not None:
            query = query.where(t.suppliers.c.active == active)
        rows, total = self._page(query, (t.suppliers.c.code,), limit, offset)
        return Page([_supplier(r) for r in rows], total, limit, offset)

    # Supplier items

    def _supplier_items_query(self) -> Select[Any]:
        return (
            select(
                t.supplier_items,
                t.suppliers.c.code.label("supplier"),
                t.items.c.sku.label("sku"),
            )
            .join(t.suppliers, t.suppliers.c.id == t.supplier_items.c.supplier_id)
            .join(t.items, t.items.c.id == t.supplier_items.c.item_id)
        )

    def supplier_item(self, supplier: str, sku: str) -> SupplierItem:
        row = (
            self.db.execute(
                self._supplier_items_query().where(
                    t.suppliers.c.code == supplier, t.items.c.sku == sku
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound("supplier item", f"{sku} from {supplier}", "sku")
        return supplier_item_from_row(row)

    def put_supplier_item(self, terms: SupplierItem, create: bool) -> None:
        supplier = self.supplier(terms.supplier)
        item = self.item(terms.sku)
        values = {
            "supplier_sku": terms.supplier_sku,
            "price": terms.price,
            "lead_time_days": terms.lead_time_days,
            "moq": terms.moq,
            "pack_size": terms.pack_size,
            "priority": terms.priority,
            "price_breaks": [[str(b.min_quantity), str(b.price)] for b in terms.price_breaks],
        }
        exists = self.db.execute(
            select(t.supplier_items.c.id).where(
                t.supplier_items.c.supplier_id == supplier.id, t.supplier_items.c.item_id == item.id
            )
        ).first()
        if create:
            if exists:
                raise AlreadyExists("supplier item", f"{terms.sku} from {terms.supplier}", "sku")
            self.db.execute(
                t.supplier_items.insert().values(supplier_id=supplier.id, item_id=item.id, **values)
            )
        else:
            self.db.execute(
                t.supplier_items.update()
                .where(
                    t.supplier_items.c.supplier_id == supplier.id,
                    t.supplier_items.c.item_id == item.id,
                )
                .values(**values)
            )

    def supplier_items(
        self,
        limit: int = 50,
        offset: int = 0,
        supplier: str | None = None,
        sku: str | None = None,
    ) -> Page[SupplierItem]:
        query = self._supplier_items_query()
        if supplier is not None:
            query = query.where(t.suppliers.c.code == supplier)
        if sku is not None:
            query = query.where(t.items.c.sku == sku)
        rows, total = self._page(
            query, (t.items.c.sku, t.supplier_items.c.priority, t.suppliers.c.code), limit, offset
        )
        return Page([supplier_item_from_row(r) for r in rows], total, limit, offset)

    def ensure_location(self, code: str, name: str, kind: str) -> Place:
        """The physical location `code`, created on first use (quarantine, work in progress).

        Created with ON CONFLICT DO NOTHING, so two first uses at once both find the one row.
        """
        query = select(t.locations.c.id, t.locations.c.allow_negative).where(
            t.locations.c.code == code
        )
        row = self.db.execute(query).first()
        if row is None:
            self.db.execute(
                (postgresql.insert if self.db.dialect.name == "postgresql" else sqlite.insert)(
                    t.locations
                )
                .values(code=code, name=name, kind=kind, allow_negative=False, created_at=_now())
                .on_conflict_do_nothing()
            )
            row = self.db.execute(query).one()
        return Place(int(row.id), code, bool(row.allow_negative))

    # Units of measure

    def unit_factors(self, item_id: int) -> dict[str, Decimal]:
        """The item's other units: 1 unit = factor stock units."""
        rows = self.db.execute(
            select(t.item_units.c.unit, t.item_units.c.factor).where(
                t.item_units.c.item_id == item_id
            )
        ).all()
        return {r.unit: r.factor for r in rows}

    def put_unit(self, item_id: int, unit: str, factor: Decimal) -> None:
        insert = (postgresql.insert if self.db.dialect.name == "postgresql" else sqlite.insert)(
            t.item_units
        ).values(item_id=item_id, unit=unit, factor=factor)
        self.db.execute(
            insert.on_conflict_do_update(
                index_elements=["item_id", "unit"], set_={"factor": insert.excluded.factor}
            )
        )

    def known(
        self, skus: Sequence[str], codes: Sequence[str]
    ) -> tuple[dict[str, int], dict[str, Place]]:
        """The ids of the SKUs that exist and the physical locations among `codes`; unknown
        names are left out (whoever names them is refused on its own).

        What it reads answers `items_and_locations` for the rest of the transaction without
        another query: for a batch of stock documents, which change no item or location.
        """
        for row in self.db.execute(
            select(t.items).where(t.items.c.sku.in_(sorted(set(skus))))
        ).mappings():
            self._known_items[row["sku"]] = Stored(row["id"], item_from_row(row))
        if missing := set(skus) - self._known_items.keys():
            for ref, row in self._by_barcode(sorted(missing)).items():
                self._known_items[ref] = Stored(row["id"], item_from_row(row))
        for row in self.db.execute(
            select(t.locations).where(t.locations.c.code.in_(sorted(set(codes))))
        ).mappings():
            self._known_locations[row["code"]] = Stored(row["id"], _location(row))
        items = {sku: self._known_items[sku].id for sku in skus if sku in self._known_items}
        places = {
            code: Place(stored.id, code, stored.value.may_go_negative)
            for code in codes
            if (stored := self._known_locations.get(code)) is not None and stored.value.is_physical
        }
        return items, places

    def location_codes(self, codes: Sequence[str]) -> dict[str, int]:
        rows = self.db.execute(
            select(t.locations.c.code, t.locations.c.id).where(t.locations.c.code.in_(codes))
        ).all()
        return {code: int(id_) for code, id_ in rows}
