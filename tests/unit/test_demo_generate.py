"""The sample business: reproducible, realistic in shape, and always within its own stock."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import polars as pl
import pytest

from leanstock.demo import DemoBusiness, generate
from leanstock.demo.generate import easter, shortfalls
from leanstock.domain.catalog import ItemKind, LocationKind, Policy
from leanstock.domain.orders import BomLine, explode

END = date(2026, 6, 30)


@pytest.fixture(scope="module")
def business() -> DemoBusiness:
    return generate(seed=7, days=730, end=END)


@pytest.fixture(scope="module")
def small() -> DemoBusiness:
    return generate(seed=3, days=60, end=END)


def test_the_same_seed_gives_the_same_business(small: DemoBusiness) -> None:
    again = generate(seed=3, days=60, end=END)
    assert again.items == small.items
    assert again.supplier_items == small.supplier_items
    assert again.moves.equals(small.moves)
    assert again.demand.equals(small.demand)
    assert again.purchase_orders.equals(small.purchase_orders)


def test_another_seed_gives_another_business(small: DemoBusiness) -> None:
    other = generate(seed=4, days=60, end=END)
    assert other.items != small.items
    assert not other.moves.equals(small.moves)


def test_the_catalog_has_about_200_items_bought_made_perishable_and_lot_tracked(
    business: DemoBusiness,
) -> None:
    items = business.items
    assert 180 <= len(items) <= 220
    assert len({i.sku for i in items}) == len(items)
    made = [i for i in items if i.kind is ItemKind.MADE]
    assert 20 <= len(made) <= 40
    perishable = [i for i in items if i.shelf_life_days is not None]
    assert len(perishable) >= 40
    assert all(i.lot_tracked for i in perishable)
    assert any(i.lot_tracked and i.shelf_life_days is None for i in items)
    assert {i.unit for i in items} >= {"each", "kg", "l"}


def test_there_is_a_warehouse_and_two_stores(business: DemoBusiness) -> None:
    kinds = sorted(loc.kind for loc in business.locations)
    assert kinds == [LocationKind.STORE, LocationKind.STORE, LocationKind.WAREHOUSE]


def test_eight_suppliers_sell_each_bought_item_on_one_or_two_sets_of_terms(
    business: DemoBusiness,
) -> None:
    assert len(business.suppliers) == 8
    terms: dict[str, list[tuple[int, str]]] = {}
    for t in business.supplier_items:
        terms.setdefault(t.sku, []).append((t.priority, t.supplier))
    for item in business.items:
        offered = sorted(terms.get(item.sku, []))
        if item.kind is ItemKind.MADE:
            assert offered == []
        else:
            assert [p for p, _ in offered] in ([1], [1, 2])
            assert len({s for _, s in offered}) == len(offered)
    assert sum(len(t) == 2 for t in terms.values()) >= 20
    assert len({t.lead_time_days for t in business.supplier_items}) >= 5


def test_the_history_spans_two_years(business: DemoBusiness) -> None:
    days = business.moves["day"]
    assert days.min() == END - timedelta(days=729) == business.start
    assert days.max() == END == business.end
    assert business.moves.height > 100_000
    assert {"receipt", "shipment", "transfer", "production", "consumption", "scrap"} <= set(
        business.moves["kind"]
    )


def test_stores_sell_more_at_weekends(business: DemoBusiness) -> None:
    per_day = (
        business.demand.filter(pl.col("location") != "WH")
        .group_by("day")
        .agg(pl.col("demanded").cast(pl.Float64).sum())
        .with_columns(weekend=pl.col("day").dt.weekday() >= 6)
        .group_by("weekend")
        .agg(pl.col("demanded").mean())
    )
    means = dict(per_day.iter_rows())
    assert means[True] > 1.2 * means[False]


def test_slow_movers_sell_on_few_days(business: DemoBusiness) -> None:
    slow = business.profiles.filter(pl.col("pattern") == "intermittent")["sku"]
    assert len(slow) >= 8
    zero_share = (
        business.demand.filter(pl.col("sku").is_in(slow.implode()), pl.col("location") != "WH")
        .group_by("sku", "location")
        .agg((pl.col("demanded") == 0).mean().alias("zeros"))
    )
    assert (zero_share["zeros"] > 0.6).all()


def test_christmas_lines_sell_in_november_and_december(business: DemoBusiness) -> None:
    christmas = business.profiles.filter(pl.col("season") == "christmas")["sku"]
    sold = business.shipments.filter(pl.col("sku").is_in(christmas.implode())).with_columns(
        season=pl.col("day").dt.month() >= 11, quantity=pl.col("quantity").cast(pl.Float64)
    )
    in_season = sold.filter(pl.col("season"))["quantity"].sum()
    assert in_season > 0.8 * float(sold["quantity"].sum())


def test_easter_falls_on_its_sunday() -> None:
    assert [easter(y) for y in (2024, 2025, 2026)] == [
        date(2024, 3, 31),
        date(2025, 4, 20),
        date(2026, 4, 5),
    ]


def test_no_move_takes_more_than_the_simulated_stock_holds(business: DemoBusiness) -> None:
    assert shortfalls(business.moves).is_empty()


def test_shortfalls_finds_a_shipment_beyond_stock(small: DemoBusiness) -> None:
    first = small.shipments.row(0, named=True)
    extra = pl.DataFrame([{**first, "quantity": Decimal("1000000")}], schema=small.moves.schema)
    short = shortfalls(pl.concat([small.moves, extra]))
    assert short.filter(pl.col("sku") == first["sku"]).height > 0


def test_what_was_served_is_what_was_shipped_or_used(business: DemoBusiness) -> None:
    dropped = {i.sku for i in business.items if i.policy is Policy.DROP_SHIP}
    served = (
        business.demand.filter(pl.col("served") > 0, ~pl.col("sku").is_in(dropped))
        .select("day", "sku", "location", "served")
        .sort("day", "sku", "location")
    )
    moved = (
        business.moves.filter(
            pl.col("kind").is_in(["shipment", "consumption"]),
            ~pl.col("reference").str.starts_with("BAKE-"),  # the kitchen's use of ingredients
        )
        .group_by("day", "sku", pl.col("source").alias("location"))
        .agg(pl.col("quantity").sum().alias("served"))
        .sort("day", "sku", "location")
    )
    assert served.with_columns(pl.col("served").cast(pl.Float64)).equals(
        moved.with_columns(pl.col("served").cast(pl.Float64))
    )
    assert (business.demand["served"] <= business.demand["demanded"]).all()


def test_lots_are_never_shipped_after_expiry_and_are_scrapped_on_their_last_day(
    business: DemoBusiness,
) -> None:
    dated = business.moves.filter(pl.col("expires_on").is_not_null())
    assert (dated["day"] <= dated["expires_on"]).all()
    scrapped = business.moves.filter(pl.col("kind") == "scrap")
    assert scrapped.height > 0
    assert (scrapped["reason"] == "expiry").all()
    assert (scrapped["day"] == scrapped["expires_on"]).all()


def test_lot_tracked_items_always_move_with_a_lot(business: DemoBusiness) -> None:
    tracked = {i.sku for i in business.items if i.lot_tracked}
    moves = business.moves
    assert moves.filter(pl.col("sku").is_in(tracked))["lot"].null_count() == 0
    assert (
        moves.filter(~pl.col("sku").is_in(tracked))["lot"].null_count()
        == moves.filter(~pl.col("sku").is_in(tracked)).height
    )


def test_quantities_are_positive_and_exact_to_the_gram(business: DemoBusiness) -> None:
    quantities = business.moves["quantity"]
    assert isinstance(quantities.dtype, pl.Decimal)
    assert quantities.dtype.scale == 3
    assert all(isinstance(q, Decimal) for q in quantities.head(100))
    assert (quantities > 0).all()
    counted = {i.sku for i in business.items if i.unit == "each"}
    each = business.moves.filter(pl.col("sku").is_in(counted))["quantity"]
    assert (each.cast(pl.Float64) % 1 == 0).all()


def test_receipts_come_from_suppliers_with_order_and_promise_dates(
    business: DemoBusiness,
) -> None:
    receipts = business.receipts
    assert set(receipts["source"]) == {"supplier"}
    assert set(receipts["partner"]) == {s.code for s in business.suppliers}
    assert receipts["ordered_on"].null_count() == 0
    assert (receipts["ordered_on"] < receipts["promised_on"]).all()
    assert (receipts["day"] >= receipts["promised_on"]).all()
    late = receipts.filter(pl.col("day") > pl.col("promised_on")).height
    assert 0 < late < receipts.height / 2


def test_every_made_item_has_a_recipe_of_the_bakery_s_own_ingredients(
    small: DemoBusiness,
) -> None:
    items = {item.sku: item for item in small.items}
    made = {sku for sku, item in items.items() if item.kind is ItemKind.MADE}
    boms = {bom.sku: bom for bom in small.boms}
    assert set(boms) == made
    lines = {
        sku: [BomLine(sku, component, quantity) for component, quantity in bom.lines]
        for sku, bom in boms.items()
    }
    for sku in made:
        needs = explode(sku, Decimal(1), lines)
        leaves = {r.sku for r in needs if r.sku not in made}
        assert leaves, sku
        # Every ingredient is bought from a supplier and counted as the recipe counts it.
        assert all(items[c].kind is ItemKind.BOUGHT for c in leaves)
        assert all(
            r.quantity == r.quantity.to_integral_value()
            for r in needs
            if items[r.sku].unit == "each"
        ), sku
    sourdough = next(s for s, i in items.items() if i.name == "Sourdough loaf")
    flour = {items[c].name for c, _ in boms[sourdough].lines}
    assert "Strong white bread flour" in flour
    # A sandwich is made from a baguette that is baked first: two levels.
    sandwich = next(s for s, i in items.items() if i.name == "Ham and cheese sandwich")
    assert {r.level for r in explode(sandwich, Decimal(1), lines)} == {1, 2}


def _route(business: DemoBusiness, route: str) -> set[str]:
    return set(business.profiles.filter(pl.col("route") == route)["sku"])


def test_the_kitchen_s_bakes_take_their_ingredients_by_the_recipes(
    business: DemoBusiness,
) -> None:
    recipes = {bom.sku: dict(bom.lines) for bom in business.boms}
    bakes = business.moves.filter(pl.col("reference").str.starts_with("BAKE-"))
    made = bakes.filter(pl.col("kind") == "production")
    used = bakes.filter(pl.col("kind") == "consumption")
    assert made.height > 1000
    assert used.height > made.height
    # Made in the warehouse kitchen, from its own stock of ingredients.
    assert set(made["source"]) == {"production"}
    assert set(made["target"]) == {"WH"}
    assert set(used["source"]) == {"WH"}
    assert set(used["target"]) == {"production"}
    expected: dict[tuple[str, str], Decimal] = {}
    for reference, sku, quantity in made.select("reference", "sku", "quantity").iter_rows():
        for component, per_unit in recipes[sku].items():
            key = (reference, component)
            expected[key] = expected.get(key, Decimal(0)) + quantity * per_unit
    taken = used.group_by("reference", "sku").agg(pl.col("quantity").sum())
    assert {(r, c): q for r, c, q in taken.iter_rows()} == {
        key: q for key, q in expected.items() if q > 0
    }


def test_ingredients_are_bought_into_the_warehouse_and_used_only_by_its_bakes(
    business: DemoBusiness,
) -> None:
    ingredients = _route(business, "ingredient")
    assert {"FLR-001", "FRS-001", "FRS-008"} <= ingredients  # flour, butter, eggs
    moves = business.moves.filter(pl.col("sku").is_in(ingredients))
    assert set(moves["kind"]) <= {"adjustment", "receipt", "consumption", "scrap"}
    assert set(moves["source"]) | set(moves["target"]) <= {
        "WH",
        "adjustment",
        "supplier",
        "production",
        "scrap",
    }
    receipts = moves.filter(pl.col("kind") == "receipt")
    assert set(receipts["sku"]) == ingredients  # every ingredient is bought again and again
    used = moves.filter(pl.col("kind") == "consumption")
    assert used["reference"].str.starts_with("BAKE-WH-").all()
    tracked = {i.sku for i in business.items if i.lot_tracked}
    perishable = {"FRS-001", "FRS-003", "FRS-008"}  # butter, milk, eggs
    assert perishable <= tracked
    assert moves.filter(pl.col("sku").is_in(perishable))["lot"].null_count() == 0


def test_breads_are_baked_daily_at_the_warehouse_and_sent_to_the_stores_by_transfer(
    business: DemoBusiness,
) -> None:
    items = {i.sku: i for i in business.items}
    breads = [sku for sku in _route(business, "made") if sku.startswith("BRD-")]
    assert breads
    assert all(items[sku].policy is Policy.PERIODIC for sku in breads)
    moves = business.moves.filter(pl.col("sku").is_in(breads))
    made = moves.filter(pl.col("kind") == "production")
    assert set(made["target"]) == {"WH"}
    open_days = business.demand.filter(pl.col("demanded") > 0)["day"].n_unique()
    assert made.filter(pl.col("sku") == "BRD-001")["day"].n_unique() >= 0.9 * open_days
    sent = moves.filter(pl.col("kind") == "transfer")
    assert set(sent["source"]) == {"WH"}
    assert set(sent["target"]) == {"STORE-N", "STORE-S"}
    # What a store sells or scraps of its bread it got by transfer, and nothing else.
    into_stores = moves.filter(pl.col("target").str.starts_with("STORE"))
    assert set(into_stores["kind"]) == {"transfer"}
    sold = moves.filter(pl.col("kind") == "shipment")
    assert set(sold["source"]) == {"STORE-N", "STORE-S"}
    assert sold["quantity"].sum() <= sent["quantity"].sum() <= made["quantity"].sum()


def test_cakes_are_made_to_order_for_the_day_s_online_orders(business: DemoBusiness) -> None:
    items = {i.sku: i for i in business.items}
    cakes = _route(business, "made_to_order")
    assert cakes
    assert all(items[s].policy is Policy.MAKE_TO_ORDER for s in cakes)
    assert all(items[s].kind is ItemKind.MADE for s in cakes)
    moves = business.moves.filter(pl.col("sku").is_in(cakes))
    assert set(moves["kind"]) == {"production", "shipment"}  # never stocked, never scrapped
    made = (
        moves.filter(pl.col("kind") == "production")
        .group_by("day", "sku")
        .agg(pl.col("quantity").sum())
        .sort("day", "sku")
    )
    served = (
        business.demand.filter(pl.col("sku").is_in(cakes), pl.col("served") > 0)
        .select("day", "sku", pl.col("served").alias("quantity"))
        .sort("day", "sku")
    )
    assert made.height > 100
    assert made.with_columns(pl.col("quantity").cast(pl.Float64)).equals(
        served.with_columns(pl.col("quantity").cast(pl.Float64))
    )


def test_coffee_equipment_is_drop_shipped_from_the_supplier_to_the_customer(
    business: DemoBusiness,
) -> None:
    items = {i.sku: i for i in business.items}
    dropped = _route(business, "drop_ship")
    assert dropped
    assert all(items[s].category == "equipment" for s in dropped)
    assert all(items[s].policy is Policy.DROP_SHIP for s in dropped)
    moves = business.moves.filter(pl.col("sku").is_in(dropped))
    assert moves.height > 0
    assert set(moves["kind"]) == {"receipt"}
    assert set(moves["source"]) == {"supplier"}
    assert set(moves["target"]) == {"customer"}
    lines = business.purchase_orders.filter(pl.col("sku").is_in(dropped))
    assert lines["drop_ship"].all()
    assert not business.purchase_orders.filter(~pl.col("sku").is_in(dropped))["drop_ship"].any()
    # One purchase order per day's sales of a line, delivered in full, some of them late.
    asked = business.demand.filter(pl.col("sku").is_in(dropped), pl.col("demanded") > 0)
    assert lines.height == asked.height
    assert lines["ordered"].sum() == asked["demanded"].sum()
    delivered = lines.filter(pl.col("received_on").is_not_null())
    assert (delivered["received"] == delivered["ordered"]).all()
    assert moves["quantity"].sum() == delivered["received"].sum()


def test_every_policy_fits_how_the_item_is_supplied(business: DemoBusiness) -> None:
    boms = {bom.sku for bom in business.boms}
    sold = {t.sku for t in business.supplier_items}
    route = dict(business.profiles.select("sku", "route").iter_rows())
    for item in business.items:
        if item.kind is ItemKind.MADE:
            assert item.sku in boms, item.sku
            assert item.sku not in sold, item.sku
            assert item.policy in (Policy.PERIODIC, Policy.MAKE_TO_ORDER), item.sku
            assert (item.policy is Policy.MAKE_TO_ORDER) == (route[item.sku] == "made_to_order")
        else:
            assert item.sku in sold, item.sku
            assert item.sku not in boms, item.sku
            assert item.policy is not Policy.MAKE_TO_ORDER, item.sku
            assert (item.policy is Policy.DROP_SHIP) == (route[item.sku] == "drop_ship")
