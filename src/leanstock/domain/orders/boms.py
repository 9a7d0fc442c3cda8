"""Bills of materials: what goes into one unit of a made item, and their explosion."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from leanstock.domain.errors import InvalidInput
from leanstock.domain.orders.common import ZERO
from leanstock.domain.quantities import QUANTUM, positive


def _tidy(value: Decimal) -> Decimal:
    """Rounded up to six places, without trailing zeros or exponent (2.5, 8 — not 8.000000)."""
    rounded = value.quantize(QUANTUM, rounding=ROUND_CEILING)
    if rounded == rounded.to_integral_value():
        return rounded.quantize(Decimal(1))
    return rounded.normalize()


@dataclass(frozen=True)
class BomLine:
    """`quantity` of `component` goes into one unit of `parent`; `scrap` of it is lost on the way.

    scrap is the fraction of the component issued that does not end up in good product, so
    the gross requirement per unit is quantity / (1 − scrap) (yield = 1 − scrap).
    """

    parent: str
    component: str
    quantity: Decimal
    scrap: Decimal = ZERO

    def __post_init__(self) -> None:
        object.__setattr__(self, "quantity", positive(self.quantity))
        if not ZERO <= self.scrap < 1:
            raise InvalidInput(
                f"scrap of {self.component} must be at least 0 and below 1, not {self.scrap}.",
                "scrap",
            )
        if self.parent == self.component:
            raise InvalidInput(f"{self.parent} cannot be a component of itself.", "component")

    def gross(self, parent_quantity: Decimal) -> Decimal:
        """Component to issue for `parent_quantity`, rounded up to the sixth decimal place."""
        return _tidy(parent_quantity * self.quantity / (1 - self.scrap))


@dataclass(frozen=True)
class Requirement:
    sku: str
    quantity: Decimal
    level: int
    parent: str


def explode(
    sku: str, quantity: Decimal, boms: Mapping[str, Sequence[BomLine]]
) -> list[Requirement]:
    """Every component, at every level, that `quantity` of `sku` needs (gross of scrap).

    Depth first, in BOM order. Items without a BOM are leaves (bought); a cycle is an error.
    """
    found: list[Requirement] = []

    def walk(parent: str, amount: Decimal, level: int, path: tuple[str, ...]) -> None:
        for line in boms.get(parent, ()):
            if line.component in path:
                raise InvalidInput(
                    f"The bill of materials loops: {' → '.join((*path, line.component))}.",
                    "component",
                )
            need = line.gross(amount)
            found.append(Requirement(line.component, need, level, parent))
            walk(line.component, need, level + 1, (*path, line.component))

    walk(sku, quantity, 1, (sku,))
    return found
