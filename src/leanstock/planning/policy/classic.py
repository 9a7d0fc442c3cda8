"""Classic single-item inventory models, vectorised over item-locations.

These are the textbook building blocks the planner composes: the economic order quantity
(with all-units price breaks), the newsvendor, the (r, Q) policy under the expected-inventory-
level (EIL) approximation, and the optimal (s, S) policy of Zheng & Federgruen (1991).
Every function takes numpy arrays (or scalars, broadcast together) and returns arrays, one
entry per item-location. Notation follows Snyder & Shen, *Fundamentals of Supply Chain
Theory* (2nd ed., 2019): K fixed cost per order, h holding cost per unit per period (or year),
p stock-out (backorder) cost per unit, λ demand rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special

from leanstock.planning.policy.distributions import (
    normal_loss,
    poisson_loss,
)

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike


def _f(x: ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


@dataclass(frozen=True)
class OrderQuantity:
    """An order quantity per item with its cost per period (ordering + holding [+ purchase])."""

    quantity: FloatArray
    cost: FloatArray


def eoq(order_cost: ArrayLike, holding_cost: ArrayLike, demand_rate: ArrayLike) -> OrderQuantity:
    """Economic order quantity and its optimal cost rate.

    Q* = √(2Kλ/h), g(Q*) = √(2Kλh) (Harris 1913; Snyder & Shen 2019, §3.2).
    Items with no fixed order cost or no demand get Q* = 0 (order exactly what is needed).
    """
    k, h, lam = np.broadcast_arrays(_f(order_cost), _f(holding_cost), _f(demand_rate))
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(h > 0, np.sqrt(np.maximum(2.0 * k * lam, 0.0) / h), np.inf)
    q = np.where((k <= 0) | (lam <= 0), 0.0, q)
    return OrderQuantity(quantity=q, cost=np.sqrt(np.maximum(2.0 * k * lam * h, 0.0)))


@dataclass(frozen=True)
class PriceBreakQuantity:
    """EOQ under an all-units discount: the order quantity, the unit price it earns, the cost."""

    quantity: FloatArray
    unit_price: FloatArray
    cost: FloatArray


def eoq_price_breaks(
    order_cost: ArrayLike,
    holding_rate: ArrayLike,
    demand_rate: ArrayLike,
    break_quantities: ArrayLike,
    unit_prices: ArrayLike,
) -> PriceBreakQuantity:
    """EOQ with all-units quantity discounts.

    Price c_j applies to the whole order when Q ≥ b_j (b_0 = 0 < b_1 < …). For each price,
    the holding cost is h_j = i·c_j and the best feasible quantity is
    Q_j = max(√(2Kλ/h_j), b_j), feasible only if Q_j < b_{j+1}; the cost rate is
    g_j = c_j·λ + Kλ/Q_j + h_j·Q_j/2, and the answer is the j with the least g_j
    (Snyder & Shen 2019, §3.4.2; Silver, Pyke & Thomas 2017, §5.5).

    `break_quantities` and `unit_prices` have shape (m,) for one schedule shared by all items or
    (n, m) per item, ascending breaks with the first at 0; pad unused trailing columns with NaN.
    """
    k = _f(order_cost)
    i = _f(holding_rate)
    lam = _f(demand_rate)
    b = _f(break_quantities)
    c = _f(unit_prices)
    n = np.broadcast_shapes(k.shape, i.shape, lam.shape, b.shape[:-1])
    k, i, lam = (np.broadcast_to(x, n)[..., None] for x in (k, i, lam))
    b = np.broadcast_to(b, (*n, b.shape[-1]))
    c = np.broadcast_to(c, (*n, c.shape[-1]))
    upper = np.concatenate([b[..., 1:], np.full((*n, 1), np.inf)], axis=-1)
    upper = np.where(np.isnan(upper), np.inf, upper)
    h = i * c
    with np.errstate(divide="ignore", invalid="ignore"):
        unconstrained = np.sqrt(2.0 * k * lam / h)
        q = np.maximum(unconstrained, b)
        cost = c * lam + k * lam / q + h * q / 2.0
    feasible = (q < upper) & ~np.isnan(c) & ~np.isnan(b)
    cost = np.where(feasible, cost, np.inf)
    best = np.argmin(cost, axis=-1)[..., None]
    return PriceBreakQuantity(
        quantity=np.take_along_axis(q, best, axis=-1)[..., 0],
        unit_price=np.take_along_axis(c, best, axis=-1)[..., 0],
        cost=np.take_along_axis(cost, best, axis=-1)[..., 0],
    )


@dataclass(frozen=True)
class BaseStock:
    """An order-up-to (base-stock) level per item and its expected cost per period."""

    level: FloatArray
    cost: FloatArray


def newsvendor_normal(
    mean: ArrayLike, sd: ArrayLike, holding_cost: ArrayLike, stockout_cost: ArrayLike
) -> BaseStock:
    """Newsvendor with normal demand N(μ, σ²).

    S* = μ + σ·z_α with α = p/(p + h) the critical ratio; expected cost
    g(S*) = (p + h)·σ·φ(z_α) (Snyder & Shen 2019, §4.3, eq. 4.24 and 4.35).
    """
    mu, s, h, p = np.broadcast_arrays(_f(mean), _f(sd), _f(holding_cost), _f(stockout_cost))
    z = special.ndtri(p / (p + h))
    phi = np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)
    return BaseStock(level=mu + s * z, cost=(p + h) * s * phi)


@dataclass(frozen=True)
class ReorderPointQuantity:
    """An (r, Q) policy per item: reorder point, order quantity and expected cost rate."""

    reorder_point: FloatArray
    quantity: FloatArray
    cost: FloatArray


def rq_eil(
    demand_rate: ArrayLike,
    demand_sd: ArrayLike,
    lead_time: ArrayLike,
    holding_cost: ArrayLike,
    stockout_cost: ArrayLike,
    order_cost: ArrayLike,
    iterations: int = 200,
) -> ReorderPointQuantity:
    """(r, Q) policy with normal lead-time demand under the EIL approximation.

    Lead-time demand D_L ~ N(λL, σ²L). Cost rate
    g(r, Q) = h(r − λL + Q/2) + Kλ/Q + pλ·n(r)/Q, with n(r) = E[(D_L − r)⁺];
    its first-order conditions Q = √(2λ(K + p·n(r))/h) and 1 − F(r) = Qh/(pλ) are solved by
    fixed-point iteration from the EOQ (Hadley & Whitin 1963; Snyder & Shen 2019, §5.3).
    """
    lam, sd, lt, h, p, k = np.broadcast_arrays(
        _f(demand_rate),
        _f(demand_sd),
        _f(lead_time),
        _f(holding_cost),
        _f(stockout_cost),
        _f(order_cost),
    )
    mu_l = lam * lt
    sd_l = sd * np.sqrt(lt)
    q = np.sqrt(2.0 * k * lam / h)
    r = mu_l
    for _ in range(iterations):
        tail = np.clip(q * h / (p * lam), 1e-15, 1.0)
        r = mu_l + sd_l * special.ndtri(1.0 - tail)
        q_next = np.sqrt(2.0 * lam * (k + p * normal_loss(r, mu_l, sd_l)) / h)
        if np.allclose(q_next, q, rtol=1e-13, atol=0.0):
            q = q_next
            break
        q = q_next
    n_r = normal_loss(r, mu_l, sd_l)
    cost = h * (r - mu_l + q / 2.0) + k * lam / q + p * lam * n_r / q
    return ReorderPointQuantity(reorder_point=r, quantity=q, cost=cost)


@dataclass(frozen=True)
class MinMax:
    """An (s, S) policy per item: order up to S when the inventory position is at or below s."""

    reorder_point: FloatArray
    order_up_to: FloatArray
    cost: FloatArray


def _poisson_expected_cost(mean: float, holding: float, stockout: float) -> tuple[FloatArray, int]:
    """G(y) = h·E[(y − D)⁺] + p·E[(D − y)⁺] for y = lo … hi, returned with the offset lo."""
    hi = int(np.ceil(mean + 12.0 * np.sqrt(mean) + 40.0)) * 3
    lo = -hi
    y = np.arange(lo, hi + 1, dtype=np.float64)
    backorders = poisson_loss(y, mean)
    g = holding * (y - mean + backorders) + stockout * backorders
    return g, lo


def zheng_federgruen(
    mean: ArrayLike, holding_cost: ArrayLike, stockout_cost: ArrayLike, order_cost: ArrayLike
) -> MinMax:
    """Optimal (s, S) policy for periodic review with Poisson demand and backorders.

    Per period: demand D ~ Poisson(μ), zero lead time, cost K per order, h per unit on hand and
    p per unit backordered at the end of the period. With the one-period cost G(y) and the
    renewal quantities m(0) = 1/(1 − p₀), m(j) = Σ_{l=1..j} p_l·m(j − l)/(1 − p₀),
    M(j) = Σ_{i<j} m(i), the cost of (s, S) is
    c(s, S) = [K + Σ_{j=0}^{S−s−1} m(j)·G(S − j)] / M(S − s),
    and the exact algorithm of Zheng & Federgruen (1991, Operations Research 39(4)) finds
    the optimal pair (also Snyder & Shen 2019, §4.6). A positive lead time is handled by the
    caller passing the mean over L + 1 periods for G (not needed by the planner).

    The search is sequential per item (it walks s and S one unit at a time), so this loops
    over items; the planner uses it only for items with a significant fixed order cost.
    """
    mu, h, p, k = np.broadcast_arrays(_f(mean), _f(holding_cost), _f(stockout_cost), _f(order_cost))
    shape = mu.shape
    out_s = np.empty(mu.size)
    out_big_s = np.empty(mu.size)
    out_c = np.empty(mu.size)
    for idx, (m_i, h_i, p_i, k_i) in enumerate(
        zip(mu.ravel(), h.ravel(), p.ravel(), k.ravel(), strict=True)
    ):
        out_s[idx], out_big_s[idx], out_c[idx] = _zheng_federgruen_one(
            float(m_i), float(h_i), float(p_i), float(k_i)
        )
    return MinMax(
        reorder_point=out_s.reshape(shape),
        order_up_to=out_big_s.reshape(shape),
        cost=out_c.reshape(shape),
    )


def _zheng_federgruen_one(mean: float, h: float, p: float, k: float) -> tuple[float, float, float]:
    g, lo = _poisson_expected_cost(mean, h, p)
    size = len(g)
    pmf = np.exp(special.xlogy(np.arange(size), mean) - mean - special.gammaln(np.arange(size) + 1))
    p0 = pmf[0]
    m = np.zeros(size)
    m[0] = 1.0 / (1.0 - p0)
    for j in range(1, size):
        m[j] = float(np.dot(pmf[1 : j + 1], m[j - 1 :: -1][:j])) / (1.0 - p0)
    big_m = np.concatenate([[0.0], np.cumsum(m)])

    def cost(s: int, big_s: int) -> float:
        span = big_s - s
        levels = np.arange(big_s, s, -1) - lo
        return float((k + np.dot(m[:span], g[levels])) / big_m[span])

    def gee(y: int) -> float:
        return float(g[y - lo])

    y_star = int(np.argmin(g)) + lo
    s = y_star
    big_s0 = y_star
    while True:
        s -= 1
        if cost(s, big_s0) <= gee(s):
            break
    c0 = cost(s, big_s0)
    big_s = big_s0 + 1
    while gee(big_s) <= c0:
        if cost(s, big_s) < c0:
            big_s0 = big_s
            while cost(s, big_s0) <= gee(s + 1):
                s += 1
            c0 = cost(s, big_s0)
        big_s += 1
    return float(s), float(big_s0), c0
