"""Webhooks in the business's words: who may be called, how a delivery is signed, and when a
failed one is tried again.

A receiver checks a delivery by recomputing the signature (`sign`) over the timestamp and
the exact body with the subscription's secret, comparing in constant time, and refusing a
timestamp too far from its own clock (replays). `Leanstock-Event-Id` is the same on every
retry of one event, so a receiver that keeps the ids it has seen processes each event once
(delivery is at least once).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from leanstock.domain.errors import InvalidInput

SIGNATURE_HEADER = "Leanstock-Signature"
EVENT_ID_HEADER = "Leanstock-Event-Id"
EVENT_HEADER = "Leanstock-Event"
TIMESTAMP_HEADER = "Leanstock-Timestamp"
EVENT_NAME = re.compile(r"^(\*|[a-z_]+\.[a-z_]+)$")

# Retries: 30 s, 1 min, 2 min, ... doubling up to an hour between attempts, for 24 hours.
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(hours=24)
# Consecutive failed attempts after which a subscription is disabled (until replayed).
MAX_FAILURES = 50

CLOUD_METADATA = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),
        ipaddress.ip_address("169.254.170.2"),
        ipaddress.ip_address("fd00:ec2::254"),
        ipaddress.ip_address("100.100.100.200"),
    }
)


@dataclass(frozen=True)
class Sent:
    """How one attempt went: the receiver's status (None when none came back) or the error."""

    status_code: int | None
    error: str | None
    milliseconds: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>` (the scheme Stripe's
    webhooks use), so the timestamp cannot be changed without breaking the signature."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes) -> bool:
    """What a receiver does: recompute and compare in constant time."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if not parts.get("t", "").isdigit() or "v1" not in parts:
        return False
    return hmac.compare_digest(sign(secret, int(parts["t"]), body), header)


def next_wait(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure: FIRST_RETRY doubled each time, capped."""
    wait: timedelta = FIRST_RETRY * 2 ** max(attempts - 1, 0)
    return min(wait, LONGEST_WAIT)


def refused_address(address: str) -> str | None:
    """Why a webhook may not be sent to `address` (an IP), or None when it may: loopback,
    private, link-local, shared, multicast, reserved and cloud metadata addresses reach the
    server's own network, not a receiver on the internet (SSRF)."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in CLOUD_METADATA:
        return "a cloud metadata address"
    for test, what in (
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_private, "a private address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "not a public address"),
    ):
        if test:
            return what
    return None


def checked_url(url: str) -> tuple[str, str, int]:
    """(url, host, port) of an http(s) URL a webhook may name, else `InvalidInput`."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("The URL must be http:// or https:// with a host name.", "url")
    if parts.username or parts.password:
        raise InvalidInput("Put no user name or password in the URL; the secret signs.", "url")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise InvalidInput("The URL's port is not a number from 1 to 65535.", "url") from None
    return url.strip(), parts.hostname, port


def checked_events(events: list[str]) -> list[str]:
    if not events:
        raise InvalidInput('Name at least one event type, or "*" for all.', "events")
    for name in events:
        if not EVENT_NAME.match(name):
            raise InvalidInput(
                f'{name!r} is not an event type: write it like sales_order.shipped, or "*".',
                "events",
            )
    return sorted(set(events))
