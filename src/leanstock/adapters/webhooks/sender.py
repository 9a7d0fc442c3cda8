"""Send one webhook delivery over HTTP, after checking where its URL leads.

The host is resolved and every address it resolves to is checked (`domain.webhooks.
refused_address`) at each delivery, not only when the subscription was saved, since DNS can
change. (The HTTP client resolves the name again to connect; a DNS server answering
differently within that moment could still rebind it: pinning the checked address is
further work, noted in docs/security.md.) Redirects are never followed: a 3xx is a failed
attempt, so a receiver cannot bounce a delivery to an internal address.
"""

from __future__ import annotations

import functools
import socket
import ssl
import time

import httpx

from leanstock.domain.errors import InvalidInput
from leanstock.domain.webhooks import Sent, checked_url, refused_address

TIMEOUT = httpx.Timeout(10.0, connect=5.0)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One certificate-checking TLS context for every delivery of the process: making one reads
    the whole CA bundle (10-20 ms of CPU), which a new client per delivery did each time."""
    return httpx.create_ssl_context(trust_env=False)


def resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise InvalidInput(
            f"The host {host} cannot be resolved ({error.strerror}).", "url"
        ) from None
    return sorted({str(info[4][0]) for info in infos})


def check_target(url: str, allow_private: bool) -> str:
    """The address to connect to for `url`, after DNS; `InvalidInput` when it is refused."""
    _, host, port = checked_url(url)
    addresses = resolve(host, port)
    if not allow_private:
        for address in addresses:
            why = refused_address(address)
            if why is not None:
                raise InvalidInput(
                    f"{host} resolves to {address}, {why}: webhooks go to public addresses "
                    "only (set LEANSTOCK_WEBHOOKS_ALLOW_PRIVATE=true for development).",
                    "url",
                )
    return addresses[0]


def send(url: str, headers: dict[str, str], body: bytes, allow_private: bool) -> Sent:
    began = time.perf_counter()
    try:
        check_target(url, allow_private)
    except InvalidInput as error:
        return Sent(None, error.detail[:500], 0)
    try:
        with httpx.Client(
            timeout=TIMEOUT, follow_redirects=False, trust_env=False, verify=tls_context()
        ) as client:
            response = client.post(url, content=body, headers=headers)
    except httpx.HTTPError as failure:
        elapsed = int((time.perf_counter() - began) * 1000)
        return Sent(None, f"{type(failure).__name__}: {failure}"[:500], elapsed)
    elapsed = int((time.perf_counter() - began) * 1000)
    problem = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    return Sent(response.status_code, problem, elapsed)
