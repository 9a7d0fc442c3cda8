"""The Dask engine gives the same forecast as the local one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from leanstock.planning.forecast import forecast

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    # Imported here, not at the top: Dask's import costs every xdist worker most of a second
    # while collecting, and the one test that needs it is slow (left out by default).
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as local:
        yield str(local.scheduler_address)


def history() -> pl.DataFrame:
    rng = np.random.default_rng(12)
    ds = pl.date_range(dt.date(2024, 1, 1), dt.date(2024, 5, 29), "1d", eager=True)
    frames = []
    for i in range(6):
        smooth = rng.poisson(15 + 5 * np.sin(np.arange(len(ds)) * 2 * np.pi / 7))
        sparse = (rng.random(len(ds)) < 0.2) * rng.integers(1, 5, size=len(ds))
        frames.append(
            pl.DataFrame({"item": f"i{i}", "location": "north", "ds": ds, "qty": smooth * 1.0})
        )
        frames.append(
            pl.DataFrame({"item": f"i{i}", "location": "south", "ds": ds, "qty": sparse * 1.0})
        )
    return pl.concat(frames)


@pytest.mark.slow
def test_the_dask_engine_equals_the_local_engine(cluster: str) -> None:
    frame = history()

    local = forecast(frame, horizon=14, freq="D", engine="local")
    on_dask = forecast(frame, horizon=14, freq="D", engine="dask", scheduler=cluster)

    assert_frame_equal(
        on_dask.forecast, local.forecast, check_exact=False, rel_tol=1e-6, abs_tol=1e-6
    )
    assert_frame_equal(on_dask.selection, local.selection)
    assert_frame_equal(
        on_dask.accuracy, local.accuracy, check_exact=False, rel_tol=1e-6, abs_tol=1e-6
    )
    assert set(local.classes["demand_class"]) >= {"smooth", "intermittent"}
