"""Large revaluations run as jobs with a visible status, small ones in the posting
transaction, and both record the same trace (both databases).

By hand (FIFO, CUP at WH): 10 received on day 1 at 1.00, then shipments of 2, 2 and 1 on days
2 to 4: the later outflows are worth 5.00. A receipt of 5 at 3.00 backdated to day 0 puts a
layer before them: the five units shipped now come from it, worth 15.00. Four later moves
(the receipt and the three shipments).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.catalog import Item, Location
from leanstock.domain.errors import InvalidInput, NotFound
from leanstock.entrypoints.cli import app
from leanstock.services import catalog, revaluation, stock, valuation

D = Decimal
START = (datetime.now(UTC) - timedelta(days=30)).replace(hour=12, minute=0, second=0, microsecond=0)


def day(n: int) -> datetime:
    return START + timedelta(days=n)


@pytest.fixture
def shop(uow: UnitOfWork) -> UnitOfWork:
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_item(uow, Item("CUP", "Paper cup"))
    stock.receive(uow, "CUP", "WH", D(10), unit_cost=D(1), occurred_at=day(1))
    for n, quantity in ((2, 2), (3, 2), (4, 1)):
        stock.ship(uow, "CUP", "WH", D(quantity), occurred_at=day(n))
    return uow


def traced(uow: UnitOfWork) -> tuple[Decimal | None, Decimal | None]:
    """What the newest backdated move (the late receipt) re-valued, as listed."""
    newest = valuation.backdated_moves(uow).items[0]
    return newest.later_cost_before, newest.later_cost_after


def test_a_small_revaluation_is_traced_in_the_same_transaction(shop: UnitOfWork) -> None:
    assert revaluation.inline_limit(shop) == 1000  # the default
    stock.receive(shop, "CUP", "WH", D(5), unit_cost=D(3), occurred_at=day(0))
    assert traced(shop) == (D(5), D(15))
    assert revaluation.list_jobs(shop).total == 0


def test_a_large_revaluation_is_a_job_the_worker_runs(shop: UnitOfWork) -> None:
    revaluation.set_inline_limit(shop, 3)  # four later moves: more than three
    operation = stock.receive(shop, "CUP", "WH", D(5), unit_cost=D(3), occurred_at=day(0))
    (job,) = revaluation.list_jobs(shop).items
    assert (job.operation_id, job.sku, job.later_moves, job.status) == (
        operation.id,
        "CUP",
        4,
        "queued",
    )
    assert traced(shop) == (None, None)  # not traced yet, and says so
    # Values do not wait for the job: they are replayed from the moves.
    assert valuation.cost_flows(shop).cost_of_goods_sold == D(15)
    assert revaluation.list_jobs(shop, status="queued").total == 1
    assert revaluation.run_jobs(shop) == 1
    done = revaluation.get_job(shop, job.id)
    assert done.status == "done"
    assert (done.later_cost_before, done.later_cost_after) == (D(5), D(15))
    assert done.started_at is not None
    assert done.finished_at is not None
    assert traced(shop) == (D(5), D(15))
    assert revaluation.run_jobs(shop) == 0  # nothing left; nothing traced twice


def test_a_job_traces_what_its_operation_revalued_even_after_later_moves(
    shop: UnitOfWork,
) -> None:
    revaluation.set_inline_limit(shop, 0)
    stock.receive(shop, "CUP", "WH", D(5), unit_cost=D(3), occurred_at=day(0))
    # Recorded after it, before the worker ran: not part of its trace.
    stock.ship(shop, "CUP", "WH", D(4), occurred_at=day(5))
    revaluation.set_inline_limit(shop, 1000)
    revaluation.run_jobs(shop)
    (job,) = revaluation.list_jobs(shop, status="done").items
    assert (job.later_cost_before, job.later_cost_after) == (D(5), D(15))


def test_a_job_that_fails_says_why_and_runs_again_when_left(shop: UnitOfWork) -> None:
    revaluation.set_inline_limit(shop, 0)
    stock.receive(shop, "CUP", "WH", D(5), unit_cost=D(3), occurred_at=day(0))
    (job,) = revaluation.list_jobs(shop).items
    later = datetime.now(UTC) + revaluation.LEASE + timedelta(minutes=1)
    with shop:  # a worker took it and stopped without finishing
        assert shop.valuation.claim_revaluation_job(datetime.now(UTC)) is not None
        shop.commit()
    assert revaluation.get_job(shop, job.id).status == "running"
    assert revaluation.run_jobs(shop) == 0  # another worker leaves it while it may still run
    assert revaluation.run_jobs(shop, now=later) == 1  # and takes it once its lease is over
    assert revaluation.get_job(shop, job.id).status == "done"


def test_bad_questions_are_clear(shop: UnitOfWork) -> None:
    with pytest.raises(NotFound):
        revaluation.get_job(shop, 999)
    with pytest.raises(InvalidInput, match="queued, running, done, failed"):
        revaluation.list_jobs(shop, status="lost")
    with pytest.raises(InvalidInput, match="zero or more"):
        revaluation.set_inline_limit(shop, -1)


def test_the_api_and_the_cli_show_the_jobs(
    shop: UnitOfWork, client: TestClient, db_url: str
) -> None:
    put = client.put("/api/v1/settings/revaluation", json={"inline_moves": 2})
    assert put.status_code == 200, put.text
    assert client.get("/api/v1/settings/revaluation").json() == {"inline_moves": 2}
    assert client.put("/api/v1/settings/revaluation", json={"inline_moves": -1}).status_code == 422
    stock.receive(shop, "CUP", "WH", D(5), unit_cost=D(3), occurred_at=day(0))
    (job,) = client.get("/api/v1/revaluation-jobs").json()["items"]
    assert (job["status"], job["later_moves"], job["later_cost_after"]) == ("queued", 4, None)
    revaluation.run_jobs(shop)
    one = client.get(f"/api/v1/revaluation-jobs/{job['id']}").json()
    assert (one["status"], D(one["later_cost_before"]), D(one["later_cost_after"])) == (
        "done",
        D(5),
        D(15),
    )
    assert client.get("/api/v1/revaluation-jobs/999").status_code == 404
    assert client.get("/api/v1/revaluation-jobs?status=lost").status_code == 422
    out = CliRunner().invoke(app, ["--database", db_url, "revaluations", "jobs", str(job["id"])])
    assert out.exit_code == 0, out.output
    assert "done" in out.output
    assert "CUP" in out.output
