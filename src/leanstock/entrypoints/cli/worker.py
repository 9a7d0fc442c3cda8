"""`leanstock worker`: the webhook publisher and the revaluation jobs on their own
(`leanstock serve` runs them too)."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Annotated

import typer

from leanstock.entrypoints.cli.app import app, console, err_console, handled, open_engine

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from leanstock.services.webhooks import Published


def publish_pass(engine: Engine) -> Published:
    from functools import partial

    from leanstock.adapters.db.uow import UnitOfWork
    from leanstock.adapters.webhooks.sender import send
    from leanstock.config import get_settings
    from leanstock.services import webhooks

    sender = partial(send, allow_private=get_settings().webhooks_allow_private)
    return webhooks.publish(UnitOfWork(engine), sender)


def revaluation_pass(engine: Engine) -> int:
    """Run the queued revaluation jobs (large revaluations of backdated moves)."""
    from leanstock.adapters.db.uow import UnitOfWork
    from leanstock.services import revaluation

    return revaluation.run_jobs(UnitOfWork(engine))


def run_publisher(engine: Engine, stop: threading.Event, interval: float) -> None:
    """Publish and run revaluation jobs until `stop` is set; wait `interval` seconds after a
    pass with nothing to do. A failing pass (database away) is logged and tried again, never
    ends the loop."""
    while not stop.is_set():
        try:
            done = publish_pass(engine)
            revalued = revaluation_pass(engine)
        except Exception as error:  # the loop outlives a database restart
            err_console.print(f"[red]Publisher:[/] {type(error).__name__}: {error}")
            stop.wait(interval)
            continue
        idle = done.events == 0 and done.delivered + done.failed + done.dead == 0
        if idle and revalued == 0:
            stop.wait(interval)


def start_publisher(engine: Engine, interval: float) -> threading.Event:
    """Run the publisher in a background thread; set the returned event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_publisher, args=(engine, stop, interval), name="publisher", daemon=True
    )
    thread.start()
    return stop


@app.command(name="worker")
def worker(
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
) -> None:
    """Publish the outbox to webhook subscribers (every event at least once, signed, retried
    with backoff for 24 hours) and run the revaluation jobs of backdated moves. Safe to run
    beside `leanstock serve` and other workers."""
    from leanstock.config import get_settings

    with handled():
        engine = open_engine()
        if once:
            done = publish_pass(engine)
            revalued = revaluation_pass(engine)
            console.print(
                f"{done.events} events published; {done.delivered} deliveries made, "
                f"{done.failed} to retry, {done.dead} given up; {revalued} revaluation "
                "jobs run.",
                soft_wrap=True,
            )
            return
        console.print("Publishing webhooks (Ctrl+C stops).")
        stop = threading.Event()
        try:
            run_publisher(engine, stop, get_settings().publisher_interval)
        except KeyboardInterrupt:
            stop.set()
        time.sleep(0)


app.command(name="publish", help="The same as `leanstock worker`.")(worker)
