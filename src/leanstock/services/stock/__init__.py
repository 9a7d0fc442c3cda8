"""Stock use cases: moves (receive, ship, transfer, count, scrap) and reservations; quarantine
and the expiry sweep live in `quarantine` and `expiry`."""

from leanstock.services.posting import MoveLine, Operation, StockLine
from leanstock.services.stock.moves import (
    count,
    receive,
    receive_lines,
    scrap,
    ship,
    ship_lines,
    transfer,
    transfer_lines,
)
from leanstock.services.stock.reservations import (
    ReservationView,
    consume,
    get_reservation,
    list_reservations,
    release,
    reserve,
)

__all__ = [
    "MoveLine",
    "Operation",
    "ReservationView",
    "StockLine",
    "consume",
    "count",
    "get_reservation",
    "list_reservations",
    "receive",
    "receive_lines",
    "release",
    "reserve",
    "scrap",
    "ship",
    "ship_lines",
    "transfer",
    "transfer_lines",
]
