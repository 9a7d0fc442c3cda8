"""The webhook sender's TLS: one context for the process, and it checks certificates."""

from __future__ import annotations

import ssl

from leanstock.adapters.webhooks.sender import tls_context


def test_every_delivery_shares_one_context_that_checks_certificates_and_host_names() -> None:
    context = tls_context()
    assert context is tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    # The system's (or certifi's) CA bundle is loaded: a context without one trusts nothing.
    assert context.cert_store_stats()["x509_ca"] > 0
