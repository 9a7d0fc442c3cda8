"""Webhooks from the outbox, against a receiver on 127.0.0.1, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from leanstock.adapters.db import order_tables as o
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.adapters.webhooks.sender import check_target, send
from leanstock.domain.catalog import Item, Location
from leanstock.domain.errors import InvalidInput
from leanstock.domain.webhooks import (
    EVENT_ID_HEADER,
    GIVE_UP_AFTER,
    SIGNATURE_HEADER,
    Sent,
    verify,
)
from leanstock.services import catalog, orders, webhooks

D = Decimal
allow_loopback = partial(check_target, allow_private=True)
to_loopback = partial(send, allow_private=True)


class Receiver:
    """An HTTP receiver on 127.0.0.1 that keeps what it got; `up` False answers 503."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.up = True
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if not receiver.up:
                    self.send_response(503)
                    self.end_headers()
                    return
                with receiver.lock:
                    receiver.received.append((dict(self.headers.items()), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        # Polled every 10 ms, not serve_forever's 0.5 s, which `shutdown` waited out per test.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.thread.start()

    def ids(self) -> list[str]:
        return [headers[EVENT_ID_HEADER] for headers, _ in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


@pytest.fixture
def shop(uow: UnitOfWork) -> UnitOfWork:
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_item(uow, Item("CUP", "Paper cup"))
    return uow


def place(uow: UnitOfWork, n: int) -> None:
    for i in range(n):
        orders.place_order(uow, f"Customer {i}", [orders.NewLine("CUP", D(1), "WH")])


def outbox_ids(uow: UnitOfWork) -> list[str]:
    with uow:
        return [str(e["id"]) for e in uow.outbox.events()]


def test_a_delivery_is_signed_so_the_receiver_can_check_it(
    shop: UnitOfWork, receiver: Receiver
) -> None:
    hook = webhooks.subscribe(shop, receiver.url, ["sales_order.placed"], allow_loopback)
    place(shop, 1)
    done = webhooks.publish(shop, to_loopback)
    assert done.delivered == 1
    headers, body = receiver.received[0]
    assert verify(hook["secret"], headers[SIGNATURE_HEADER], body)
    assert not verify("another secret", headers[SIGNATURE_HEADER], body)
    assert not verify(hook["secret"], headers[SIGNATURE_HEADER], body + b" ")
    event = json.loads(body)
    assert (event["type"], event["id"]) == ("sales_order.placed", headers[EVENT_ID_HEADER])
    assert event["subject"] == "SO-000001"
    assert event["dataschema"] == "urn:leanstock:event:sales_order.placed:v1"
    with shop:
        published = shop.connection.execute(
            select(func.count()).where(o.outbox.c.published_at.is_(None))
        ).scalar_one()
    assert published == 0


def test_a_receiver_down_for_a_while_gets_everything_once_it_is_back(
    shop: UnitOfWork, receiver: Receiver
) -> None:
    webhooks.subscribe(shop, receiver.url, ["*"], allow_loopback)
    place(shop, 3)
    receiver.up = False
    now = datetime.now(UTC)
    first = webhooks.publish(shop, to_loopback, now=now)
    # The three orders, and the shop's location and item (catalog changes are events too).
    assert (first.delivered, first.failed) == (0, 5)
    again = webhooks.publish(shop, to_loopback, now=now + timedelta(seconds=1))
    assert again.delivered + again.failed == 0, "not due before the backoff"
    receiver.up = True
    later = now + timedelta(minutes=10)
    while webhooks.publish(shop, to_loopback, now=later).delivered:
        pass
    assert sorted(receiver.ids(), key=int) == outbox_ids(shop)
    rows, _ = webhooks.deliveries(shop, 1)
    assert {r["status"] for r in rows} == {"delivered"}
    assert all(r["attempts"] == 2 for r in rows)


def test_events_of_one_object_arrive_in_order(shop: UnitOfWork, receiver: Receiver) -> None:
    webhooks.subscribe(shop, receiver.url, ["*"], allow_loopback)
    view = orders.place_order(shop, "Bo", [orders.NewLine("CUP", D(1), "WH")])
    orders.cancel_order(shop, view.number)
    while webhooks.publish(shop, to_loopback).delivered:
        pass
    events = [json.loads(body) for _, body in receiver.received]
    types = [e["type"] for e in events if e["subject"] == view.number]
    assert types == ["sales_order.placed", "sales_order.cancelled"]


def test_an_endpoint_failing_for_24_hours_is_given_up_and_can_be_replayed(
    shop: UnitOfWork, receiver: Receiver
) -> None:
    hook = webhooks.subscribe(shop, receiver.url, ["sales_order.placed"], allow_loopback)
    place(shop, 1)
    receiver.up = False
    now = datetime.now(UTC)
    moment = now
    outcomes = []
    while moment < now + GIVE_UP_AFTER + timedelta(hours=2):
        done = webhooks.publish(shop, to_loopback, now=moment)
        outcomes.append(done)
        moment += timedelta(minutes=61)
    assert sum(d.dead for d in outcomes) == 1
    rows, _ = webhooks.deliveries(shop, hook["id"])
    assert rows[0]["status"] == "dead"
    assert rows[0]["attempts"] >= 20
    receiver.up = True
    assert webhooks.replay(shop, hook["id"], now=moment) == 1
    assert webhooks.publish(shop, to_loopback, now=moment).delivered == 1
    assert len(receiver.received) == 1


def test_a_subscription_gets_only_the_event_types_it_asked_for(
    shop: UnitOfWork, receiver: Receiver
) -> None:
    webhooks.subscribe(shop, receiver.url, ["sales_order.cancelled"], allow_loopback)
    view = orders.place_order(shop, "Bo", [orders.NewLine("CUP", D(1), "WH")])
    orders.cancel_order(shop, view.number)
    webhooks.publish(shop, to_loopback)
    assert [json.loads(b)["type"] for _, b in receiver.received] == ["sales_order.cancelled"]


def test_two_publishers_deliver_each_event_once(
    engine: Engine, shop: UnitOfWork, receiver: Receiver
) -> None:
    webhooks.subscribe(shop, receiver.url, ["*"], allow_loopback)
    place(shop, 30)
    errors: list[BaseException] = []

    def publisher() -> None:
        try:
            uow = UnitOfWork(engine)
            while True:
                done = webhooks.publish(uow, to_loopback, batch=5)
                if done.events == 0 and done.delivered == 0:
                    return
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=publisher) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    while webhooks.publish(shop, to_loopback).delivered:
        pass
    assert sorted(receiver.ids(), key=int) == outbox_ids(shop)
    # The 30 orders, and the shop's location and item (catalog changes are events too).
    assert len(receiver.ids()) == len(set(receiver.ids())) == 32


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost:8080/hook",
        "http://[::1]/hook",
        "http://192.168.1.20/hook",
    ],
)
def test_a_url_leading_to_the_servers_own_network_is_refused(shop: UnitOfWork, url: str) -> None:
    strict = partial(check_target, allow_private=False)
    with pytest.raises(InvalidInput, match="public addresses only"):
        webhooks.subscribe(shop, url, ["*"], strict)
    assert webhooks.subscriptions(shop) == []


def test_the_address_is_checked_again_at_delivery(shop: UnitOfWork, receiver: Receiver) -> None:
    webhooks.subscribe(shop, receiver.url, ["sales_order.placed"], allow_loopback)
    place(shop, 1)
    strict = partial(send, allow_private=False)
    done = webhooks.publish(shop, strict)
    assert (done.delivered, done.failed) == (0, 1)
    assert receiver.received == []
    rows, _ = webhooks.deliveries(shop, 1)
    assert "public addresses only" in rows[0]["last_error"]


def test_a_redirect_is_not_followed(shop: UnitOfWork) -> None:
    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(307)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    ).start()
    try:
        sent: Sent = send(
            f"http://127.0.0.1:{server.server_address[1]}/", {}, b"{}", allow_private=True
        )
    finally:
        server.shutdown()
        server.server_close()
    assert (sent.ok, sent.status_code) == (False, 307)


def test_an_unreachable_receiver_is_a_failed_attempt_not_a_crash() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sent = send(f"http://127.0.0.1:{port}/", {}, b"{}", allow_private=True)
    assert sent.status_code is None
    assert sent.error is not None
    assert "Connect" in sent.error
