"""The demo's supplier that trades by EDI: Valley Dairy Co-op, with the sample interchanges in
`leanstock/demo/edi/` (an 855, an 856 with its lot, an 810) received against an order the
demo releases to it, so the EDI log, the order's life cycle and the three-way match's
variances all have something to show."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from importlib import resources

from leanstock.domain.edi import unit_code
from leanstock.services import edi, purchasing
from leanstock.services.ports import UnitOfWork

PARTNER = "VALLEYDAIRY"
SAMPLES = ("855.x12", "856.x12", "810.x12")


def sample(name: str) -> str:
    """A sample interchange of the demo, its `{...}` fields unfilled."""
    return resources.files("leanstock.demo").joinpath("edi", name).read_text(encoding="ascii")


def demo_edi(uow: UnitOfWork, today: date, warehouse: str) -> list[str]:
    """Make Valley Dairy a trading partner, release an order to it, send it (850) and receive
    its sample 855, 856 and 810; what each did."""
    edi.set_partner(uow, PARTNER, "ZZ", PARTNER, PARTNER, actor="demo")
    with uow:
        terms = uow.catalog.supplier_items(limit=1, supplier=PARTNER).items[0]
        item = uow.catalog.item(terms.sku).value
    quantity = max(terms.moq, Decimal(20))
    line = purchasing.NewPurchaseLine(terms.sku, quantity, warehouse)
    order = purchasing.add_to_draft(uow, PARTNER, [line], actor="demo")
    purchasing.release(uow, order.number, actor="demo")
    edi.outbound(uow, actor="demo")
    price = order.lines[0].price
    delivery = today + timedelta(days=2)
    billed = price + Decimal("0.10")
    fields = {
        "YYMMDD": today.strftime("%y%m%d"),
        "YYYYMMDD": today.strftime("%Y%m%d"),
        "ORDER": order.number,
        "SKU": terms.sku,
        "QTY": str(quantity),
        "UNIT": unit_code(item.unit, item.sku),
        "PRICE": str(price),
        "DELIVERY": delivery.strftime("%Y%m%d"),
        "LOT": f"VD{today:%y%m%d}",
        "EXPIRY": (delivery + timedelta(days=item.shelf_life_days or 30)).strftime("%Y%m%d"),
        "INVOICE_PRICE": str(billed),
        "TOTAL_CENTS": str(int((billed * quantity * 100).to_integral_value())),
    }
    done = []
    for name in SAMPLES:
        text = sample(name)
        for key, value in fields.items():
            text = text.replace("{" + key + "}", value)
        result = edi.receive(uow, text, actor="demo")
        done.append(
            f"{name}: {result.status.value} ({'; '.join(result.documents or result.reasons)})"
        )
    return done
