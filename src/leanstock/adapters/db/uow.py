"""Unit of work: one database transaction and the repositories that work inside it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import Self
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, NestedTransaction
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from leanstock.adapters.db.accounts import AccountsRepository, TokenRow, token_and_user_alone
from leanstock.adapters.db.audit import AuditRepository
from leanstock.adapters.db.boms import BomsRepository
from leanstock.adapters.db.catalog import CatalogRepository
from leanstock.adapters.db.customers import CustomerRepository
from leanstock.adapters.db.edi import EdiRepository
from leanstock.adapters.db.history import HistoryRepository
from leanstock.adapters.db.invoices import InvoicesRepository
from leanstock.adapters.db.kpis import KpiRepository
from leanstock.adapters.db.ledger import LedgerRepository
from leanstock.adapters.db.outbox import OutboxRepository
from leanstock.adapters.db.pegs import PegsRepository
from leanstock.adapters.db.pipeline import pipelined
from leanstock.adapters.db.planning import PlanningRepository
from leanstock.adapters.db.production import ProductionRepository
from leanstock.adapters.db.purchasing import PurchasingRepository
from leanstock.adapters.db.sales import SalesRepository
from leanstock.adapters.db.serials import SerialsRepository
from leanstock.adapters.db.stock_reports import StockReports
from leanstock.adapters.db.stocktakes import StocktakesRepository
from leanstock.adapters.db.supplier_channel import SupplierChannelRepository
from leanstock.adapters.db.transfers import TransfersRepository
from leanstock.adapters.db.valuation import ValuationRepository
from leanstock.adapters.db.webhooks import WebhooksRepository
from leanstock.domain import catalog
from leanstock.domain.access import EVERYTHING, Visibility, current
from leanstock.domain.accounts import User
from leanstock.domain.errors import Conflict
from leanstock.domain.events import Aggregate, DomainEvent, collect
from leanstock.domain.ledger import Place
from leanstock.services.ports import RetryableConflict

# Who acts when a use case names nobody (the audit trail's actor).
SYSTEM = "system"


# The virtual locations whose balances a batch of stock documents changes last (`batch`).
DEFERRED = (catalog.SUPPLIER, catalog.CUSTOMER, catalog.ADJUSTMENT, catalog.SCRAP)

# PostgreSQL SQLSTATEs that mean "try the whole transaction again".
RETRYABLE_SQLSTATES = {"40001", "40P01", "55P03"}


def is_retryable(error: DBAPIError) -> bool:
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate in RETRYABLE_SQLSTATES:
        return True
    message = str(error.orig).lower()
    return isinstance(error, OperationalError) and "database is locked" in message


# The transaction every unit of work of this context joins (`one_transaction`).
_shared: ContextVar[Connection | None] = ContextVar("leanstock_shared_transaction", default=None)


@contextmanager
def one_transaction(connection: Connection) -> Iterator[None]:
    """Inside this block, every unit of work on `connection`'s engine works in a SAVEPOINT of
    `connection`'s open transaction instead of a transaction of its own: its `commit()` only
    releases the savepoint, and nothing is kept until whoever opened `connection` commits it.

    An idempotent request uses it so that its key's record and the request's writes commit
    together, or not at all (`entrypoints/api/idempotency.py`).
    """
    token = _shared.set(connection)
    try:
        yield
    finally:
        _shared.reset(token)


# Virtual locations are seeded by the migrations and never change, so each process looks
# them up once per engine.
_virtual_places: WeakKeyDictionary[Engine, dict[str, Place]] = WeakKeyDictionary()


class UnitOfWork:
    """`with uow:` opens a transaction; `uow.commit()` keeps it, leaving without commit rolls back.

    Database errors that mean "run again" surface as `RetryableConflict`; a constraint that
    catches what the code should have caught surfaces as a `Conflict`, never as a 500.
    """

    def __init__(
        self, engine: Engine, visibility: Visibility = EVERYTHING, autocommit: bool = False
    ) -> None:
        self.engine = engine
        # Each statement its own transaction: for work of one query, such as the token check
        # every API request makes, which then costs one round trip instead of three (BEGIN,
        # the query, ROLLBACK). Never for work of several statements that must agree.
        self.autocommit = autocommit
        # The rows the principal may read: every list and page the repositories answer is
        # narrowed by it (a warehouse user's locations, a supplier user's supplier).
        self.visibility = visibility
        self._connection: Connection | None = None
        # Set while this unit of work runs inside `one_transaction`: its savepoint there.
        self._joined: NestedTransaction | None = None
        self.actor = SYSTEM
        self._seen: list[Aggregate] = []
        self._recorded: list[DomainEvent] = []

    def acting(self, actor: str) -> Self:
        """`with uow.acting(actor):` — the audit rows this transaction writes name `actor`."""
        self.actor = actor
        return self

    def record(self, event: DomainEvent) -> None:
        """An event no aggregate loaded here records itself (a BOM set, a promise date moved
        by a supplier's acknowledgement); written on commit with the aggregates' events."""
        self._recorded.append(event)

    def token_and_user(self, prefix: str) -> tuple[TokenRow, User] | None:
        """The token check's one read (`AccountsRepository.token_and_user`). An autocommit unit
        on PostgreSQL outside `one_transaction` sends it on its own, straight to the driver
        (`accounts.token_and_user_alone`: every API request asks it); otherwise it is read in
        this unit's own transaction."""
        shared = _shared.get()
        if (
            self.autocommit
            and self._connection is None
            and self.dialect == "postgresql"
            and (shared is None or shared.engine is not self.engine)
        ):
            return token_and_user_alone(self.engine, prefix)
        with self:
            return self.accounts.token_and_user(prefix)

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("Use the unit of work inside `with uow:`.")
        return self._connection

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def _open(self) -> Connection:
        shared = _shared.get()
        if shared is not None and shared.engine is self.engine:
            self._joined = shared.begin_nested()
            return shared
        connection = self.engine.connect()
        if self.autocommit:
            return connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.begin()
        return connection

    def _keep(self) -> None:
        """Commit this unit of work's transaction, or release its savepoint (and open the
        next one, as a connection begins its next transaction after a commit)."""
        if self._joined is None:
            self.connection.commit()
            return
        self._joined.commit()
        self._joined = self.connection.begin_nested()

    def _close(self) -> None:
        """Roll back what is not kept; give the connection back unless it is shared."""
        connection, self._connection = self._connection, None
        joined, self._joined = self._joined, None
        if connection is None:
            return
        if joined is not None:
            if joined.is_active:
                joined.rollback()
            return
        try:
            if connection.in_transaction():
                connection.rollback()
        finally:
            connection.close()

    def __enter__(self) -> Self:
        self._connection = self._open()
        sees = self.visibility
        self.catalog = CatalogRepository(self._connection, sees)
        self.customers = CustomerRepository(self._connection)
        self.ledger = LedgerRepository(self._connection, sees)
        self.serials = SerialsRepository(self._connection, sees)
        self._seen = []
        self._recorded = []
        self.sales = SalesRepository(self._connection, self._seen, sees)
        self.purchasing = PurchasingRepository(self._connection, self._seen, sees)
        self.production = ProductionRepository(self._connection, self._seen, sees)
        self.transfers = TransfersRepository(self._connection, self._seen, sees)
        self.stocktakes = StocktakesRepository(self._connection, visibility=sees)
        self.boms = BomsRepository(self._connection)
        self.pegs = PegsRepository(self._connection)
        self.outbox = OutboxRepository(self._connection)
        self.history = HistoryRepository(self._connection)
        self.reports = StockReports(self._connection, visibility=sees)
        self.planning = PlanningRepository(self._connection, sees)
        self.valuation = ValuationRepository(self._connection)
        self.kpis = KpiRepository(self._connection)
        self.accounts = AccountsRepository(self._connection)
        self.audit = AuditRepository(self._connection)
        self.webhooks = WebhooksRepository(self._connection)
        self.edi = EdiRepository(self._connection, visibility=sees)
        self.invoices = InvoicesRepository(self._connection, visibility=sees)
        self.supplier_channel = SupplierChannelRepository(self._connection, self._seen, sees)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.actor = SYSTEM
        self._seen.clear()
        self._recorded.clear()
        self._close()
        if isinstance(exc, DBAPIError) and is_retryable(exc):
            raise RetryableConflict(str(exc.orig)) from exc
        if isinstance(exc, IntegrityError):
            raise Conflict(
                f"The database refused the change ({str(exc.orig).splitlines()[0]}); "
                "nothing was changed."
            ) from exc

    def virtual_place(self, code: str) -> Place:
        """The virtual location `code` (supplier, customer, scrap, ...), cached per engine."""
        places = _virtual_places.setdefault(self.engine, {})
        if code not in places:
            stored = self.catalog.location(code)
            places[code] = Place(stored.id, code, stored.value.may_go_negative)
        return places[code]

    def commit(self) -> None:
        """Write the events recorded in this transaction (`OutboxRepository.write`); keep it."""
        events = collect(self._seen, self._recorded)
        self._recorded.clear()
        try:
            # The outbox and audit rows and the COMMIT in one round trip (PostgreSQL).
            with pipelined(self.connection):
                if events:
                    # A use case that names no actor acts for the request's principal.
                    actor = self.actor if self.actor != SYSTEM else current().actor_name
                    self.outbox.write(events, actor)
                self._keep()
        except DBAPIError as error:
            if is_retryable(error):
                raise RetryableConflict(str(error.orig)) from error
            raise

    def rollback(self) -> None:
        if self._joined is None:
            self.connection.rollback()
            return
        self._joined.rollback()
        self._joined = self.connection.begin_nested()

    def batch(self, virtual_last: bool = False) -> BatchUnitOfWork:
        """A unit of work for many use cases in one transaction (`BatchUnitOfWork`)."""
        return BatchUnitOfWork(self.engine, self.visibility, virtual_last)


class BatchUnitOfWork(UnitOfWork):
    """One transaction around many use cases, for an all-or-nothing import.

    `open()` begins the transaction; each use case's own `with uow:` then runs in a SAVEPOINT
    and its `uow.commit()` only releases it, so a use case that fails undoes just itself (and
    the import can go on to report every bad row), while nothing is kept until `close(True)`.
    The use cases stay the only place their rules are written.
    """

    def __init__(
        self, engine: Engine, visibility: Visibility = EVERYTHING, virtual_last: bool = False
    ) -> None:
        super().__init__(engine, visibility)
        self._savepoint: NestedTransaction | None = None
        self._virtual_last = virtual_last
        # With `virtual_last`, the kept use cases' events (by actor, in order), written by
        # `close`: no use case of a batch reads the outbox or the audit trail.
        self._events: list[tuple[str, list[DomainEvent]]] = []

    def open(self) -> Self:
        super().__enter__()
        if self._virtual_last:
            try:
                self.ledger.defer(self.virtual_place(code).id for code in DEFERRED)
            except BaseException:
                super().__exit__(None, None, None)
                raise
        return self

    def close(self, keep: bool) -> None:
        """Keep everything (`keep`) or nothing, and give the connection back."""
        try:
            if keep:
                for actor, events in self._events:
                    self.outbox.write(events, actor)
                self.ledger.settle()
                self._keep()
        except DBAPIError as error:
            if is_retryable(error):
                raise RetryableConflict(str(error.orig)) from error
            raise
        finally:
            self._events = []
            super().__exit__(None, None, None)

    @contextmanager
    def all_or_nothing(self) -> Iterator[None]:
        """Inside the block, the use cases run (each in its own SAVEPOINT) are kept together
        or not at all: one SAVEPOINT around theirs, rolled back if the block raises. An EDI
        document that moves several orders applies whole or not at all."""
        savepoint = self.connection.begin_nested()
        try:
            yield
        except BaseException:
            if savepoint.is_active:
                savepoint.rollback()
            raise
        if savepoint.is_active:
            savepoint.commit()

    def acting(self, actor: str) -> Self:
        if actor != SYSTEM:
            self.actor = actor
        return self

    def __enter__(self) -> Self:
        if self._savepoint is not None:
            raise RuntimeError("A batch runs one use case at a time.")
        self._savepoint = self.connection.begin_nested()
        self._seen.clear()
        self._recorded.clear()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        savepoint, self._savepoint = self._savepoint, None
        self._seen.clear()
        self._recorded.clear()
        self.ledger.drop_deferred()
        if savepoint is not None and savepoint.is_active:
            savepoint.rollback()
        if isinstance(exc, DBAPIError) and is_retryable(exc):
            raise RetryableConflict(str(exc.orig)) from exc
        if isinstance(exc, IntegrityError):
            raise Conflict(
                f"The database refused the change ({str(exc.orig).splitlines()[0]}); "
                "nothing was changed."
            ) from exc

    def commit(self) -> None:
        events = collect(self._seen, self._recorded)
        self._recorded.clear()
        # As a single use case: one that names no actor acts for the request's principal.
        actor = self.actor if self.actor != SYSTEM else current().actor_name
        if events and not self._virtual_last:
            self.outbox.write(events, actor)
        if self._savepoint is not None and self._savepoint.is_active:
            self._savepoint.commit()
            self.ledger.keep_deferred()
            if events and self._virtual_last:
                if self._events and self._events[-1][0] == actor:
                    self._events[-1][1].extend(events)
                else:
                    self._events.append((actor, list(events)))

    def rollback(self) -> None:
        if self._savepoint is not None and self._savepoint.is_active:
            self._savepoint.rollback()

    def batch(self, virtual_last: bool = False) -> BatchUnitOfWork:
        raise RuntimeError("A batch does not open another batch.")
