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
    demand_mean_sd: npt.ArrayLike = 0.0,
) -> tuple[FloatArray, FloatArray]:
    """Mean and standard deviation of demand over the protection interval P = E[L] + R.

    μ_P = μ_d·P, σ_P = √(P·σ_d² + P²·σ_μ̂² + μ_d²·σ_L²) (Silver, Pyke & Thomas 2017,
    eq. 7.30 with R added to the lead time for periodic review, §7.9). σ_μ̂, the standard
    error of the forecast mean, enters with P² because the same error repeats in every
    period of the interval (Prak, Teunter & Syntetos 2017, EJOR 256(2)); 0 treats the
    forecast mean as exact.
    """
    mu = _f(demand_mean)
    sd = _f(demand_sd)
    interval = _f(lead_time_mean) + _f(review_period)
    lt_sd = _f(lead_time_sd)
    mean_sd = _f(demand_mean_sd)
    mean = mu * interval
    var = interval * sd * sd + interval * interval * mean_sd * mean_sd + mu * mu * lt_sd * lt_sd
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

    Newton's method on G'(z) = −(1 − Φ(z)) from a start that is good in both tails. Targets
    below 1e-12 are raised to it (z ≈ 6.7): a safety factor beyond that buys nothing real and
    the normal tail underflows.
    """
    t = np.clip(_f(target), 1e-12, None)
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


def _count_parameters(
    mean: FloatArray, var: FloatArray
) -> tuple[BoolArray, FloatArray, FloatArray]:
    """(dispersed, r, p): negative binomial where σ² > μ, else Poisson (r, p unused)."""
    disp = _dispersed(mean, var)
    r, p = negative_binomial_parameters(mean, np.where(disp, var, 2.0 * mean + 1.0))
    return disp, r, p


def count_cdf(level: npt.ArrayLike, mean: npt.ArrayLike, var: npt.ArrayLike) -> FloatArray:
    """F(S) = P(X ≤ S) of the count distribution matched to (μ, σ²), for integer S.

    Negative binomial: F(k) = I_p(r, k + 1), the regularised incomplete beta function;
    Poisson: the regularised upper incomplete gamma function Q(k + 1, μ).
    """
    s = np.floor(_f(level))
    mu = _f(mean)
    disp, r, p = _count_parameters(mu, _f(var))
    k = np.maximum(s, 0.0)
    cdf = np.where(disp, special.betainc(r, k + 1.0, p), special.pdtr(k, mu))
    return np.where(s < 0, 0.0, np.where(mu > 0, cdf, 1.0))


def count_loss(level: npt.ArrayLike, mean: npt.ArrayLike, var: npt.ArrayLike) -> FloatArray:
    """E[(X − S)⁺] of the count distribution matched to (μ, σ²), for integer S.

    From x·p(x) = μ·p*(x − 1), p* the pmf of NB(r + 1, p) (of the same Poisson for a
    Poisson): n(S) = μ·(1 − F*(S − 1)) − S·(1 − F(S)).
    """
    s = np.floor(_f(level))
    mu = _f(mean)
    disp, r, p = _count_parameters(mu, _f(var))
    k = np.maximum(s, 0.0)
    upper = np.where(
        disp,
        special.betainc(r + 1.0, np.maximum(k, 1.0), p),
        special.pdtr(np.maximum(k - 1.0, 0.0), mu),
    )
    upper = np.where(k >= 1, upper, 0.0)
    loss = mu * (1.0 - upper) - k * (1.0 - count_cdf(k, mu, var))
    return np.where(s < 0, mu - s, np.maximum(loss, 0.0))


def count_losses(mean: npt.ArrayLike, var: npt.ArrayLike, top: int) -> FloatArray:
    """E[(X − S)⁺] for S = 0 … `top` (columns), one row per item, count distribution
    matched to (μ, σ²).

    All levels at once from the pmf recursion p(x + 1) = p(x)·(c₀ + c₁·x)/(x + 1) and
    n(S + 1) = n(S) − (1 − F(S)), n(0) = μ (see `count_levels`); only arithmetic, so a
    whole catalogue's curves cost one cumulative product and two cumulative sums.
    """
    mu = np.atleast_1d(_f(mean))
    v = np.broadcast_to(_f(var), mu.shape)
    disp, r, p = _count_parameters(mu, np.asarray(v, dtype=np.float64))
    pmf0 = np.where(disp, np.exp(r * np.log(p)), np.exp(-mu))
    c0 = np.where(disp, r * (1.0 - p), mu)
    c1 = np.where(disp, 1.0 - p, 0.0)
    x = np.arange(top, dtype=np.float64)
    ratios = (c0[:, None] + c1[:, None] * x[None, :]) / (x[None, :] + 1.0)
    pmf = np.empty((mu.size, top + 1))
    pmf[:, 0] = 1.0
    np.cumprod(ratios, axis=1, out=pmf[:, 1:])
    pmf *= pmf0[:, None]
    cdf = np.cumsum(pmf, axis=1)
    loss = np.empty_like(pmf)
    loss[:, 0] = mu
    np.cumsum(1.0 - cdf[:, :-1], axis=1, out=loss[:, 1:])
    loss[:, 1:] = mu[:, None] - loss[:, 1:]
    return np.maximum(np.where(mu[:, None] > 0, loss, 0.0), 0.0)


def count_levels(
    mean_p: npt.ArrayLike,
    var_p: npt.ArrayLike,
    mean_l: npt.ArrayLike,
    var_l: npt.ArrayLike,
    allowed_shortage: npt.ArrayLike,
    cycle_service: npt.ArrayLike,
    scan_limit: int = 2048,
) -> FloatArray:
    """Smallest integer S ≥ 0 meeting both ESPC(S) ≤ allowed_shortage and F_P(S) ≥ α.

    Count (Poisson / negative binomial) demand over the protection interval P and over the lead
    time L. Scans S = 0, 1, 2, … with n(S + 1) = n(S) − (1 − F(S)) and the pmf recursion
    p(x + 1) = p(x)·(c₀ + c₁·x)/(x + 1) (c₀ = r(1 − p), c₁ = 1 − p for the negative binomial;
    c₀ = μ, c₁ = 0 for the Poisson): only arithmetic, for all items at once, in blocks of
    levels (cumulative products and sums along a block) that double in width as fewer items
    remain. Items not done by `scan_limit` finish by bisection on the closed-form loss
    (`count_loss`). Pass allowed_shortage = ∞ to use only the cycle service α, or α = 0 to
    use only the fill rate. Both constraints are monotone in S, so the result is monotone in
    the service target.
    """
    arrays = np.broadcast_arrays(
        _f(mean_p),
        _f(var_p),
        _f(mean_l),
        _f(var_l),
        _f(allowed_shortage),
        _f(cycle_service),
    )
    shape = arrays[0].shape
    mp, vp, ml, vl, allowed, alpha = (np.array(x, dtype=np.float64).ravel() for x in arrays)
    result = np.zeros(mp.size)
    active = np.nonzero(mp > 0)[0]

    def start(mean: FloatArray, var: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        disp, r, p = _count_parameters(mean, var)
        pmf0 = np.where(disp, np.exp(r * np.log(p)), np.exp(-mean))
        c0 = np.where(disp, r * (1.0 - p), mean)
        c1 = np.where(disp, 1.0 - p, 0.0)
        return pmf0, c0, c1

    has_l = ml[active] > 0
    pmf_p, c0_p, c1_p = start(mp[active], vp[active])
    pmf_l, c0_l, c1_l = start(np.where(has_l, ml[active], 1.0), vl[active])
    c0_l = np.where(has_l, c0_l, 0.0)
    c1_l = np.where(has_l, c1_l, 0.0)
    cdf_l = np.where(has_l, pmf_l, 1.0)
    # State at level `base`: the two pmfs, F_P, G = F_L − F_P and ESPC = n_P − n_L.
    state = (
        pmf_p,
        pmf_l,
        pmf_p.copy(),
        cdf_l - pmf_p,
        mp[active] - np.where(has_l, ml[active], 0.0),
    )
    lim = allowed[active]
    a = alpha[active] - 1e-12
    needs_cdf = bool(np.any(a > 0))
    base = 0
    width = 8
    while active.size and base < scan_limit:
        levels = base + np.arange(width, dtype=np.float64)[:, None]
        espc, cdf_p, state = _count_block(state, c0_p, c1_p, c0_l, c1_l, levels, needs_cdf)
        ok = espc <= lim
        if needs_cdf:
            ok &= cdf_p >= a
        first = np.argmax(ok, axis=0)
        found = ok[first, np.arange(active.size)]
        result[active[found]] = base + first[found]
        keep = ~found
        active = active[keep]
        state = tuple(x[keep] for x in state)
        c0_p, c1_p, c0_l, c1_l, lim, a = (x[keep] for x in (c0_p, c1_p, c0_l, c1_l, lim, a))
        base += width
        width = width * 2 if base >= 16 else width
    if active.size:
        result[active] = _count_levels_bisect(
            mp[active],
            vp[active],
            ml[active],
            vl[active],
            allowed[active],
            alpha[active],
            float(base),
        )
    return result.reshape(shape)


CountState = tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]


def _count_block(
    state: CountState,
    c0_p: FloatArray,
    c1_p: FloatArray,
    c0_l: FloatArray,
    c1_l: FloatArray,
    levels: FloatArray,
    needs_cdf: bool,
) -> tuple[FloatArray, FloatArray, CountState]:
    """ESPC and F_P at `levels` (a column of consecutive integers x; one column per item)
    and the state at the level after the block.

    With G(x) = F_L(x) − F_P(x): ESPC(x + 1) = ESPC(x) − G(x) (from n(x + 1) = n(x) − (1 − F(x))
    for both distributions) and G(x + 1) = G(x) + p_L(x + 1) − p_P(x + 1).
    """
    pmf_p, pmf_l, cdf_p, gap, espc = state
    inverse = 1.0 / (levels + 1.0)
    scaled = levels * inverse
    next_p = c0_p * inverse
    next_p += c1_p * scaled
    np.cumprod(next_p, axis=0, out=next_p)
    next_p *= pmf_p  # p_P(x + 1) for x in levels
    next_l = c0_l * inverse
    next_l += c1_l * scaled
    np.cumprod(next_l, axis=0, out=next_l)
    next_l *= pmf_l
    step = next_l - next_p
    gaps = np.empty_like(step)
    gaps[0] = gap
    np.cumsum(step[:-1], axis=0, out=gaps[1:])
    gaps[1:] += gap
    espcs = np.empty_like(step)
    espcs[0] = espc
    np.cumsum(gaps[:-1], axis=0, out=espcs[1:])
    np.subtract(espc, espcs[1:], out=espcs[1:])
    cdfs = np.empty((0, 0))
    last_cdf = cdf_p
    if needs_cdf:
        cdfs = np.empty_like(step)
        cdfs[0] = cdf_p
        np.cumsum(next_p[:-1], axis=0, out=cdfs[1:])
        cdfs[1:] += cdf_p
        last_cdf = cdfs[-1] + next_p[-1]
    after = (
        next_p[-1].copy(),
        next_l[-1].copy(),
        last_cdf,
        gaps[-1] + step[-1],
        espcs[-1] - gaps[-1],
    )
    return espcs, cdfs, after


def _count_levels_bisect(
    mp: FloatArray,
    vp: FloatArray,
    ml: FloatArray,
    vl: FloatArray,
    allowed: FloatArray,
    alpha: FloatArray,
    lowest: float,
) -> FloatArray:
    def ok(level: FloatArray) -> BoolArray:
        espc = count_loss(level, mp, vp) - np.where(ml > 0, count_loss(level, ml, vl), 0.0)
        return np.asarray(
            (espc <= allowed) & (count_cdf(level, mp, vp) >= alpha - 1e-12), dtype=np.bool_
        )

    lo = np.full(mp.shape, lowest)
    hi = np.maximum(np.ceil(mp + 10.0 * np.sqrt(vp)), lowest)
    for _ in range(64):
        bad = ~ok(hi)
        if not bad.any():
            break
        lo = np.where(bad, hi + 1.0, lo)
        hi = np.where(bad, hi * 2.0 + 1.0, hi)
    while np.any(lo < hi):
        mid = np.floor((lo + hi) / 2.0)
        good = ok(mid)
        hi = np.where(good, mid, hi)
        lo = np.where(good, lo, mid + 1.0)
    return hi


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
    out = np.zeros(mp.shape)
    smooth = np.nonzero(~disc)
    if smooth[0].size:
        out[smooth] = normal_levels(mp[smooth], sp[smooth], allowed[smooth], alpha[smooth])
    counts = np.nonzero(disc)
    if counts[0].size:
        out[counts] = count_levels(
            mp[counts], sp[counts] ** 2, ml[counts], sl[counts] ** 2, allowed[counts], alpha[counts]
        )
    return out


def is_count_demand(mean_p: npt.ArrayLike, integral_units: npt.ArrayLike) -> BoolArray:
    """Whether to use count maths: whole-unit items with a small mean over the interval."""
    mp = _f(mean_p)
    return np.asarray(
        np.asarray(integral_units, dtype=np.bool_) & (mp <= DISCRETE_MEAN_LIMIT), dtype=np.bool_
    )
