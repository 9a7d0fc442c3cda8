"""Test doubles that implement the services' ports (`leanstock.services.ports`) in memory."""

from fakes.uow import InMemoryUnitOfWork

__all__ = ["InMemoryUnitOfWork"]
