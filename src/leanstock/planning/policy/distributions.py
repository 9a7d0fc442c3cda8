"""Lead-time demand distributions, their loss functions and service-level inversions.

The buffer an item needs depends on the distribution of demand over its protection interval
P (lead time L, plus the review period R for periodic review). With per-period demand of mean
μ_d and variance σ_d², and a lead time of mean E[L] and variance Var[L], independent of demand,

    μ_P = μ_d·(E[L] + R),   σ_P² = (E[L] + R)·σ_d² + μ_d²·Var[L]

(Silver, Pyke & Thomas 2017, §7.9; Snyder & Shen 2019, §5.2.5). Smooth items use a normal
distribution; count demand with a small mean (intermittent, slow movers) uses a Poisson when
σ² ≤ μ and a negative binomial matched to (μ, σ²) otherwise, whose right skew is what lets a
lumpy item carry less than μ + z·σ for the same fill rate.

Service levels (Silver, Pyke & Thomas 2017, §7.4–7.7):
- cycle service level α: S = F_P⁻¹(α), the smallest level whose stock-out probability per
  replenishment cycle is at most 1 − α;
- fill rate β (share of demand served from the shelf): the expected shortage per replenishment
  cycle, ESPC(S) = n_P(S) − n_L(S) with n_X(S) = E[(X − S)⁺] the loss function, is held at or
  below (1 − β)·Q, Q the demand per cycle (Hadley & Whitin 1963; the n_L term removes the
  shortage already counted in the previous cycle and matters for low service or lumpy items).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import special

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

DISCRETE_MEAN_LIMIT = 50.0
"""Above this mean over the protection interval a count distribution is close enough to normal
(the normal approximation of the Poisson/negative binomial), which is also much cheaper."""

SQRT_2PI = float(np.sqrt(2.0 * np.pi))


def _f(x: npt.ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


def protection_moments(
    demand_mean: npt.ArrayLike,
    demand_sd: npt.ArrayLike,
    lead_time_mean: npt.ArrayLike,
    lead_time_sd: npt.ArrayLike,
    review_period: npt.ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """Mean and standard deviation of demand over the protection interval E[L] + R.

    μ_P = μ_d·(E[L] + R), σ_P = √((E[L] + R)·σ_d² + μ_d²·σ_L²) (Silver, Pyke & Thomas 2017,
    eq. 7.30 with R added to the lead time for periodic review, §7.9).
    """
    mu = _f(demand_mean)
    sd = _f(demand_sd)
    interval = _f(lead_time_mean) + _f(review_period)
    lt_sd = _f(lead_time_sd)
    mean = mu * interval
    var = interval * sd * sd + mu * mu * lt_sd * lt_sd
    return mean, np.sqrt(np.maximum(var, 0.0))


def normal_loss(level: npt.ArrayLike, mean: npt.ArrayLike, sd: npt.ArrayLike) -> FloatArray:
    """E[(X − S)⁺] for X ~ N(μ, σ²): σ·G(z), G(z) = φ(z) − z·(1 − Φ(z)), z = (S − μ)/σ.

    Standard normal loss function (Silver, Pyke & Thomas 2017, App. II). σ = 0 gives (μ − S)⁺.
    """
    s = _f(level)
    mu = _f(mean)
    sig = _f(sd)
    safe = np.where(sig > 0, sig, 1.0)
    z = (s - mu) / safe
    g = np.exp(-0.5 * z * z) / SQRT_2PI - z * 0.5 * special.erfc(z / np.sqrt(2.0))
    return np.where(sig > 0, safe * g, np.maximum(mu - s, 0.0))


def standard_normal_loss_inverse(target: npt.ArrayLike) -> FloatArray:
    """z with G(z) = target, G the standard normal loss function (decreasing, G(z) > 0).

    Newton's method on G'(z) = −(1 − Φ(z)) from a start that is good in both tails.
    """
    t = np.clip(_f(target), 1e-300, None)
    z = np.where(t < 0.3989, np.sqrt(np.maximum(-2.0 * np.log(t * SQRT_2PI), 0.0)) - 0.5, -t)
    for _ in range(60):
        tail = 0.5 * special.erfc(z / np.sqrt(2.0))
        g = np.exp(-0.5 * z * z) / SQRT_2PI - z * tail
        step = (g - t) / np.maximum(tail, 1e-300)
        z = z + np.clip(step, -2.0, 2.0)
        if np.all(np.abs(step) < 1e-12 * np.maximum(1.0, np.abs(z))):
            break
    return z


def poisson_loss(level: npt.ArrayLike, mean: npt.ArrayLike) -> FloatArray:
    """E[(X − S)⁺] for X ~ Poisson(μ) and integer S: μ·(1 − F(S − 1)) − S·(1 − F(S)).

    Uses x·p(x) = μ·p(x − 1) (Snyder & Shen 2019, §C.3.2). For S < 0 it is μ − S.
    """
    s = np.floor(_f(level))
    mu = _f(mean)
    nonneg = s >= 0
    s0 = np.where(nonneg, s, 0.0)
    f_s = special.pdtr(s0, mu)
    f_prev = np.where(s0 >= 1, special.pdtr(np.maximum(s0 - 1, 0.0), mu), 0.0)
    loss = mu * (1.0 - f_prev) - s0 * (1.0 - f_s)
    return np.where(nonneg, np.maximum(loss, 0.0), mu - s)


def negative_binomial_parameters(
    mean: npt.ArrayLike, var: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """(r, p) of the negative binomial with the given mean and variance (σ² > μ > 0).

    p = μ/σ², r = μ·p/(1 − p), so that mean r(1 − p)/p and variance r(1 − p)/p².
    """
    mu = _f(mean)
    v = _f(var)
    p = np.clip(mu / np.maximum(v, 1e-300), 1e-12, 1.0 - 1e-12)
    return mu * p / (1.0 - p), p


def _dispersed(mean: FloatArray, var: FloatArray) -> BoolArray:
    return np.asarray(var > mean * (1.0 + 1e-9), dtype=np.bool_)


def count_cdf_scan(
    mean: npt.ArrayLike, var: npt.ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Starting state of the upward scan over integer levels S = 0, 1, 2, …: (p(0), r, q).

    For the negative binomial p(x + 1) = p(x)·(x + r)/(x + 1)·(1 − p) and for the Poisson
    p(x + 1) = p(x)·μ/(x + 1); r = ∞ marks the Poisson (then q carries μ).
    """
    mu = _f(mean)
    v = _f(var)
    disp = _dispersed(mu, v)
    r, p = negative_binomial_parameters(mu, np.where(disp, v, 2.0 * mu + 1.0))
    p0 = np.where(disp, np.exp(r * np.log(p)), np.exp(-mu))
    r = np.where(disp, r, np.inf)
    q = np.where(disp, 1.0 - p, mu)
    return p0, r, q


def _next_pmf(pmf: FloatArray, x: FloatArray, r: FloatArray, q: FloatArray) -> FloatArray:
    poisson = np.isinf(r)
    ratio = np.where(poisson, q / (x + 1.0), (x + np.where(poisson, 0.0, r)) / (x + 1.0) * q)
    out: FloatArray = pmf * ratio
    return out


def count_levels(
    mean_p: npt.ArrayLike,
    var_p: npt.ArrayLike,
    mean_l: npt.ArrayLike,
    var_l: npt.ArrayLike,
    allowed_shortage: npt.ArrayLike,
    cycle_service: npt.ArrayLike,
    max_steps: int = 100_000,
) -> FloatArray:
    """Smallest integer S ≥ 0 meeting both ESPC(S) ≤ allowed_shortage and F_P(S) ≥ α.

    Count (Poisson / negative binomial) demand over the protection interval P and over the lead
    time L. Scans S upward with n(S + 1) = n(S) − (1 − F(S)) and the pmf recursion, so it needs
    only arithmetic, all items at once, dropping items as they are satisfied; pass
    allowed_shortage = ∞ to use only the cycle service α, or α = 0 to use only the fill rate.
    """
    mp, vp, ml, vl, allowed, alpha = (
        np.array(x, dtype=np.float64)
        for x in np.broadcast_arrays(
            _f(mean_p),
            _f(var_p),
            _f(mean_l),
            _f(var_l),
            _f(allowed_shortage),
            _f(cycle_service),
        )
    )
    shape = mp.shape
    mp, vp, ml, vl, allowed, alpha = (x.ravel() for x in (mp, vp, ml, vl, allowed, alpha))
    result = np.zeros(mp.size)
    active = np.nonzero(mp > 0)[0]
    pmf_p, r_p, q_p = count_cdf_scan(mp[active], vp[active])
    has_l = ml[active] > 0
    pmf_l, r_l, q_l = count_cdf_scan(np.where(has_l, ml[active], 1.0), vl[active])
    pmf_l = np.where(has_l, pmf_l, 1.0)
    cdf_p = pmf_p.copy()
    cdf_l = pmf_l.copy()
    loss_p = mp[active].copy()
    loss_l = np.where(has_l, ml[active], 0.0)
    lim = allowed[active]
    a = alpha[active]
    level = np.zeros(active.size)
    for _ in range(max_steps):
        done = (loss_p - loss_l <= lim) & (cdf_p >= a - 1e-12)
        if done.any():
            result[active[done]] = level[done]
            keep = ~done
            active = active[keep]
            if active.size == 0:
                break
            pmf_p, r_p, q_p, cdf_p, loss_p = (x[keep] for x in (pmf_p, r_p, q_p, cdf_p, loss_p))
            pmf_l, r_l, q_l, cdf_l, loss_l = (x[keep] for x in (pmf_l, r_l, q_l, cdf_l, loss_l))
            has_l = has_l[keep]
            lim, a, level = (x[keep] for x in (lim, a, level))
        loss_p = np.maximum(loss_p - (1.0 - cdf_p), 0.0)
        loss_l = np.where(has_l, np.maximum(loss_l - (1.0 - cdf_l), 0.0), 0.0)
        pmf_p = _next_pmf(pmf_p, level, r_p, q_p)
        pmf_l = np.where(has_l, _next_pmf(pmf_l, level, r_l, q_l), 0.0)
        cdf_p = np.minimum(cdf_p + pmf_p, 1.0)
        cdf_l = np.where(has_l, np.minimum(cdf_l + pmf_l, 1.0), 1.0)
        level = level + 1.0
    else:
        result[active] = level
    return result.reshape(shape)


def normal_levels(
    mean_p: npt.ArrayLike,
    sd_p: npt.ArrayLike,
    allowed_shortage: npt.ArrayLike,
    cycle_service: npt.ArrayLike,
) -> FloatArray:
    """Continuous level S ≥ μ_P + σ_P·k meeting the fill-rate and the cycle-service constraint.

    Fill rate: σ_P·G(k) = allowed_shortage (ESPC ≈ n_P(S); the n_L term is negligible for the
    smooth items that use the normal), cycle service: k = Φ⁻¹(α); the larger k is taken
    (Silver, Pyke & Thomas 2017, §7.6–7.7).
    """
    mp, sp, allowed, alpha = np.broadcast_arrays(
        _f(mean_p), _f(sd_p), _f(allowed_shortage), _f(cycle_service)
    )
    safe_sd = np.where(sp > 0, sp, 1.0)
    finite = np.isfinite(allowed)
    k_fill = np.where(
        finite, standard_normal_loss_inverse(np.where(finite, allowed / safe_sd, 1.0)), -np.inf
    )
    k_cycle = np.where(alpha > 0, special.ndtri(np.clip(alpha, 1e-12, 1 - 1e-12)), -np.inf)
    k = np.maximum(k_fill, k_cycle)
    k = np.where(np.isfinite(k), k, 0.0)
    return np.where(sp > 0, mp + sp * k, mp)


def buffer_levels(
    mean_p: npt.ArrayLike,
    sd_p: npt.ArrayLike,
    mean_l: npt.ArrayLike,
    sd_l: npt.ArrayLike,
    allowed_shortage: npt.ArrayLike,
    cycle_service: npt.ArrayLike,
    discrete: npt.ArrayLike,
) -> FloatArray:
    """The level S for each item: count maths where `discrete`, normal maths elsewhere.

    See `count_levels` and `normal_levels`; the count levels are whole units.
    """
    mp, sp, ml, sl, allowed, alpha, disc = np.broadcast_arrays(
        _f(mean_p),
        _f(sd_p),
        _f(mean_l),
        _f(sd_l),
        _f(allowed_shortage),
        _f(cycle_service),
        np.asarray(discrete, dtype=np.bool_),
    )
    out = normal_levels(mp, sp, allowed, alpha)
    if disc.any():
        idx = np.nonzero(disc)
        out = np.array(out, dtype=np.float64)
        out[idx] = count_levels(
            mp[idx], sp[idx] ** 2, ml[idx], sl[idx] ** 2, allowed[idx], alpha[idx]
        )
    return out


def is_count_demand(mean_p: npt.ArrayLike, integral_units: npt.ArrayLike) -> BoolArray:
    """Whether to use count maths: whole-unit items with a small mean over the interval."""
    mp = _f(mean_p)
    return np.asarray(
        np.asarray(integral_units, dtype=np.bool_) & (mp <= DISCRETE_MEAN_LIMIT), dtype=np.bool_
    )
