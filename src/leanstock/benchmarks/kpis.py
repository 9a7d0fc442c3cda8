"""`leanstock bench kpis`: each KPI report on the demo business, the bar of issue #16 (1 s).

Loads the demo business (`leanstock demo`: about 200 items, a warehouse and two stores, two
years of history; `--quick`: a quarter of a year) into a temp SQLite file or a new PostgreSQL
schema (`--database sqlite|postgres`), or reads an existing SQLite file as it is
(`--database sqlite:///path/leanstock-demo.db`). Then times:

- `snapshot`: the first report of a day, which replays every move into the monthly cost
  snapshot (`services/kpis.refresh_snapshot`); once;
- per grouping (company, category, location, item): `kpis(months=12)` with the snapshot fresh,
  as every later request of the day is: one warm-up, then 3 runs (`--quick`: 3 too), median,
  min and max wall seconds. Each must be under 1 s.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine

from leanstock.benchmarks import BenchOptions
from leanstock.benchmarks._http import fresh_database
from leanstock.services import kpis

BAR_SECONDS = 1.0
RUNS = 3


def _measure(url: str, figures: dict[str, object]) -> None:
    from leanstock.adapters.db.uow import UnitOfWork

    engine = create_engine(url)
    uow = UnitOfWork(engine)
    started = time.perf_counter()
    kpis.refresh_snapshot(uow, datetime.now(UTC), force=True)
    figures["snapshot_s"] = round(time.perf_counter() - started, 3)
    with uow:
        figures["moves"] = uow.kpis.ledger_mark().split(":")[1]
    worst = 0.0
    for group in kpis.GROUPS:
        kpis.kpis(uow, group_by=group)  # warm-up
        walls = []
        for _ in range(RUNS):
            started = time.perf_counter()
            report = kpis.kpis(uow, group_by=group)
            walls.append(time.perf_counter() - started)
        median = statistics.median(walls)
        worst = max(worst, median)
        figures[f"{group}_median_s"] = round(median, 3)
        figures[f"{group}_min_s"] = round(min(walls), 3)
        figures[f"{group}_max_s"] = round(max(walls), 3)
        figures[f"{group}_groups"] = report.total
        print(
            f"kpis by {group}: median {median:.3f} s (min {min(walls):.3f}, max "
            f"{max(walls):.3f}) for {report.total} groups, bar {BAR_SECONDS} s",
            file=sys.stderr,
        )
    figures["worst_median_s"] = round(worst, 3)
    figures["bar_s"] = BAR_SECONDS
    figures["meets_bar"] = worst < BAR_SECONDS
    engine.dispose()


def run(options: BenchOptions) -> dict[str, object]:
    figures: dict[str, object] = {"runs": RUNS, "quick": options.quick}
    choice = options.database
    if choice and choice.startswith("sqlite:///") and Path(choice[10:]).exists():
        figures["database"] = choice
        _measure(choice, figures)
    else:
        from leanstock.benchmarks.web import load_demo_business

        with fresh_database(choice) as (kind, url, _token):
            figures["database"] = kind
            started = time.perf_counter()
            engine = create_engine(url)
            load_demo_business(engine, options.quick)
            engine.dispose()
            figures["load_s"] = round(time.perf_counter() - started, 1)
            _measure(url, figures)
    figures["load_average_1m"] = round(os.getloadavg()[0], 2)
    return figures
