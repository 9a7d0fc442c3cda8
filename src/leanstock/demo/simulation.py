"""The day-by-day simulation that runs the demo business and logs every stock move.

Each day: suppliers deliver (late or short with their own probabilities) into the
warehouse; the warehouse kitchen bakes the stores' breads and pastries and the day's cake
orders from its ingredients, by the recipes; the stores get transfers from the warehouse;
demand is served first-expired-first-out from what is on hand and the rest is lost; drop-
shipped sales become purchase orders delivered straight to the customer; expired lots are
scrapped; and reorder points — set from the expected demand over the promised lead time plus a
safety stock z·σ (the kitchen's ingredients from the bakes the stores' demand asks for) —
trigger the next orders. Because every move is taken from simulated stock, the history posts
into the ledger without a single negative balance.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import numpy as np

from leanstock.demo.calendar import Calendar
from leanstock.demo.catalog import SUPPLIERS, SupplierProfile
from leanstock.demo.places import (
    ADJUSTMENT,
    BAKE,
    BAKE_USE,
    CONSUMPTION,
    CUSTOMER,
    EXPIRY,
    MILLI,
    NO_EXPIRY,
    OPENING,
    PRODUCTION,
    RECEIPT,
    SCRAP,
    SHIPMENT,
    SUPPLIER,
    TRANSFER,
    WH,
)
from leanstock.demo.slots import Floats, Ints, Slots
from leanstock.domain.catalog import SupplierItem

Z = 1.65  # safety factor: a 95 % cycle service level under normal lead-time demand
STORE_COVER = 3
BACKUP_SHARE = 0.1  # orders that go to the backup supplier (primary out of stock, a better deal)
BAKE_MARGIN = 1.1
"""A store asks the kitchen for its expected sales × BAKE_MARGIN + 0.8·√expected, so that a
busy day rarely runs out; the kitchen's ingredient buffers plan for that much."""
DISRUPTED_SUPPLIER = "ROASTHOUSE"
DISRUPTION = (0.55, 0.63)
"""Share of the history during which the disrupted supplier (a fire at the roastery) delivers
every order DISRUPTION_DELAY days late and half short: a period scorecards and lead-time
estimates should see, and stock-outs the forecasts should not mistake for low demand."""
DISRUPTION_DELAY = 12


@dataclass
class Line:
    """One purchase order line; a drop-shipped one is delivered to the customer."""

    po: int
    slot: int
    supplier: int
    ordered: int
    delivered: int
    ordered_on: int
    promised_on: int
    received_on: int
    drop_ship: bool = False


class Log:
    """The moves, collected as arrays (a batch at once) or row by row (lot by lot)."""

    COLUMNS = ("day", "kind", "slot", "source", "target", "quantity", "lot", "po")

    def __init__(self) -> None:
        self.chunks: dict[str, list[Ints]] = {c: [] for c in self.COLUMNS}
        self.rows: list[tuple[int, ...]] = []

    def batch(
        self, day: int, kind: int, slots: Ints, source: Ints | int, target: Ints | int, qty: Ints
    ) -> None:
        keep = qty > 0
        n = int(keep.sum())
        if n == 0:
            return
        for column, values in zip(
            self.COLUMNS, (day, kind, slots, source, target, qty, -1, -1), strict=True
        ):
            array = np.asarray(values, dtype=np.int64)
            self.chunks[column].append(array[keep] if array.ndim else np.full(n, array))

    def row(
        self, day: int, kind: int, slot: int, source: int, target: int, qty: int, lot: int, po: int
    ) -> None:
        self.rows.append((day, kind, slot, source, target, qty, lot, po))

    def arrays(self) -> dict[str, Ints]:
        rows = np.array(self.rows, dtype=np.int64).reshape(-1, len(self.COLUMNS))
        return {
            c: np.concatenate([*self.chunks[c], rows[:, k]]) for k, c in enumerate(self.COLUMNS)
        }


class Simulation:
    """Runs the business day by day over all slots at once; lots are tracked per slot."""

    def __init__(
        self,
        rng: np.random.Generator,
        terms: list[list[SupplierItem]],
        slots: Slots,
        recipes: Ints,
        calendar: Calendar,
        mu: Floats,
        demand: Ints,
    ) -> None:
        self.rng = rng
        self.terms = terms
        self.s = slots
        self.recipes = recipes
        self.calendar = calendar
        self.mu = mu
        self.demand = demand
        self.days = demand.shape[0]
        self.supplier_index = {p.code: k for k, p in enumerate(SUPPLIERS)}
        # Planning demand: a warehouse slot plans for its own online demand and its stores',
        # and an ingredient for what the kitchen's bakes will take of it.
        own_variance = slots.variance(mu)
        plan, variance = mu.copy(), own_variance.copy()
        fed = np.flatnonzero(slots.fed)
        np.add.at(plan.T, slots.feeder[fed], mu[:, fed].T)
        np.add.at(variance.T, slots.feeder[fed], own_variance[:, fed].T)
        self._plan_ingredients(plan, variance)
        # Cumulative sums (a zero row first), so any window's total is one subtraction.
        zero = np.zeros((1, slots.n))
        self.own = np.vstack([zero, np.cumsum(mu, axis=0)]) * MILLI
        self.own_var = np.vstack([zero, np.cumsum(own_variance, axis=0)]) * MILLI**2
        self.plan = np.vstack([zero, np.cumsum(plan, axis=0)]) * MILLI
        self.plan_var = np.vstack([zero, np.cumsum(variance, axis=0)]) * MILLI**2
        self.on_hand: Ints = np.zeros(slots.n, dtype=np.int64)
        self.on_order: Ints = np.zeros(slots.n, dtype=np.int64)
        self.want: Ints = np.zeros(slots.n, dtype=np.int64)  # what a store asks the kitchen for
        self.served: Ints = np.zeros_like(demand)
        self.lots: dict[int, list[list[int]]] = {int(s): [] for s in np.flatnonzero(slots.lot)}
        self.lot_names: list[tuple[int, str, int]] = []  # (item, code, expiry day or NO_EXPIRY)
        self.lot_ids: dict[tuple[int, str], int] = {}
        self.arrivals: dict[int, list[Line]] = defaultdict(list)
        self.lines: list[Line] = []
        self.orders = 0
        self.log = Log()
        made = self.recipes.any(axis=1)
        # Bake first what only takes bought ingredients, then what takes a bake (a sandwich
        # takes a baguette), so the second round finds the first one's output.
        takes_bake = (self.recipes[:, made] > 0).any(axis=1)
        self.rounds = [np.flatnonzero(made & ~takes_bake), np.flatnonzero(made & takes_bake)]

    def _plan_ingredients(self, plan: Floats, variance: Floats) -> None:
        """Add to each ingredient's planning demand what the kitchen's bakes take of it.

        Gross requirements through the recipes, g = d + g·B (B: units of a component per unit
        made; d: the bakes the stores' and online orders ask for), and their variance alike
        with B², the bakes' demands taken as independent.
        """
        s = self.s
        per_unit = self.recipes / MILLI
        wh = s.wh
        kitchen = s.made[wh] | s.to_order[wh]
        direct = np.where(kitchen[None, :], plan[:, wh] * BAKE_MARGIN, 0.0)
        spread = np.where(kitchen[None, :], variance[:, wh] * BAKE_MARGIN**2, 0.0)
        gross, gross_var = direct, spread
        for _ in range(3):  # recipes are at most two levels deep
            gross = direct + gross @ per_unit
            gross_var = spread + gross_var @ per_unit**2
        ingredient = s.ingredient[wh]
        plan[:, wh[ingredient]] += gross[:, ingredient]
        variance[:, wh[ingredient]] += gross_var[:, ingredient]

    # Levels

    def _window(self, cum: Floats, first: int, length: Ints | int, slots: Ints) -> Floats:
        last = np.minimum(first + np.asarray(length), cum.shape[0] - 1)
        return np.asarray(cum[last, slots] - cum[first, slots], dtype=np.float64)

    def _levels(
        self, day: int, slots: Ints, lead: Ints | int, cover: Ints | int, own: bool
    ) -> tuple[Floats, Floats]:
        """(reorder point s, order-up-to level S) in thousandths from `day` on.

        s = expected demand over lead time + review day + z·σ over it; S = s + `cover` days.
        """
        cum, var = (self.own, self.own_var) if own else (self.plan, self.plan_var)
        protect = np.asarray(lead) + 1
        need = self._window(cum, day, protect, slots)
        s = need + Z * np.sqrt(self._window(var, day, protect, slots))
        cycle = self._window(cum, day, protect + np.asarray(cover), slots) - need
        return s, s + cycle

    # Lots

    def _lot(self, item: int, code: str, expiry: int) -> int:
        key = (item, code)
        if key not in self.lot_ids:
            self.lot_ids[key] = len(self.lot_names)
            self.lot_names.append((item, code, expiry))
        return self.lot_ids[key]

    def _put(self, slot: int, lot: int, qty: int) -> None:
        held = self.lots[slot]
        for entry in held:
            if entry[1] == lot:
                entry[2] += qty
                return
        held.append([self.lot_names[lot][2], lot, qty])
        held.sort()

    def _take(self, slot: int, qty: int) -> list[tuple[int, int]]:
        """Take `qty` from a slot's lots, first-expired-first-out: [(lot, quantity)]."""
        held = self.lots[slot]
        taken = []
        while qty > 0:
            entry = held[0]
            part = min(qty, entry[2])
            taken.append((entry[1], part))
            entry[2] -= part
            qty -= part
            if entry[2] == 0:
                held.pop(0)
        return taken

    def _date(self, day: int) -> date:
        return self.calendar.dates[day]

    # The days

    def run(self) -> None:
        self._open()
        for day in range(self.days):
            self._receive(day)
            if not self.calendar.closed[day]:
                self._bake(day)
                self._transfer(day)
                self._serve(day)
                self._drop_ship(day)
            self._expire(day)
            if not self.calendar.closed[day]:
                self._order(day)

    def _open(self) -> None:
        """Opening stock, counted on the first morning: about what the reorder rule would hold.

        Bakes start from nothing (the kitchen's first bake is on the first morning), and
        drop-shipped lines are never stocked.
        """
        s = self.s
        slots = np.flatnonzero(s.bought | (s.fed & ~s.bakes))
        lead = np.where(s.fed[slots], 1, s.lead[slots])
        cover = np.where(s.fed[slots], STORE_COVER, s.cover[slots])
        low, high = self._levels(0, slots, lead, cover, own=False)
        fraction = self.rng.uniform(0.5, 1.0, len(slots))
        qty = self._round(slots, low + fraction * (high - low), up=True)
        expiry = {}
        for slot, q in zip(slots, qty, strict=True):
            self.on_hand[slot] = q
            if s.lot[slot] and q > 0:
                i = int(s.item[slot])
                shelf = int(s.shelf[slot])
                if i not in expiry:
                    expiry[i] = int(self.rng.integers(1, shelf + 1)) if shelf else NO_EXPIRY
                lot = self._lot(i, f"OPEN-{self._date(0):%y%m%d}", expiry[i])
                self._put(int(slot), lot, int(q))
                self.log.row(0, OPENING, int(slot), ADJUSTMENT, int(s.loc[slot]), int(q), lot, -1)
        plain = ~s.lot[slots]
        self.log.batch(0, OPENING, slots[plain], ADJUSTMENT, s.loc[slots[plain]], qty[plain])

    def _round(self, slots: Ints, qty: Floats, up: bool) -> Ints:
        """Whole units for counted items, thousandths for weighed ones."""
        step = np.where(self.s.weighed[slots], 1, MILLI)
        units = np.ceil(qty / step) if up else np.floor(qty / step)
        return np.asarray(np.maximum(units, 0) * step, dtype=np.int64)

    def _receive(self, day: int) -> None:
        for line in self.arrivals.pop(day, []):
            slot = line.slot
            if not line.drop_ship:
                self.on_order[slot] -= line.ordered
            if line.delivered == 0:
                continue
            lot = -1
            if self.s.lot[slot]:
                shelf = int(self.s.shelf[slot])
                code = f"L{self._date(day):%y%m%d}-{line.po:05d}"
                lot = self._lot(int(self.s.item[slot]), code, day + shelf if shelf else NO_EXPIRY)
            if line.drop_ship:
                # The supplier delivers to the customer: the stock never enters ours.
                self.log.row(day, RECEIPT, slot, SUPPLIER, CUSTOMER, line.delivered, lot, line.po)
                continue
            self.on_hand[slot] += line.delivered
            if lot >= 0:
                self._put(slot, lot, line.delivered)
            target = int(self.s.loc[slot])
            self.log.row(day, RECEIPT, slot, SUPPLIER, target, line.delivered, lot, line.po)

    def _bake(self, day: int) -> None:
        """The warehouse kitchen bakes, by the recipes, from the ingredients it has.

        Each store asks for what today's expected sales need (× BAKE_MARGIN + 0.8·√expected)
        less what it still holds; the kitchen bakes the stores' asks less its own leftovers,
        in trays, and exactly the day's cake orders. Where an ingredient is short every bake
        that takes it is cut in the same proportion (to whole trays), so the ingredients
        taken never exceed those on hand.
        """
        s = self.s
        stores = np.flatnonzero(s.fed & s.bakes)
        expected = self.mu[day, stores]
        target = np.where(
            expected > 0, np.ceil(expected * BAKE_MARGIN + 0.8 * np.sqrt(expected)), 0
        )
        want = np.maximum(target * MILLI - self.on_hand[stores], 0)
        self.want[stores] = want
        items = len(s.wh)
        asked = np.zeros(items, dtype=np.int64)  # thousandths per item, for the kitchen
        np.add.at(asked, s.item[stores], want)
        cakes = np.flatnonzero(s.to_order)
        asked[s.item[cakes]] += self.demand[day, cakes]
        planned = np.zeros(items, dtype=np.int64)  # whole units per item
        for made in reversed(self.rounds):  # what takes a bake asks for that bake first
            short = np.maximum(asked[made] - self.on_hand[s.wh[made]], 0)
            batch = s.batch[s.wh[made]]
            planned[made] = np.ceil(short / MILLI / batch).astype(np.int64) * batch
            asked += planned[made] @ self.recipes[made]
        for made in self.rounds:
            self._bake_round(day, made, planned[made])

    def _bake_round(self, day: int, made: Ints, planned: Ints) -> None:
        s = self.s
        recipes = self.recipes[made]
        need = planned @ recipes  # thousandths per component item
        have = self.on_hand[s.wh]
        ratio = np.where(need > 0, np.minimum(1.0, have / np.maximum(need, 1)), 1.0)
        factor = np.where(recipes > 0, ratio[None, :], 1.0).min(axis=1)
        batch = s.batch[s.wh[made]]
        qty = (np.floor(planned * factor / batch) * batch).astype(np.int64)
        use = qty @ recipes
        for component in np.flatnonzero(use):
            slot = int(s.wh[component])
            self.on_hand[slot] -= int(use[component])
            if s.lot[slot]:
                for lot, part in self._take(slot, int(use[component])):
                    self.log.row(day, BAKE_USE, slot, WH, PRODUCTION, part, lot, -1)
            else:
                self.log.row(day, BAKE_USE, slot, WH, PRODUCTION, int(use[component]), -1, -1)
        for item, units in zip(made, qty, strict=True):
            if units <= 0:
                continue
            slot = int(s.wh[item])
            lot = self._lot(int(item), f"B{self._date(day):%y%m%d}", day + int(s.shelf[slot]))
            self.on_hand[slot] += int(units) * MILLI
            self._put(slot, lot, int(units) * MILLI)
            self.log.row(day, BAKE, slot, PRODUCTION, WH, int(units) * MILLI, lot, -1)

    def _transfer(self, day: int) -> None:
        """Each store gets its bakes and, below its reorder point, bought goods up to its
        order-up-to level, as far as the warehouse has them (first expired first)."""
        s = self.s
        slots = np.flatnonzero(s.fed)
        low, high = self._levels(day, slots, 1, STORE_COVER, own=True)
        short = self.on_hand[slots] < low
        want = self._round(slots, np.where(short, high - self.on_hand[slots], 0), up=True)
        want = np.where(s.bakes[slots], self.want[slots], want)
        for slot, q in zip(slots, want, strict=True):
            feeder = int(s.feeder[slot])
            give = min(int(q), int(self.on_hand[feeder]))
            if give <= 0:
                continue
            self.on_hand[feeder] -= give
            self.on_hand[slot] += give
            store = int(s.loc[slot])
            if s.lot[slot]:
                for lot, part in self._take(feeder, give):
                    self._put(int(slot), lot, part)
                    self.log.row(day, TRANSFER, int(slot), WH, store, part, lot, -1)
            else:
                self.log.row(day, TRANSFER, int(slot), WH, store, give, -1, -1)

    def _serve(self, day: int) -> None:
        s = self.s
        served = np.minimum(self.demand[day], self.on_hand)
        self.served[day] = served
        self.on_hand -= served
        every = np.arange(s.n)
        sink = np.where(s.consumed, PRODUCTION, CUSTOMER)
        kind = np.where(s.consumed, CONSUMPTION, SHIPMENT)
        for k in (SHIPMENT, CONSUMPTION):
            plain = ~s.lot & (kind == k)
            self.log.batch(day, k, every[plain], s.loc[plain], sink[plain], served[plain])
        for slot in np.flatnonzero(s.lot & (served > 0)):
            for lot, part in self._take(int(slot), int(served[slot])):
                where = int(s.loc[slot])
                self.log.row(day, int(kind[slot]), int(slot), where, int(sink[slot]), part, lot, -1)

    def _drop_ship(self, day: int) -> None:
        """Each drop-shipped sale is a purchase order of its own, delivered to the customer."""
        s = self.s
        for slot in np.flatnonzero(s.drop & (self.demand[day] > 0)).tolist():
            qty = int(self.demand[day, slot])
            self.served[day, slot] = qty
            terms = self.terms[int(s.item[slot])][0]
            supplier = self.supplier_index[terms.supplier]
            self._place(day, SUPPLIERS[supplier], supplier, [(slot, qty, terms)], drop_ship=True)

    def _expire(self, day: int) -> None:
        """Scrap lots at the end of their last usable day."""
        for slot, held in self.lots.items():
            while held and held[0][0] <= day:
                _, lot, qty = held.pop(0)
                self.on_hand[slot] -= qty
                self.log.row(day, EXPIRY, slot, int(self.s.loc[slot]), SCRAP, qty, lot, -1)

    def _order(self, day: int) -> None:
        """Order up to S from the supplier where stock plus open orders fell below s.

        One purchase order per supplier and location per day; the supplier delivers it late
        (1 + Poisson days) or lines of it short with its own probabilities.
        """
        s = self.s
        slots = np.flatnonzero(s.bought)
        low, high = self._levels(day + 1, slots, s.lead[slots], s.cover[slots], own=False)
        position = self.on_hand[slots] + self.on_order[slots]
        backup = self.rng.random(len(slots)) < BACKUP_SHARE
        due = (position < low) & (high > position)
        pack, moq = s.pack[slots], s.moq[slots]
        qty = np.maximum(np.ceil((high - position) / pack) * pack, moq).astype(np.int64)
        orders: dict[tuple[int, int], list[tuple[int, int, SupplierItem]]] = defaultdict(list)
        for k in np.flatnonzero(due):
            slot = int(slots[k])
            choices = self.terms[int(s.item[slot])]
            terms = choices[1] if backup[k] and len(choices) > 1 else choices[0]
            supplier = self.supplier_index[terms.supplier]
            orders[(supplier, int(s.loc[slot]))].append((slot, int(qty[k]), terms))
        for (supplier, _), lines in sorted(orders.items()):
            self._place(day, SUPPLIERS[supplier], supplier, lines)

    def _place(
        self,
        day: int,
        profile: SupplierProfile,
        supplier: int,
        lines: list[tuple[int, int, SupplierItem]],
        drop_ship: bool = False,
    ) -> None:
        """Place one purchase order; the supplier delivers it late (1 + Poisson days) or lines
        of it short, with its own probabilities (a drop-shipped line is never short)."""
        self.orders += 1
        po = self.orders
        late = self.rng.random() < profile.p_late
        delay = 1 + int(self.rng.poisson(profile.delay)) if late else 0
        disrupted = profile.code == DISRUPTED_SUPPLIER and (
            int(self.days * DISRUPTION[0]) <= day < int(self.days * DISRUPTION[1])
        )
        if disrupted:
            delay += DISRUPTION_DELAY
        for slot, qty, terms in lines:
            promised = day + terms.lead_time_days
            arrival = promised + delay
            while arrival < len(self.calendar.dates) and (
                self.calendar.weekday[arrival] == 6 or self.calendar.closed[arrival]
            ):
                arrival += 1  # no deliveries on Sundays or holidays
            delivered = qty
            if self.rng.random() < profile.p_short and not drop_ship:
                pack = int(terms.pack_size) * MILLI
                delivered = int(qty * self.rng.uniform(0.5, 0.9)) // pack * pack
            if disrupted:
                pack = int(terms.pack_size) * MILLI
                delivered = min(delivered, qty // 2 // pack * pack)
            line = Line(po, slot, supplier, qty, delivered, day, promised, arrival, drop_ship)
            self.lines.append(line)
            if not drop_ship:
                self.on_order[slot] += qty
            self.arrivals[arrival].append(line)
