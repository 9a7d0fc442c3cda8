"""What the sample business sells and uses: a bakery-café chain with a shop and an online store.

Families of items share how they are supplied, where they are demanded and how that demand
moves over the year; the generator draws each item's own level, trend and costs from the
family's ranges. The numbers are plausible for a two-store bakery-café, not measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Route(StrEnum):
    """How an item is supplied, and where it is stocked."""

    WAREHOUSE = "warehouse"  # the warehouse buys, the stores get transfers from it
    INGREDIENT = "ingredient"  # the warehouse kitchen buys it and uses it in its bakes
    MADE = "made"  # baked to stock every morning in the warehouse kitchen, sent to the stores
    MADE_TO_ORDER = "made_to_order"  # baked in the warehouse kitchen for each order (online)
    DROP_SHIP = "drop_ship"  # sold online, delivered by the supplier straight to the customer


class Outflow(StrEnum):
    """Where demanded stock goes: to customers, or into the bakery's own production."""

    SHIPMENT = "shipment"
    CONSUMPTION = "consumption"


class Season(StrEnum):
    NONE = "none"
    CHRISTMAS = "christmas"
    SUMMER = "summer"
    EASTER = "easter"
    AUTUMN = "autumn"


@dataclass(frozen=True)
class SupplierProfile:
    """A supplier and how it really delivers: late with `p_late` (by 1 + Poisson(`delay`) days),
    short with `p_short` (50-90 % of the line)."""

    code: str
    name: str
    email: str
    lead_time_days: int
    p_late: float
    delay: float
    p_short: float


SUPPLIERS: tuple[SupplierProfile, ...] = (
    SupplierProfile(
        "MILLBROOK", "Millbrook Flour Mills", "orders@millbrook.example", 3, 0.05, 1, 0.02
    ),
    SupplierProfile(
        "VALLEYDAIRY", "Valley Dairy Co-op", "dispatch@valleydairy.example", 1, 0.03, 0.5, 0.05
    ),
    SupplierProfile("SWEETCO", "Sweet & Co Ingredients", "sales@sweetco.example", 5, 0.15, 2, 0.08),
    SupplierProfile(
        "ROASTHOUSE", "Roast House Coffee", "wholesale@roasthouse.example", 4, 0.08, 1, 0.03
    ),
    SupplierProfile(
        "LEAFTEA", "Leaf & Kettle Tea Importers", "trade@leafkettle.example", 10, 0.30, 4, 0.10
    ),
    SupplierProfile(
        "PACKRIGHT", "PackRight Packaging", "orders@packright.example", 7, 0.05, 2, 0.02
    ),
    SupplierProfile(
        "HEARTH", "Hearth Homeware Wholesale", "trade@hearth.example", 14, 0.25, 5, 0.05
    ),
    SupplierProfile(
        "CASHCARRY", "Metro Cash & Carry", "accounts@metrocc.example", 2, 0.02, 1, 0.02
    ),
)


@dataclass(frozen=True)
class Name:
    """One item of a family, with what differs from the family."""

    name: str
    base: float = 1.0  # multiplies the family's demand level
    unit: str | None = None
    shelf_life_days: int | None = None
    pack: int | None = None


def names(*plain: str) -> tuple[Name, ...]:
    return tuple(Name(n) for n in plain)


@dataclass(frozen=True)
class Family:
    prefix: str
    category: str
    items: tuple[Name, ...]
    route: Route
    outflow: Outflow
    base: tuple[float, float]  # units per day at the main store
    cost: tuple[float, float]
    supplier: str | None = None
    backup: str | None = None
    backup_share: float = 0.0
    unit: str = "each"
    online: bool = False  # also sold online, shipped from the warehouse
    lot_tracked: bool = False
    shelf_life_days: int | None = None
    pack: int = 1
    moq_packs: tuple[int, int] = (1, 1)
    season: Season = Season.NONE
    peak_day_of_year: int = 15
    amplitude: tuple[float, float] = (0.0, 0.1)
    intermittent: tuple[float, float] | None = None  # chance of a sale per day
    size: float = 1.0  # mean units per sale when intermittent
    promo_share: float = 0.0
    batch: int = 1  # bakes come in trays of `batch`
    policy: str = "reorder_point"


FAMILIES: tuple[Family, ...] = (
    Family(
        "COF",
        "coffee beans",
        tuple(
            Name(f"{origin} coffee beans {size}", base)
            for origin in (
                "Ethiopia Yirgacheffe",
                "Colombia Huila",
                "Brazil Cerrado",
                "Guatemala Antigua",
                "Kenya Nyeri",
                "Sumatra Mandheling",
                "Costa Rica Tarrazu",
                "Rwanda Huye",
                "House espresso",
                "Decaf Swiss water",
            )
            for size, base in (("250 g", 1.0), ("1 kg", 0.3))
        ),
        Route.WAREHOUSE,
        Outflow.SHIPMENT,
        (1.0, 3.5),
        (4.0, 9.0),
        "ROASTHOUSE",
        "CASHCARRY",
        0.3,
        online=True,
        lot_tracked=True,
        shelf_life_days=120,
        pack=6,
        moq_packs=(1, 2),
        amplitude=(0.05, 0.2),
        promo_share=0.25,
    ),
    Family(
        "TEA",
        "tea",
        tuple(
            Name(f"{t} loose tea 100 g")
            for t in (
                "English breakfast",
                "Earl grey",
                "Darjeeling",
                "Assam",
                "Sencha green",
                "Jasmine green",
                "Chamomile",
                "Peppermint",
                "Rooibos",
                "Chai spice",
            )
        ),
        Route.WAREHOUSE,
        Outflow.SHIPMENT,
        (0.4, 1.8),
        (2.5, 6.0),
        "LEAFTEA",
        "CASHCARRY",
        0.3,
        online=True,
        pack=12,
        moq_packs=(1, 3),
        amplitude=(0.15, 0.35),
        promo_share=0.15,
    ),
    Family(
        "HOM",
        "homeware",
        tuple(
            Name(f"Stoneware mug {c}")
            for c in ("sage", "slate", "cream", "terracotta", "ink", "blush")
        )
        + tuple(Name(f"Travel cup {c}", 0.7) for c in ("black", "forest", "sand", "sky"))
        + (
            Name("Cafetiere 3-cup", 0.4),
            Name("Cafetiere 8-cup", 0.3),
            Name("Pour-over dripper", 0.4),
            Name("Milk jug", 0.3),
        ),
        Route.WAREHOUSE,
        Outflow.SHIPMENT,
        (0.3, 1.2),
        (3.0, 14.0),
        "HEARTH",
        online=True,
        pack=6,
        moq_packs=(1, 2),
        amplitude=(0.1, 0.3),
        peak_day_of_year=350,
        promo_share=0.2,
    ),
    Family(
        "EQP",
        "equipment",
        names(
            "Burr grinder", "Hand grinder", "Home espresso machine", "Milk frother", "Coffee scale"
        ),
        Route.DROP_SHIP,
        Outflow.SHIPMENT,
        (1.0, 1.0),
        (25.0, 220.0),
        "HEARTH",
        online=True,
        lot_tracked=True,
        intermittent=(0.03, 0.10),
        size=1.2,
        amplitude=(0.1, 0.3),
        peak_day_of_year=350,
        policy="drop_ship",
    ),
    Family(
        "BK",
        "books",
        names(
            "Sourdough at Home",
            "The Cafe Kitchen",
            "Cakes for Every Season",
            "Coffee: A Field Guide",
            "Bread Basics",
            "Nordic Baking",
        ),
        Route.WAREHOUSE,
        Outflow.SHIPMENT,
        (1.0, 1.0),
        (8.0, 16.0),
        "HEARTH",
        online=True,
        intermittent=(0.04, 0.18),
        size=1.3,
        amplitude=(0.1, 0.3),
        peak_day_of_year=350,
    ),
    Family(
        "PRS",
        "preserves",
        (
            Name("Strawberry jam"),
            Name("Raspberry jam"),
            Name("Apricot jam"),
            Name("Seville orange marmalade"),
            Name("Blackcurrant jam"),
            Name("Lemon curd", 0.6, shelf_life_days=60),
        ),
        Route.WAREHOUSE,
        Outflow.SHIPMENT,
        (0.4, 1.5),
        (1.5, 3.5),
        "SWEETCO",
        "CASHCARRY",
        0.4,
        online=True,
        lot_tracked=True,
        shelf_life_days=365,
        pack=12,
        promo_share=0.15,
    ),
    Family(
        "HNY",
        "honey",
        names("Wildflower honey", "Heather honey", "Manuka honey"),
        Route.WAREHOUSE,
        Outflow.SHIPMENT,
        (0.2, 0.8),
        (4.0, 18.0),
        "SWEETCO",
        online=True,
        lot_tracked=True,
        shelf_life_days=720,
        pack=6,
    ),
    Family(
        "CHO",
        "chocolate",
        names(
            "Dark chocolate 70%",
            "Milk chocolate",
            "Sea-salt caramel chocolate",
            "Orange dark chocolate",
            "Hazelnut milk chocolate",
            "White raspberry chocolate",
        ),
        Route.WAREHOUSE,
        Outflow.SHIPMENT,
        (1.0, 3.0),
        (0.9, 1.8),
        "SWEETCO",
        "CASHCARRY",
        0.5,
        online=True,
        pack=24,
        amplitude=(0.1, 0.25),
        peak_day_of_year=350,
        promo_share=0.3,
    ),
    Family(
        "BIS",
        "biscuits",
        names("Shortbread tin", "Ginger biscuits", "Almond biscotti", "Oat crumbles"),
        Route.WAREHOUSE,
        Outflow.SHIPMENT,
        (0.5, 1.5),
        (2.0, 5.0),
        "SWEETCO",
        online=True,
        pack=12,
        amplitude=(0.1, 0.3),
        peak_day_of_year=350,
        promo_share=0.25,
    ),
    Family(
        "DRK",
        "drinks",
        names(
            "Still water 500 ml",
            "Sparkling water 500 ml",
            "Orange juice 250 ml",
            "Apple juice 250 ml",
            "Ginger kombucha",
            "Berry kombucha",
            "Cola 330 ml",
            "Lemonade 330 ml",
        ),
        Route.WAREHOUSE,
        Outflow.SHIPMENT,
        (4.0, 14.0),
        (0.3, 1.1),
        "CASHCARRY",
        pack=24,
        moq_packs=(1, 4),
        amplitude=(0.25, 0.45),
        peak_day_of_year=196,
        promo_share=0.2,
    ),
    Family(
        "SNK",
        "snacks",
        names(
            "Salted crisps",
            "Salt and vinegar crisps",
            "Mixed nuts 50 g",
            "Protein bar",
            "Flapjack",
            "Dried mango",
            "Trail mix",
            "Oat bar",
        ),
        Route.WAREHOUSE,
        Outflow.SHIPMENT,
        (2.0, 7.0),
        (0.4, 1.2),
        "CASHCARRY",
        "SWEETCO",
        0.3,
        pack=24,
        moq_packs=(1, 2),
        amplitude=(0.0, 0.1),
        promo_share=0.3,
    ),
    Family(
        "XMS",
        "christmas",
        names(
            "Advent calendar",
            "Gingerbread house kit",
            "Panettone 750 g",
            "Christmas mug",
            "Mulled wine spice tin",
            "Candy canes",
            "Festive gift hamper",
            "Chocolate coins",
            "Christmas pudding",
            "Festive tea tin",
        ),
        Route.WAREHOUSE,
        Outflow.SHIPMENT,
        (0.8, 3.0),
        (2.0, 25.0),
        "HEARTH",
        online=True,
        pack=6,
        season=Season.CHRISTMAS,
        promo_share=0.1,
    ),
    Family(
        "SUM",
        "summer",
        names(
            "Peach iced tea",
            "Lemon iced tea",
            "Cold brew can",
            "Picnic tumbler",
            "Reusable straw set",
            "Ice lolly mould",
            "Elderflower cordial",
            "Frappe syrup",
        ),
        Route.WAREHOUSE,
        Outflow.SHIPMENT,
        (1.0, 5.0),
        (0.8, 6.0),
        "CASHCARRY",
        pack=12,
        season=Season.SUMMER,
        promo_share=0.2,
    ),
    Family(
        "EGG",
        "easter",
        names("Small chocolate Easter egg", "Large chocolate Easter egg", "Mini eggs bag"),
        Route.WAREHOUSE,
        Outflow.SHIPMENT,
        (2.0, 6.0),
        (1.0, 7.0),
        "SWEETCO",
        online=True,
        pack=12,
        season=Season.EASTER,
    ),
    Family(
        "FLR",
        "flour and grains",
        names(
            "Strong white bread flour",
            "Plain flour",
            "Wholemeal flour",
            "Rye flour",
            "Spelt flour",
            "Type 00 flour",
            "Rolled oats",
            "Semolina",
        ),
        Route.INGREDIENT,
        Outflow.CONSUMPTION,
        (2.0, 18.0),
        (0.6, 2.2),
        "MILLBROOK",
        "CASHCARRY",
        0.6,
        unit="kg",
        pack=25,
        moq_packs=(2, 4),
        amplitude=(0.05, 0.15),
        policy="periodic",
    ),
    Family(
        "SUG",
        "sugar and salt",
        (
            Name("Caster sugar"),
            Name("Icing sugar", 0.5),
            Name("Light brown sugar", 0.4),
            Name("Demerara sugar", 0.2),
            Name("Fine sea salt", 0.15, pack=5),
        ),
        Route.INGREDIENT,
        Outflow.CONSUMPTION,
        (3.0, 8.0),
        (0.8, 2.0),
        "SWEETCO",
        "CASHCARRY",
        0.6,
        unit="kg",
        pack=25,
        amplitude=(0.05, 0.15),
        peak_day_of_year=350,
    ),
    Family(
        "BAK",
        "baking",
        names(
            "Dark chocolate chips",
            "Cocoa powder",
            "Ground almonds",
            "Hazelnuts",
            "Walnuts",
            "Raisins",
            "Sultanas",
            "Sunflower seeds",
            "Pumpkin seeds",
            "Sesame seeds",
            "Poppy seeds",
            "Ground cinnamon",
            "Dried yeast",
        ),
        Route.INGREDIENT,
        Outflow.CONSUMPTION,
        (0.2, 2.5),
        (3.0, 14.0),
        "SWEETCO",
        "CASHCARRY",
        0.4,
        unit="kg",
        lot_tracked=True,
        shelf_life_days=270,
        pack=5,
        amplitude=(0.05, 0.2),
        peak_day_of_year=350,
    ),
    Family(
        "FRS",
        "dairy and fresh",
        (
            Name("Unsalted butter", 1.0, "kg", 30, 10),
            Name("Salted butter", 0.3, "kg", 30, 10),
            Name("Whole milk", 6.0, "l", 7, 12),
            Name("Semi-skimmed milk", 3.0, "l", 7, 12),
            Name("Oat milk", 2.5, "l", 90, 12),
            Name("Double cream", 0.8, "l", 10, 6),
            Name("Cream cheese", 0.5, "kg", 21, 6),
            Name("Free-range eggs", 12.0, "each", 21, 30),
            Name("Greek yogurt", 0.6, "kg", 14, 6),
            Name("Strawberries", 0.8, "kg", 4, 4),
            Name("Lemons", 0.4, "kg", 14, 5),
            Name("Bramley apples", 0.6, "kg", 21, 10),
        ),
        Route.INGREDIENT,
        Outflow.CONSUMPTION,
        (3.0, 5.0),
        (0.9, 9.0),
        "VALLEYDAIRY",
        "CASHCARRY",
        0.25,
        unit="kg",
        lot_tracked=True,
        shelf_life_days=14,
        amplitude=(0.05, 0.15),
        policy="periodic",
    ),
    Family(
        "PKG",
        "packaging",
        (
            Name("Paper cup 8 oz", 1.0, pack=1000),
            Name("Paper cup 12 oz", 1.4, pack=1000),
            Name("Paper cup 16 oz", 0.6, pack=1000),
            Name("Cup lid 8 oz", 1.0, pack=1000),
            Name("Cup lid 12-16 oz", 2.0, pack=1000),
            Name("Cup sleeve", 1.2, pack=1000),
            Name("Paper bag small", 1.5, pack=500),
            Name("Paper bag medium", 0.8, pack=500),
            Name("Paper bag large", 0.3, pack=250),
            Name("Cake box small", 0.25, pack=100),
            Name("Cake box large", 0.1, pack=50),
            Name("Napkin", 3.0, pack=2000),
            Name("Wooden stirrer", 1.5, pack=1000),
            Name("Paper straw", 0.5, pack=500),
            Name("Carrier bag", 0.4, pack=250),
            Name("Food label", 1.0, pack=1000),
            Name("Till roll", 0.02, pack=20),
            Name("Disposable gloves", 0.3, pack=100),
        ),
        Route.WAREHOUSE,
        Outflow.CONSUMPTION,
        (90.0, 140.0),
        (0.01, 0.2),
        "PACKRIGHT",
        "CASHCARRY",
        0.3,
        moq_packs=(1, 2),
        amplitude=(0.05, 0.15),
        policy="kanban",
    ),
    Family(
        "BRD",
        "bread",
        (
            Name("Sourdough loaf"),
            Name("Baguette", 1.4),
            Name("Rye loaf", 0.5),
            Name("Wholemeal loaf", 0.6),
            Name("Seeded loaf", 0.6),
            Name("Focaccia", 0.5),
            Name("Brioche loaf", 0.4),
        ),
        Route.MADE,
        Outflow.SHIPMENT,
        (12.0, 30.0),
        (0.8, 2.0),
        shelf_life_days=1,
        batch=6,
        amplitude=(0.05, 0.12),
        policy="periodic",
    ),
    Family(
        "VIE",
        "viennoiserie",
        (
            Name("Croissant", 2.0),
            Name("Pain au chocolat", 1.4),
            Name("Almond croissant", 0.6),
            Name("Cinnamon bun"),
            Name("Cardamom bun", 0.7),
        ),
        Route.MADE,
        Outflow.SHIPMENT,
        (20.0, 40.0),
        (0.35, 0.9),
        shelf_life_days=1,
        batch=12,
        amplitude=(0.05, 0.12),
        promo_share=0.2,
        policy="periodic",
    ),
    Family(
        "CAK",
        "cakes",
        names(
            "Carrot cake",
            "Lemon drizzle cake",
            "Chocolate fudge cake",
            "Baked cheesecake",
            "Banana bread",
        ),
        Route.MADE_TO_ORDER,
        Outflow.SHIPMENT,
        (1.0, 3.0),
        (5.0, 10.0),
        online=True,
        shelf_life_days=3,
        amplitude=(0.05, 0.15),
        promo_share=0.2,
        policy="make_to_order",
    ),
    Family(
        "CKY",
        "cookies",
        names("Chocolate chip cookie", "Oat and raisin cookie", "Double chocolate cookie"),
        Route.MADE,
        Outflow.SHIPMENT,
        (10.0, 25.0),
        (0.2, 0.5),
        shelf_life_days=4,
        batch=12,
        amplitude=(0.05, 0.1),
        promo_share=0.3,
        policy="periodic",
    ),
    Family(
        "SAV",
        "savoury",
        names("Sausage roll", "Spinach and feta quiche", "Ham and cheese sandwich", "Falafel wrap"),
        Route.MADE,
        Outflow.SHIPMENT,
        (10.0, 25.0),
        (0.9, 2.0),
        shelf_life_days=1,
        batch=6,
        amplitude=(0.05, 0.15),
        peak_day_of_year=196,
        policy="periodic",
    ),
    Family(
        "SEA",
        "seasonal bakes",
        (
            Name("Hot cross bun", 2.0),
            Name("Mince pie", 1.5),
            Name("Stollen slice"),
            Name("Strawberry tart", 0.8),
            Name("Pumpkin loaf", 0.6),
        ),
        Route.MADE,
        Outflow.SHIPMENT,
        (8.0, 14.0),
        (0.4, 1.2),
        shelf_life_days=2,
        batch=6,
        policy="periodic",
    ),
)

SEASONAL_BAKES: dict[str, Season] = {
    "Hot cross bun": Season.EASTER,
    "Mince pie": Season.CHRISTMAS,
    "Stollen slice": Season.CHRISTMAS,
    "Strawberry tart": Season.SUMMER,
    "Pumpkin loaf": Season.AUTUMN,
    "Strawberries": Season.SUMMER,
    "Bramley apples": Season.AUTUMN,
}
"""Items whose season differs from their family's."""
