"""The KPIs' monthly cost snapshot (`kpi_months`), kept up to date move by move.

Stock values come from replaying the moves through the costing rules (`domain.costing`). A
replay of every move takes seconds on a business with years of history, so the snapshot keeps
its result per month, item and holding location: closing quantity and value, cost of goods
sold, scrap by reason, and the value held × days from the month's start to the moment
`through` the row has seen (value-days). Where the replay stopped is kept too: per
item-location its cost layers and last arrival (`kpi_tracks`), the value production orders
have consumed and not yet put into output, and a watermark of the ledger (the newest move id
replayed, how many moves had an id up to it, and the last move's place in the replay order).

A refresh replays only the moves recorded since, from where each item-location stopped, and
rewrites only the rows those moves touch: the open month of each item-location moved, and any
month after it up to the move. When a month has begun since, every item-location still on
last month's row is rolled over (its month closed at its value; the new month opened at it).
The current month needs no refresh as time passes: a report extends the open row's value-days
from `through` to now at its closing value, which holds until the next move.

The whole snapshot is rebuilt from every move (`force`, or when the cache cannot be extended):
- a new move sorts before the last one replayed (backdated: later values change), or falls in
  a month before the one the snapshot was rolled to (recorded on 2 April as of 31 March);
- a move committed late, with an id below the watermark (fewer moves had such ids before);
- an item's unit cost or costing method, or the company's method, changed;
- the clock is before the month the snapshot was rolled to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from leanstock.domain.catalog import LocationKind
from leanstock.domain.costing import HOLDING_KINDS, CostedMove, Flow, FlowEvent, Layer, replay
from leanstock.domain.quantities import tidy
from leanstock.services.ports import UnitOfWork
from leanstock.services.retry import retrying

ZERO = Decimal(0)
PLACES = Decimal("0.000001")
DAY = Decimal(86400)
Key = tuple[int, int]  # (item id, location id)
Position = tuple[str, int, int]  # a move's place in the replay: occurred at, operation, id


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def at(moment: date) -> datetime:
    return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)


def average(row: dict[str, Any], end: datetime) -> Decimal:
    """The time-weighted average value a row held from its month's start to `end` (the
    month's end, or now for the current month): its value-days, plus its closing value from
    `through` to `end`, over the days."""
    start = at(row["month"])
    days = Decimal((end - start).total_seconds()) / DAY
    if days <= 0:
        return Decimal(row["closing_value"])
    extra = Decimal(max((end - row["through"]).total_seconds(), 0)) / DAY
    held: Decimal = (row["value_days"] + row["closing_value"] * extra) / days
    return held


@dataclass
class _Track:
    """An item-location where the replay stopped: what it holds, and its open month's row."""

    quantity: Decimal
    value: Decimal
    since: datetime
    month: date
    layers: list[Layer] = field(default_factory=list)
    last_arrival: Layer | None = None


def _layer(pair: list[str] | None) -> Layer | None:
    return None if pair is None else Layer(Decimal(pair[0]), Decimal(pair[1]))


def _pair(layer: Layer) -> list[str]:
    return [str(layer.quantity), str(layer.value)]


class _Snapshot:
    """The rows and tracks a refresh has loaded or made, and the flows it adds to them."""

    def __init__(self, reasons: dict[int, str]) -> None:
        self.reasons = reasons
        self.tracks: dict[Key, _Track] = {}
        self.rows: dict[tuple[date, int, int], dict[str, Any]] = {}

    def row(self, month: date, key: Key, track: _Track) -> dict[str, Any]:
        found = self.rows.get((month, *key))
        if found is None:
            found = self.rows[(month, *key)] = {
                "month": month,
                "item_id": key[0],
                "location_id": key[1],
                "closing_quantity": track.quantity,
                "closing_value": track.value,
                "value_days": ZERO,
                "through": at(month),
                "sold_value": ZERO,
                "scrapped": {},
            }
        return found

    def advance(self, key: Key, track: _Track, until: datetime) -> dict[str, Any]:
        """Carry the track's value from where it stands to `until`, closing each month it
        leaves; returns the row of the month `until` falls in."""
        while True:
            boundary = at(next_month(track.month))
            current = self.row(track.month, key, track)
            end = min(until, boundary)
            seconds = Decimal((end - track.since).total_seconds())
            current["value_days"] += track.value * seconds / DAY
            current["through"] = track.since = end
            if until < boundary:
                return current
            track.month = next_month(track.month)

    def add(self, e: FlowEvent) -> None:
        key = (e.item_id, e.location_id)
        track = self.tracks.get(key)
        if track is None:
            month = month_of(e.occurred_at.date())
            track = self.tracks[key] = _Track(ZERO, ZERO, e.occurred_at, month)
        current = self.advance(key, track, e.occurred_at)
        track.quantity += e.quantity
        track.value += e.value
        current["closing_quantity"], current["closing_value"] = track.quantity, track.value
        if e.flow is Flow.SOLD:
            current["sold_value"] -= e.value
        elif e.flow is Flow.SCRAPPED:
            reason = self.reasons.get(e.move_id, "other")
            scrapped = current["scrapped"]
            scrapped[reason] = str(Decimal(scrapped.get(reason, "0")) - e.value)

    def roll(self, month: date) -> None:
        """Bring every track still on an earlier month to the start of `month`."""
        start = at(month)
        for key, track in self.tracks.items():
            if track.month < month:
                self.advance(key, track, start)

    def months_out(self) -> list[dict[str, Any]]:
        out = []
        for r in self.rows.values():
            end = at(next_month(r["month"]))
            row = dict(r)
            row["value_days"] = r["value_days"].quantize(PLACES)
            row["average_value"] = tidy(average(row, min(end, r["through"])).quantize(PLACES))
            row["scrapped"] = {k: str(tidy(Decimal(v))) for k, v in sorted(r["scrapped"].items())}
            names = ("closing_quantity", "closing_value", "value_days", "sold_value")
            if row["scrapped"] or any(row[name] for name in names):
                out.append(row)
        return out

    def tracks_out(self, layers: dict[Key, list[Layer]], last: dict[Key, Layer]) -> list[Any]:
        return [
            {
                "item_id": key[0],
                "location_id": key[1],
                "month": track.month,
                "since": track.since,
                "quantity": track.quantity,
                "value": track.value,
                "layers": [_pair(x) for x in layers.get(key, [])],
                "last_arrival": None if key not in last else _pair(last[key]),
            }
            for key, track in self.tracks.items()
        ]


def _position(m: CostedMove) -> Position:
    return (m.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"), m.operation_id, m.id)


def _costs(uow: UnitOfWork) -> dict[str, str]:
    """What every item's replay depends on besides its moves: its unit cost and method."""
    from leanstock.services.valuation import company_method

    default = company_method(uow).value
    return {
        str(i.id): f"{i.unit_cost}|{(i.costing.value if i.costing else default)}"
        for i in uow.valuation.items()
    }


def _inputs(uow: UnitOfWork) -> tuple[dict[int, LocationKind], Any, Any]:
    from leanstock.services.valuation import company_method

    default = company_method(uow)
    every = uow.valuation.items()
    kinds = {k: kind for k, (_, kind) in uow.valuation.location_kinds().items()}
    methods = {i.id: i.costing or default for i in every}
    return kinds, methods, {i.id: i.unit_cost for i in every}


def _rebuild(uow: UnitOfWork, now: datetime, items_mark: str) -> None:
    kinds, methods, fallbacks = _inputs(uow)
    moves = [m for m in uow.valuation.moves() if m.occurred_at <= now]
    valuation = replay(moves, kinds, methods, fallbacks)
    snapshot = _Snapshot(uow.kpis.scrap_reasons())
    for e in valuation.events:
        if kinds.get(e.location_id) in HOLDING_KINDS:
            snapshot.add(e)
    snapshot.roll(month_of(now.date()))
    uow.kpis.put_snapshot(
        snapshot.months_out(),
        snapshot.tracks_out(valuation.layers, valuation.last_arrival),
        replace=True,
    )
    last = max(moves, key=lambda m: (m.occurred_at, m.operation_id, m.id), default=None)
    state = {
        "moves": max((m.id for m in moves), default=0),
        "count": len(moves),
        "position": None if last is None else list(_position(last)),
        "month": month_of(now.date()).isoformat(),
        "items": items_mark,
        "pools": [[k, str(v)] for k, v in valuation.pools.items()],
        "built_at": now.isoformat(),
    }
    uow.kpis.put_snapshot_state(state, _costs(uow))


def _load(uow: UnitOfWork, keys: Iterable[Key] | None, before: date | None) -> Any:
    """Tracks (as the snapshot's and as a replay's start) and their open rows."""
    from leanstock.domain.costing import Valuation

    start = Valuation()
    tracks: dict[Key, _Track] = {}
    for r in uow.kpis.tracks(keys, before):
        key = (int(r["item_id"]), int(r["location_id"]))
        layers = [x for x in (_layer(p) for p in r["layers"]) if x is not None]
        last = _layer(r["last_arrival"])
        tracks[key] = _Track(r["quantity"], r["value"], r["since"], r["month"], layers, last)
        start.layers[key] = layers
        if last is not None:
            start.last_arrival[key] = last
    rows = uow.kpis.month_rows((t.month, *key) for key, t in tracks.items())
    return tracks, start, rows


def _extend(uow: UnitOfWork, state: dict[str, Any], now: datetime, items_mark: str) -> bool:
    """Bring the snapshot up to date from `state`; False when it has to be rebuilt."""
    month = month_of(now.date())
    if month < date.fromisoformat(state["month"]):
        return False
    if uow.kpis.moves_up_to(state["moves"]) != state["count"]:
        return False
    costs = None
    if items_mark != state["items"]:
        costs = _costs(uow)
        if any(costs.get(k, v) != v for k, v in uow.kpis.snapshot_costs().items()):
            return False
    batch: list[CostedMove] = []
    for m in uow.kpis.moves_after(state["moves"]):
        if m.occurred_at > now:  # within the clock's skew: left for a later refresh
            break
        batch.append(m)
    batch.sort(key=_position)
    position = tuple(state["position"]) if state["position"] else None
    if batch and position is not None and _position(batch[0]) < position:
        return False
    if batch and batch[0].occurred_at < at(date.fromisoformat(state["month"])):
        return False
    kinds, methods, fallbacks = _inputs(uow)
    touched = {
        (m.item_id, place)
        for m in batch
        for place in (m.source_id, m.target_id)
        if kinds[place] in HOLDING_KINDS
    }
    tracks, start, rows = _load(uow, touched, None)
    start.pools = {k: Decimal(v) for k, v in state["pools"]}
    valuation = replay(batch, kinds, methods, fallbacks, start=start)
    snapshot = _Snapshot(uow.kpis.scrap_reasons(after=state["moves"]) if batch else {})
    snapshot.tracks = tracks
    for r in rows:
        r["scrapped"] = dict(r["scrapped"])
        snapshot.rows[(r["month"], int(r["item_id"]), int(r["location_id"]))] = r
    for e in valuation.events:
        if kinds.get(e.location_id) in HOLDING_KINDS:
            snapshot.add(e)
    layers = {key: valuation.layers.get(key, []) for key in touched}
    last = dict(valuation.last_arrival)
    if month > date.fromisoformat(state["month"]):
        stale, stale_start, stale_rows = _load(uow, None, month)
        for key, track in stale.items():
            if key not in snapshot.tracks:
                snapshot.tracks[key] = track
                layers[key], last_of = stale_start.layers[key], stale_start.last_arrival.get(key)
                if last_of is not None:
                    last[key] = last_of
        for r in stale_rows:
            r["scrapped"] = dict(r["scrapped"])
            snapshot.rows.setdefault((r["month"], int(r["item_id"]), int(r["location_id"])), r)
        snapshot.roll(month)
    months = snapshot.months_out()
    kept = {(r["month"], r["item_id"], r["location_id"]) for r in months}
    uow.kpis.put_snapshot(
        months,
        snapshot.tracks_out(layers, last),
        replace=False,
        dropped=[key for key in snapshot.rows if key not in kept],  # emptied: none is kept
    )
    if batch:
        state["moves"] = max(m.id for m in batch)
        state["count"] += len(batch)
        state["position"] = list(_position(batch[-1]))
    state["month"] = month.isoformat()
    state["items"] = items_mark
    state["pools"] = [[k, str(v)] for k, v in valuation.pools.items()]
    uow.kpis.put_snapshot_state(state, costs)
    return True


def _fresh(state: dict[str, Any] | None, marks: tuple[int, int], items: str, now: datetime) -> bool:
    return (
        state is not None
        and (state["moves"], state["count"]) == marks
        and state["items"] == items
        and state["month"] == month_of(now.date()).isoformat()
    )


@retrying
def refresh_snapshot(uow: UnitOfWork, now: datetime | None = None, force: bool = False) -> str:
    """Bring the snapshot up to date at `now`: `fresh` (nothing to do), `extended` (the moves
    since replayed onto it) or `rebuilt` (from every move; module docs say when)."""
    now = now or datetime.now(UTC)
    with uow:
        state = uow.kpis.snapshot_state()
        marks, items = uow.kpis.moves_mark(), uow.kpis.items_mark()
        if not force and _fresh(state, marks, items, now):
            return "fresh"
        state = uow.kpis.snapshot_state(lock=True)
        if not force and _fresh(state, marks, items, now):
            return "fresh"
        outcome = "extended"
        if force or state is None or not _extend(uow, state, now, items):
            _rebuild(uow, now, items)
            outcome = "rebuilt"
        uow.commit()
    return outcome
