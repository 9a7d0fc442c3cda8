"""Large revaluations as tracked jobs (docs/costing.md, "Backdated moves").

A backdated move re-values the later moves of its items. Values are replayed from the moves,
so they are right the moment the move commits; what is traced is the record of what it
re-valued (`revaluations`: the later outflows' value before it and after). For an item with
more later moves than the company's `revaluation_inline_moves`, posting queues a job instead
of replaying in its own transaction; `leanstock worker` (and `leanstock serve`) runs the jobs:
queued → running → done (the trace written) or failed (with the error; run again with
`retry_job`). The job replays the ledger as it stood before and right after the operation
(moves of operations recorded up to it), so it writes the same trace whenever it runs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from leanstock.domain.errors import InvalidInput, NotFound
from leanstock.domain.events import Changed
from leanstock.services.paging import page_bounds
from leanstock.services.ports import Page, RevaluationJob, UnitOfWork
from leanstock.services.posting import (
    REVALUATION_INLINE_MOVES,
    inline_revaluation_limit,
    later_cost,
)
from leanstock.services.retry import retrying

# A job left running this long (its worker stopped) is taken again by the next worker.
LEASE = timedelta(minutes=10)
STATUSES = ("queued", "running", "done", "failed")


def run_jobs(uow: UnitOfWork, batch: int = 10, now: datetime | None = None) -> int:
    """Run up to `batch` queued jobs, each in its own transactions; how many ran (done or
    failed). A failure is recorded on its job and does not stop the others."""
    ran = 0
    for _ in range(batch):
        moment = now or datetime.now(UTC)
        with uow:
            job = uow.valuation.claim_revaluation_job(moment - LEASE)
            uow.commit()
        if job is None:
            break
        try:
            trace(uow, job)
        except Exception as error:  # recorded on the job, visible to whoever asks
            with uow:
                detail = f"{type(error).__name__}: {error}"[:2000]
                uow.valuation.finish_revaluation_job(job.id, "failed", detail)
                uow.commit()
        ran += 1
    return ran


def trace(uow: UnitOfWork, job: RevaluationJob) -> None:
    """Write the job's revaluation row and mark it done, in one transaction."""
    with uow:
        moves = uow.valuation.costed_moves_until([job.item_id], job.operation_id)
        before_moves = [m for m in moves if m.operation_id < job.operation_id]
        when = job.occurred_at
        before = later_cost(uow, [job.item_id], when, before_moves)[job.item_id]
        after = later_cost(uow, [job.item_id], when, moves)[job.item_id]
        uow.valuation.add_revaluation(job.operation_id, job.item_id, when, before, after)
        uow.valuation.finish_revaluation_job(job.id, "done", None)
        uow.commit()


def get_job(uow: UnitOfWork, job_id: int) -> RevaluationJob:
    with uow:
        found = uow.valuation.revaluation_job(job_id)
    if found is None:
        raise NotFound("revaluation job", job_id)
    return found


def list_jobs(
    uow: UnitOfWork, status: str | None = None, limit: int = 50, offset: int = 0
) -> Page[RevaluationJob]:
    """Revaluation jobs, newest first, optionally of one status."""
    limit, offset = page_bounds(limit, offset)
    if status is not None and status not in STATUSES:
        raise InvalidInput(
            f"Unknown status {status!r}: use one of {', '.join(STATUSES)}.", "status"
        )
    with uow:
        rows, total = uow.valuation.revaluation_jobs(status, limit, offset)
    return Page(rows, total, limit, offset)


def inline_limit(uow: UnitOfWork) -> int:
    """Above how many later moves of an item a revaluation becomes a job."""
    with uow:
        return inline_revaluation_limit(uow)


@retrying
def set_inline_limit(uow: UnitOfWork, moves: int, *, actor: str = "system") -> int:
    """Set above how many later moves of an item a backdated move's revaluation is traced by
    the worker instead of in its own transaction (0: always by the worker)."""
    if moves < 0:
        raise InvalidInput(
            f"revaluation_inline_moves must be zero or more; {moves} was given.", "inline_moves"
        )
    with uow.acting(actor):
        previous = inline_revaluation_limit(uow)
        uow.valuation.put_setting(REVALUATION_INLINE_MOVES, str(moves))
        uow.record(
            Changed(
                subject=f"settings:{REVALUATION_INLINE_MOVES}",
                verb="set_revaluation_inline_moves",
                values={"moves": moves, "previous": previous},
            )
        )
        uow.commit()
    return moves
