"""Order-quantity rules: MOQ and pack rounding, kanban sizing, shelf-life caps, MTO checks.

Vectorised over item-locations; numpy arrays (or scalars) in, arrays out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_EPS = 1e-9


def _f(x: npt.ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


@dataclass(frozen=True)
class RoundedQuantity:
    """A purchasable quantity and whether it could honour the need within the maximum."""

    quantity: FloatArray
    capped: BoolArray
    """The maximum forced the quantity below the rounded need (or to zero when no multiple of
    the pack between MOQ and the maximum exists)."""


def round_order_quantity(
    need: npt.ArrayLike,
    moq: npt.ArrayLike = 0.0,
    pack_size: npt.ArrayLike = 1.0,
    maximum: npt.ArrayLike = np.inf,
) -> RoundedQuantity:
    """Round a need up to something the supplier sells, without overshooting a maximum.

    q = pack·⌈max(need, MOQ)/pack⌉: never below the need, a whole number of packs, at least
    the MOQ. When q would exceed the maximum (storage space, budget, shelf life), the largest
    whole number of packs ≤ maximum is taken if it still reaches the MOQ, else nothing
    (the order is infeasible and flagged). A need ≤ 0 orders nothing. A pack size ≤ 0 means
    any quantity (no rounding).
    """
    n, m, pk, mx = np.broadcast_arrays(_f(need), _f(moq), _f(pack_size), _f(maximum))
    pack = np.where(pk > 0, pk, 1.0)
    rounds = pk > 0
    wanted = np.maximum(n, m)
    with np.errstate(over="ignore", invalid="ignore"):
        up = np.where(rounds, np.ceil(wanted / pack - _EPS) * pack, wanted)
        down = np.where(rounds & np.isfinite(mx), np.floor(mx / pack + _EPS) * pack, mx)
    over = up > mx + _EPS
    feasible_down = down >= m - _EPS
    q = np.where(over, np.where(feasible_down, down, 0.0), up)
    q = np.where(n > _EPS, q, 0.0)
    capped = (n > _EPS) & over
    return RoundedQuantity(quantity=q, capped=np.asarray(capped, dtype=np.bool_))


@dataclass(frozen=True)
class KanbanLoop:
    """Number of cards and the container size of each item's kanban loop."""

    cards: FloatArray
    container_size: FloatArray


def kanban_cards(
    demand_rate: npt.ArrayLike,
    lead_time: npt.ArrayLike,
    container_size: npt.ArrayLike,
    safety_factor: npt.ArrayLike = 0.1,
) -> KanbanLoop:
    """Kanban sizing: N = ⌈D·L·(1 + α)/C⌉, at least one card.

    D demand per period, L replenishment lead time in periods (including waiting and
    conveyance), α the safety factor (typically ≤ 0.1), C the container size (Monden 1983,
    *Toyota Production System*, ch. 2; Silver, Pyke & Thomas 2017, §16.6.3).
    """
    d, lt, c, a = np.broadcast_arrays(
        _f(demand_rate), _f(lead_time), _f(container_size), _f(safety_factor)
    )
    size = np.where(c > 0, c, 1.0)
    cards = np.maximum(np.ceil(d * lt * (1.0 + a) / size - _EPS), 1.0)
    return KanbanLoop(cards=cards, container_size=size)


def shelf_life_level(
    demand_rate: npt.ArrayLike, lead_time: npt.ArrayLike, shelf_life: npt.ArrayLike
) -> FloatArray:
    """Highest order-up-to level whose stock still sells before it expires: S ≤ D·(L + T).

    An order placed when the inventory position is raised to S arrives L periods later with
    the position down by the lead-time demand, so S − D·L is on hand after the receipt. With
    first-expired-first-out picking that stock sells within the shelf life T (periods,
    counted from receipt) only if S − D·L ≤ D·T (Silver, Pyke & Thomas 2017, §5.7 "limited
    shelf life": the same bound as Q ≤ D·T − SS for an order quantity Q on top of a safety
    stock SS, since S = D·L + SS + Q). Never negative; T = ∞ means no cap.
    """
    d, lt, t = np.broadcast_arrays(_f(demand_rate), _f(lead_time), _f(shelf_life))
    finite = np.isfinite(t)
    cap = np.full(d.shape, np.inf)
    cap[finite] = np.maximum(d[finite] * (np.maximum(lt[finite], 0.0) + t[finite]), 0.0)
    return cap


def lead_time_fits(
    lead_time_mean: npt.ArrayLike,
    lead_time_sd: npt.ArrayLike,
    customer_wait: npt.ArrayLike,
    confidence: npt.ArrayLike = 0.95,
) -> BoolArray:
    """Make/buy-to-order check: the supplier's lead time at `confidence` fits the accepted wait.

    An item with no buffer is only viable when L_α = E[L] + z_α·σ_L ≤ W, W the wait the
    customer accepts (normal approximation of the lead time; Hopp & Spearman 2011, §10.3).
    """
    m, s, w, c = np.broadcast_arrays(
        _f(lead_time_mean), _f(lead_time_sd), _f(customer_wait), _f(confidence)
    )
    z = special.ndtri(np.clip(c, 1e-9, 1 - 1e-9))
    return np.asarray(m + z * np.maximum(s, 0.0) <= w + _EPS, dtype=np.bool_)
