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

import polars as pl

from leanstock.planning.forecast.accuracy import quantile_column
from leanstock.planning.forecast.censor import trailing_clean_mean
from leanstock.planning.forecast.prepare import ForecastInputError

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


def _covered(
    rows: pl.DataFrame, keys: pl.DataFrame, calendar: pl.DataFrame, interval: str
) -> pl.DataFrame:
    """(sid, ds, name, given uplift) for each row of `rows` (sid, ds) an occurrence covers."""
    occurrences = calendar.with_row_index("occ")
    dates = rows.select(pl.col("ds").unique()).with_columns(
        ds_next=pl.col("ds").dt.offset_by(interval)
    )
    hits = dates.join_where(
        occurrences.select("occ", "start", "end"),
        pl.col("ds") <= pl.col("end"),
        pl.col("ds_next") > pl.col("start"),
    ).select("ds", "occ")
    if hits.height == 0:
        return pl.DataFrame(
            schema={"sid": pl.UInt32, "ds": pl.Date, "name": pl.String, "given": pl.Float64}
        )
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
    return (
        rows.select("sid", "ds")
        .join(hits, on="ds")
        .join(targets, on=["occ", "sid"])
        .join(occurrences.select("occ", "name", pl.col("uplift").alias("given")), on="occ")
        .unique(["sid", "ds", "name"])
        .select("sid", "ds", "name", "given")
    )


def remove_uplifts(
    frame: pl.DataFrame, keys: pl.DataFrame, calendar: pl.DataFrame | None, interval: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Estimate missing uplifts from the history and divide them out of it."""
    if calendar is None or calendar.height == 0:
        return frame, pl.DataFrame(schema=_UPLIFT_SCHEMA)
    covered = _covered(frame, keys, calendar, interval)
    names = calendar.group_by("name", maintain_order=True).agg(
        given=pl.col("uplift").drop_nulls().first()
    )
    estimated = pl.DataFrame(
        schema={"name": pl.String, "estimate": pl.Float64, "periods": pl.UInt32}
    )
    if covered.height:
        in_event = frame.select("sid", "ds").join(
            covered.select("sid", "ds").unique(), on=["sid", "ds"], how="semi"
        )
        flagged = frame.with_columns(
            in_event=pl.struct("sid", "ds").is_in(
                in_event.select(pl.struct("sid", "ds")).to_series().implode()
            )
        )
        with_base = flagged.with_columns(
            base=trailing_clean_mean(flagged, ~pl.col("stockout") & ~pl.col("in_event"), 28)
        ).select("sid", "ds", "qty", "stockout", "base")
        estimated = (
            covered.join(with_base, on=["sid", "ds"])
            .filter(~pl.col("stockout") & pl.col("base").is_not_null())
            .group_by("name")
            .agg(
                estimate=pl.when(pl.col("base").sum() > 0).then(
                    pl.col("qty").sum() / pl.col("base").sum()
                ),
                periods=pl.len(),
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
    factor = _factors(covered, uplifts)
    adjusted = (
        frame.join(factor, on=["sid", "ds"], how="left")
        .with_columns(qty=pl.col("qty") / pl.col("factor").fill_null(1.0))
        .drop("factor")
    )
    return adjusted, uplifts


def _factors(covered: pl.DataFrame, uplifts: pl.DataFrame) -> pl.DataFrame:
    return (
        covered.join(uplifts.select("name", "uplift"), on="name")
        .group_by("sid", "ds")
        .agg(factor=pl.col("uplift").product())
    )


def apply_uplifts(
    out: dict[str, pl.DataFrame],
    keys: pl.DataFrame,
    calendar: pl.DataFrame | None,
    uplifts: pl.DataFrame,
    interval: str,
    quantiles: Sequence[float],
) -> dict[str, pl.DataFrame]:
    """Multiply the forecast and its quantiles in future periods an event covers."""
    if calendar is None or calendar.height == 0:
        return out
    key_columns = [c for c in ("item", "location") if c in out["forecast"].columns]
    fc = out["forecast"].join(keys.select("sid", *key_columns), on=key_columns)
    covered = _covered(fc.select("sid", "ds"), keys, calendar, interval)
    if covered.height == 0:
        return out
    factor = _factors(covered, uplifts)
    scaled = ["forecast", *[quantile_column(p) for p in quantiles]]
    columns = out["forecast"].columns
    fc = (
        fc.join(factor, on=["sid", "ds"], how="left")
        .with_columns([pl.col(c) * pl.col("factor").fill_null(1.0) for c in scaled])
        .select(columns)
    )
    return {**out, "forecast": fc}
