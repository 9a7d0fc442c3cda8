"""The demo's calendar (weekdays, holidays, Easter, seasons) and each item's demand factors.

Demand per item, location and day is a product of factors, each a pattern a forecaster should
find (Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, 3rd ed., §3.1, §7.4):

    μ = level × trend × weekly profile × yearly seasonality × season window × promotion × holiday
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
from numpy.typing import NDArray

from leanstock.demo.catalog import Season
from leanstock.demo.places import NORTH
from leanstock.demo.specs import Spec

Floats = NDArray[np.float64]

_WEEKLY = np.array(
    [
        [1.20, 1.15, 1.10, 1.05, 1.00, 0.70, 0.80],  # online: ordered on weekdays
        [0.85, 0.90, 0.90, 0.95, 1.10, 1.45, 1.25],  # North Street: Saturday shoppers
        [0.80, 0.85, 0.85, 0.90, 1.05, 1.40, 1.55],  # South Park: Sunday walkers
    ]
)
WEEKLY = _WEEKLY / _WEEKLY.mean(axis=1, keepdims=True)
"""Day-of-week profile (Monday first) per location, mean 1."""


def easter(year: int) -> date:
    """Easter Sunday (Gregorian), by the anonymous algorithm (Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * weekday) // 451
    month, day = divmod(h + weekday - 7 * m + 114, 31)
    return date(year, month, day + 1)


class Calendar:
    """The days of the history (and a horizon past it) and what kind of day each one is."""

    def __init__(self, start: date, length: int) -> None:
        self.start = start
        self.dates = [start + timedelta(days=i) for i in range(length)]
        self.weekday = np.array([d.weekday() for d in self.dates])
        self.day_of_year = np.array([d.timetuple().tm_yday for d in self.dates])
        self.closed = np.array([(d.month, d.day) in ((12, 25), (1, 1)) for d in self.dates])
        easters = {y: easter(y) for y in {d.year for d in self.dates}}
        self.to_easter = np.array([(d - easters[d.year]).days for d in self.dates])
        self.rush = np.ones(length)
        self.rush[[d.month == 12 and 20 <= d.day <= 24 for d in self.dates]] = 1.35
        self.rush[(self.to_easter >= -2) & (self.to_easter <= 1)] = 1.25
        self.rush[self.closed] = 1.0

    def location_factor(self) -> Floats:
        """(day, location): weekly profile × holiday rush at the stores; nothing when closed."""
        factor = WEEKLY[:, self.weekday].T.copy()
        factor[:, NORTH:] *= self.rush[:, None]
        factor[self.closed] = 0.0
        return np.asarray(factor, dtype=np.float64)

    def season(self, season: Season, made: bool) -> Floats:
        """A season window's factor per day; outside it a trickle sells (or, baked, nothing)."""
        doy = self.day_of_year
        month = np.array([d.month for d in self.dates])
        day = np.array([d.day for d in self.dates])
        if season is Season.NONE:
            return np.ones(len(self.dates))
        if season is Season.CHRISTMAS:
            since = np.array([(d - date(d.year, 11, 1)).days for d in self.dates])
            window = (month >= 11) & ~((month == 12) & (day > 24))
            return np.where(window, 0.4 + 2.6 * since / 53, 0.0 if made else 0.03)
        if season is Season.SUMMER:
            bump = np.exp(-(((doy - 196) / 35.0) ** 2))
            return bump * (bump > 0.2) * 2.4 if made else 0.2 + 2.2 * bump
        if season is Season.EASTER:
            window = (self.to_easter >= -14) & (self.to_easter <= 1)
            return np.where(window, 3.0, 0.0 if made else 0.02)
        window = (doy >= 258) & (doy <= 319)  # mid-September to mid-November
        return np.where(window, 2.0, 0.0 if made else 0.3)

    def holidays(self, days: int) -> pl.DataFrame:
        rows = []
        for i, d in enumerate(self.dates[:days]):
            if self.closed[i]:
                rows.append((d, "Christmas Day" if d.month == 12 else "New Year's Day", True, 0.0))
            elif self.rush[i] != 1.0:
                name = "Christmas rush" if d.month == 12 else "Easter weekend"
                rows.append((d, name, False, float(self.rush[i])))
        return pl.DataFrame(
            rows,
            schema={"day": pl.Date, "name": pl.String, "closed": pl.Boolean, "uplift": pl.Float64},
            orient="row",
        )


def item_factors(
    rng: np.random.Generator, specs: list[Spec], calendar: Calendar, days: int
) -> tuple[Floats, list[tuple[str, date, date, float]]]:
    """(day, item): trend × yearly seasonality × season window × promotions."""
    t = np.arange(len(calendar.dates))[:, None]
    trend = np.exp(np.array([s.trend for s in specs])[None, :] * t / 365.25)
    peak = np.array([s.family.peak_day_of_year for s in specs])[None, :]
    amplitude = np.array([s.amplitude for s in specs])[None, :]
    yearly = 1 + amplitude * np.cos(2 * np.pi * (calendar.day_of_year[:, None] - peak) / 365.25)
    seasons = {
        (season, made): calendar.season(season, made) for season in Season for made in (False, True)
    }
    window = np.stack([seasons[(s.season, s.made)] for s in specs], axis=1)
    promo = np.ones_like(trend)
    promotions: list[tuple[str, date, date, float]] = []
    for i, spec in enumerate(specs):
        if spec.family.promo_share == 0 or rng.random() >= spec.family.promo_share:
            continue
        for _ in range(int(rng.integers(2, 6))):
            first = int(rng.integers(0, days - 7))
            length = int(rng.choice([7, 14]))
            uplift = round(float(rng.uniform(1.4, 2.2)), 2)
            promo[first : first + length, i] *= uplift
            last = min(first + length, days) - 1
            promotions.append((spec.item.sku, calendar.dates[first], calendar.dates[last], uplift))
    return np.asarray(trend * yearly * window * promo, dtype=np.float64), promotions
