"""The planning periods people choose between: a day, a week, a month.

One table for every use: the polars interval that truncates a date to its period's start
(the Monday of a week, the 1st of a month), the season length in periods, the period's length
in days (a month is 365.25 / 12 days on average), the unit that steps a date by whole periods
(`dt.offset_by("3w")`), and the periods in a year (364 days: whole weeks).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Period:
    interval: str
    season_length: int
    days: float
    unit: str
    per_year: int


PERIODS: dict[str, Period] = {
    "D": Period("1d", 7, 1.0, "d", 364),
    "W": Period("1w", 52, 7.0, "w", 52),
    "M": Period("1mo", 12, 365.25 / 12, "mo", 12),
}
