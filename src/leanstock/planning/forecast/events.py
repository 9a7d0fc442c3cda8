"""Events and promotions: a calendar of multiplicative uplifts.

A calendar row is one occurrence: name, start, end (dates, inclusive), optionally the items
or categories it touches (none: every item) and an expected uplift (a factor, 1.3 = +30 %).
An occurrence covers every period that overlaps [start, end].

Where an event has no uplift given, it is estimated from its past occurrences as the ratio
of sums Σ qty / Σ baseline over the covered, uncensored periods, the baseline being the
trailing mean of the periods that neither an event nor a stock-out touched: a pooled
ratio estimator, robust for sparse series (Cochran, 1977, §6). Before the models see the
history, covered periods are divided by their uplift, so a promotion does not raise the
baseline; future covered periods are then multiplied by it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from leanstock.planning.forecast.accuracy import quantile_column
from leanstock.planning.forecast.censor import trailing_clean_mean
from leanstock.planning.forecast.prepare import ForecastInputError, period_index, series_starts

_UPLIFT_SCHEMA = {"name": pl.String, "uplift": pl.Float64, "source": pl.String, "periods": pl.Int64}


def check_calendar(events: pl.DataFrame) -> pl.DataFrame:
    """Validate a calendar; returns name, start, end, items, categories, uplift."""
    missing = [c for c in ("name", "start", "end") if c not in events.columns]
    if missing:
        raise ForecastInputError(
            f"The event calendar lacks {', '.join(missing)}; it needs name, start, end "
            "and optionally items, categories, uplift."
        )
    cal = events
    for col in ("start", "end"):
        dtype = cal.schema[col]
        if dtype == pl.String:
            try:
                cal = cal.with_columns(pl.col(col).str.to_date(strict=True))
            except pl.exceptions.PolarsError as exc:
                raise ForecastInputError(f"Event {col} dates must look like 2024-12-24.") from exc
        elif isinstance(dtype, pl.Datetime):
            cal = cal.with_columns(pl.col(col).dt.date())
        elif dtype != pl.Date:
            raise ForecastInputError(f"Event {col} must be a date, not {dtype}.")
    for col in ("items", "categories"):
        if col not in cal.columns:
            cal = cal.with_columns(pl.lit(None, dtype=pl.List(pl.String)).alias(col))
        elif cal.schema[col] == pl.String:
            cal = cal.with_columns(pl.concat_list(pl.col(col)).alias(col))
        else:
            cal = cal.with_columns(pl.col(col).cast(pl.List(pl.String)))
    if "uplift" not in cal.columns:
        cal = cal.with_columns(uplift=pl.lit(None, dtype=pl.Float64))
    cal = cal.with_columns(pl.col("uplift").cast(pl.Float64), pl.col("name").cast(pl.String))
    bad = cal.filter(pl.col("end") < pl.col("start"))
    if bad.height:
        raise ForecastInputError(f"Event {bad['name'][0]!r} ends before it starts.")
    bad = cal.filter(pl.col("uplift") <= 0)
    if bad.height:
        raise ForecastInputError(
            f"Event {bad['name'][0]!r} has an uplift ≤ 0; 1.0 means no change."
        )
    return cal.select("name", "start", "end", "items", "categories", "uplift")


def spans_of(frame: pl.DataFrame, ordered: bool = True) -> pl.DataFrame:
    """First and last period of each series, and its weekday (for weekly data).

    `ordered`: `frame` is grouped by sid and ordered by t, so no group-by is needed.
    """
    if not ordered:
        return frame.group_by("sid").agg(
            t0=pl.col("t").min(),
            weekday=pl.col("ds").sort_by("t").first().dt.weekday(),
            t1=pl.col("t").max(),
        )
    sid = frame["sid"].to_numpy()
    change = np.flatnonzero(sid[1:] != sid[:-1])
    firsts = np.append(0, change + 1)
    lasts = np.append(change, sid.size - 1)
    return (
        frame[firsts]
        .select("sid", t0=pl.col("t"), weekday=pl.col("ds").dt.weekday())
        .with_columns(t1=frame["t"].gather(lasts))
    )


def _covered(
    calendar: pl.DataFrame, keys: pl.DataFrame, spans: pl.DataFrame, code: str
) -> pl.DataFrame:
    """(sid, t, ds, name, given) for each period in `spans` that an occurrence covers.

    A period [ds, ds + 1 interval) is covered when it overlaps [start, end]. Built from
    the calendar side (occurrences × their series), never by scanning the history.
    """
    occurrences = calendar.with_row_index("occ")
    if code == "M":
        first = pl.col("start").dt.month_start()
        step = "1mo"
    elif code == "W":
        first = pl.col("start").dt.offset_by("-6d")
        step = "1d"
    else:
        first = pl.col("start")
        step = "1d"
    dates = occurrences.select(
        "occ", "name", pl.col("uplift").alias("given"), ds=pl.date_ranges(first, "end", step)
    ).explode("ds")
    dates = dates.with_columns(t=period_index(code), weekday=pl.col("ds").dt.weekday())
    series = keys.select(
        "sid",
        pl.col("item").cast(pl.String),
        (
            pl.col("category").cast(pl.String)
            if "category" in keys.columns
            else pl.lit(None, dtype=pl.String)
        ).alias("category"),
    )
    targets = (
        occurrences.select("occ", "items", "categories")
        .join(series, how="cross")
        .filter(
            (pl.col("items").is_null() & pl.col("categories").is_null())
            | pl.col("items").list.contains(pl.col("item")).fill_null(False)
            | pl.col("categories").list.contains(pl.col("category")).fill_null(False)
        )
        .select("occ", "sid")
    )
    covered = (
        dates.join(targets, on="occ")
        .join(spans, on="sid", suffix="_series")
        .filter((pl.col("t") >= pl.col("t0")) & (pl.col("t") <= pl.col("t1")))
    )
    if code == "W":
        covered = covered.filter(pl.col("weekday") == pl.col("weekday_series"))
    return covered.unique(["sid", "t", "name"]).select("sid", "t", "ds", "name", "given", "t0")


def remove_uplifts(
    frame: pl.DataFrame,
    keys: pl.DataFrame,
    calendar: pl.DataFrame | None,
    code: str,
    window: int,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Estimate missing uplifts from the history and divide them out of it.

    `frame` (sid, ds, t, qty, stockout) is ordered by sid then t on a regular grid, so the
    row of (sid, t) is start(sid) + t − t0(sid).
    """
    if calendar is None or calendar.height == 0:
        return frame, pl.DataFrame(schema=_UPLIFT_SCHEMA)
    covered = _covered(calendar, keys, spans_of(frame), code)
    names = calendar.group_by("name", maintain_order=True).agg(
        given=pl.col("uplift").drop_nulls().first()
    )
    estimated = pl.DataFrame(
        schema={"name": pl.String, "estimate": pl.Float64, "periods": pl.Int64}
    )
    if covered.height:
        sid = frame["sid"].to_numpy()
        starts = series_starts(sid, int(sid[-1]) + 1)
        rows = (
            starts[covered["sid"].to_numpy()] + (covered["t"] - covered["t0"]).to_numpy()
        ).astype(np.int64)
        covered = covered.with_columns(row=pl.Series(rows))
        stockout = frame["stockout"].to_numpy()
        in_event = np.zeros(frame.height, dtype=bool)
        in_event[rows] = True
        base = trailing_clean_mean(frame, ~stockout & ~in_event, rows, window)
        qty = frame["qty"].to_numpy()
        estimated = (
            covered.with_columns(
                qty=pl.Series(qty[rows]), base=pl.Series(base), stockout=pl.Series(stockout[rows])
            )
            .filter(~pl.col("stockout") & pl.col("base").is_not_nan())
            .group_by("name")
            .agg(
                estimate=pl.when(pl.col("base").sum() > 0).then(
                    pl.col("qty").sum() / pl.col("base").sum()
                ),
                periods=pl.len().cast(pl.Int64),
            )
        )
    uplifts = (
        names.join(estimated, on="name", how="left")
        .with_columns(
            uplift=pl.coalesce("given", "estimate", pl.lit(1.0)),
            source=pl.when(pl.col("given").is_not_null())
            .then(pl.lit("given"))
            .when(pl.col("estimate").is_not_null())
            .then(pl.lit("estimated"))
            .otherwise(pl.lit("no past occurrence: none applied")),
            periods=pl.col("periods").fill_null(0).cast(pl.Int64),
        )
        .with_columns(pl.col("uplift").clip(0.05, 20.0))
        .select("name", "uplift", "source", "periods")
    )
    if covered.height == 0:
        return frame, uplifts
    lift = covered.join(uplifts.select("name", "uplift"), on="name", how="left")
    qty = frame["qty"].to_numpy().copy()
    np.divide.at(qty, lift["row"].to_numpy(), lift["uplift"].fill_null(1.0).to_numpy())
    return frame.with_columns(pl.Series("qty", qty)), uplifts


def apply_uplifts(
    points: pl.DataFrame,
    keys: pl.DataFrame,
    calendar: pl.DataFrame | None,
    uplifts: pl.DataFrame,
    code: str,
    quantiles: Sequence[float],
) -> pl.DataFrame:
    """Multiply forecast and quantiles of `points` (sid, t, ds, ...) in covered periods."""
    if calendar is None or calendar.height == 0 or points.height == 0:
        return points
    covered = _covered(calendar, keys, spans_of(points, ordered=False), code)
    if covered.height == 0:
        return points
    factor = (
        covered.join(uplifts.select("name", "uplift"), on="name")
        .group_by("sid", "t")
        .agg(factor=pl.col("uplift").product())
    )
    scaled = ["forecast", *[quantile_column(p) for p in quantiles]]
    return (
        points.join(factor, on=["sid", "t"], how="left")
        .with_columns([pl.col(c) * pl.col("factor").fill_null(1.0) for c in scaled])
        .drop("factor")
    )
