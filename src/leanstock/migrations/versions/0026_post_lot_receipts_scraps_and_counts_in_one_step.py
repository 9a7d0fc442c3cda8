"""Post lot receipts, scraps and counts in one server-side step on PostgreSQL too

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-01 13:00:00.000000

Replaces `leanstock_post_document(doc jsonb)` (migration 0025, which says what the function
does) with one that also posts, dated now, naming no serials and outside batches (issue #18):

- a receipt naming lots: a lot already known keeps its expiry, so a line giving another date
  is declined (the rules in Python refuse it, `domain.ledger.received_lot`, word for word); a
  new lot is registered, in (item, code) order, with the expiry Python worked out by that same
  rule (the date given, or the day plus the item's shelf life) and handed over as `lots`;
- a scrap (`kind` 'scrap', with its reason and note): `take` with `respect_reservations`
  off and `allow_expired` on, as `services.stock.moves.scrap` calls it. The document says so
  (`respect_reservations`, `allow_expired`), so the function follows the caller's flags, not
  its kind: reservations are not checked, a named lot may be expired, first-expired-first-out
  still never picks an expired lot it was not told to take;
- a count (`counted`, in the stock unit; `services.stock.moves.count`): the books are the
  balance of the item, location and lot now, so an item with a move dated after now is
  declined (Python reads the books of the count's moment), and so is a gain where a sales
  line is backordered (Python fills it); a new lot is registered with the date given; the
  difference is posted as the line handed over (adjustment -> location, at the gain's cost)
  or turned round for a loss (at no cost: the stock's own), nothing when it matches. The
  answer carries the books (`held`), which the count's audit record shows.

Everything else is 0025's, and so is the principle: the function only ever says yes; where
the rules in Python would refuse, or another rule must run, it writes nothing and returns
NULL. SQLite has no such function: this revision does nothing there.
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = r"""
CREATE OR REPLACE FUNCTION leanstock_post_document(doc jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $fn$
DECLARE
    today date := (doc->>'today')::date;
    occurred timestamptz := (doc->>'occurred_at')::timestamptz;
    recorded timestamptz := (doc->>'recorded_at')::timestamptz;
    -- posting.take's flags: a scrap ignores reservations and may name an expired lot.
    respect_reservations boolean := coalesce((doc->>'respect_reservations')::boolean, true);
    allow_expired boolean := coalesce((doc->>'allow_expired')::boolean, false);
    -- A count: what was counted, in the stock unit; `lines` holds its gain (adjustment ->
    -- location, at the gain's cost), turned round for a loss.
    counted numeric := (doc->>'counted')::numeric;
    books numeric;
    difference numeric;
    wanted int := jsonb_array_length(doc->'rows');
    locked int;
    -- The source lots as the lines before the current one left them (lot '' = untracked).
    w_item bigint[] := '{}';
    w_loc bigint[] := '{}';
    w_lot text[] := '{}';
    w_qty numeric[] := '{}';
    w_exp date[] := '{}';
    -- The moves, in the order the lines pick them.
    m_line int[] := '{}';
    m_lot text[] := '{}';
    m_qty numeric[] := '{}';
    line record;
    lot_row record;
    reserved numeric;
    free numeric;
    held numeric;
    remaining numeric;
    took numeric;
    first_move int;
    found_at int;
    op_id bigint;
    answer jsonb;
BEGIN
    -- Lock the physical stock rows in (item, location) order; missing ones are created after
    -- and the set locked again (LedgerRepository.lock_stocks).
    SELECT count(*) INTO locked FROM (
        SELECT 1 FROM stock s
        JOIN jsonb_to_recordset(doc->'rows') AS r(item bigint, location bigint, negative boolean)
          ON s.item_id = r.item AND s.location_id = r.location
        ORDER BY s.item_id, s.location_id
        FOR UPDATE OF s
    ) AS rows_locked;
    IF locked < wanted THEN
        INSERT INTO stock (item_id, location_id, on_hand, reserved, may_go_negative)
        SELECT r.item, r.location, 0, 0, r.negative
        FROM jsonb_to_recordset(doc->'rows') AS r(item bigint, location bigint, negative boolean)
        ORDER BY r.item, r.location
        ON CONFLICT DO NOTHING;
        PERFORM 1 FROM stock s
        JOIN jsonb_to_recordset(doc->'rows') AS r(item bigint, location bigint, negative boolean)
          ON s.item_id = r.item AND s.location_id = r.location
        ORDER BY s.item_id, s.location_id
        FOR UPDATE OF s;
    END IF;

    IF doc->>'kind' = 'receipt' THEN
        IF doc->>'partner' IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM suppliers WHERE code = doc->>'partner') THEN
            RETURN NULL;
        END IF;
        -- A receipt fills the backorders waiting where it arrives: Python does that
        -- (SalesRepository.backordered).
        IF EXISTS (
            SELECT 1 FROM sales_lines sl
            JOIN sales_orders so ON so.id = sl.order_id
            JOIN jsonb_to_recordset(doc->'lines') AS l(item bigint, target bigint)
              ON sl.item_id = l.item AND sl.location_id = l.target
            WHERE NOT sl.cancelled AND sl.quantity > sl.shipped
              AND sl.fulfilment <> 'drop_ship'
              AND so.status IN ('confirmed', 'partially_shipped')
        ) THEN
            RETURN NULL;
        END IF;
        -- The lots it names (domain.ledger.received_lot): a known lot keeps the expiry it
        -- was registered with, another date given is refused (by Python); a new one is
        -- registered with the expiry Python worked out by the same rule.
        IF EXISTS (
            SELECT 1
            FROM jsonb_to_recordset(coalesce(doc->'lots', '[]'))
                AS n(item bigint, code text, given date, expiry date)
            JOIN lots lt ON lt.item_id = n.item AND lt.code = n.code
            WHERE n.given IS NOT NULL AND lt.expires_on IS DISTINCT FROM n.given
        ) THEN
            RETURN NULL;
        END IF;
        INSERT INTO lots (item_id, code, expires_on, created_at)
        SELECT n.item, n.code, n.expiry, recorded
        FROM jsonb_to_recordset(coalesce(doc->'lots', '[]'))
            AS n(item bigint, code text, given date, expiry date)
        ORDER BY n.item, n.code COLLATE "C"
        ON CONFLICT DO NOTHING;
        SELECT array_agg(l.ordinality::int - 1 ORDER BY l.ordinality),
               array_agg(coalesce(l.value->>'lot', '') ORDER BY l.ordinality),
               array_agg((l.value->>'quantity')::numeric ORDER BY l.ordinality)
          INTO m_line, m_lot, m_qty
          FROM jsonb_array_elements(doc->'lines') WITH ORDINALITY AS l(value, ordinality);
    ELSIF counted IS NOT NULL THEN
        -- A count (services.stock.moves.count) compares with the books of its moment: with
        -- a move of the item dated after now, Python reads them (valuation.balance_path).
        IF EXISTS (
            SELECT 1 FROM moves m
            WHERE m.item_id = (doc->'lines'->0->>'item')::bigint AND m.occurred_at > occurred
        ) THEN
            RETURN NULL;
        END IF;
        SELECT trim_scale(coalesce(sum(b.quantity), 0)) INTO books
          FROM balances b
         WHERE b.item_id = (doc->'lines'->0->>'item')::bigint
           AND b.location_id = (doc->'lines'->0->>'target')::bigint
           AND b.lot = coalesce(doc->'lines'->0->>'lot', '');
        difference := counted - books;
        -- A gain fills the backorders waiting there: Python does that (fill_backorders).
        IF difference > 0 AND EXISTS (
            SELECT 1 FROM sales_lines sl
            JOIN sales_orders so ON so.id = sl.order_id
            WHERE sl.item_id = (doc->'lines'->0->>'item')::bigint
              AND sl.location_id = (doc->'lines'->0->>'target')::bigint
              AND NOT sl.cancelled AND sl.quantity > sl.shipped
              AND sl.fulfilment <> 'drop_ship'
              AND so.status IN ('confirmed', 'partially_shipped')
        ) THEN
            RETURN NULL;
        END IF;
        -- A lot counted that is not known yet is registered, with the date given.
        INSERT INTO lots (item_id, code, expires_on, created_at)
        SELECT n.item, n.code, n.expiry, recorded
        FROM jsonb_to_recordset(coalesce(doc->'lots', '[]'))
            AS n(item bigint, code text, given date, expiry date)
        ON CONFLICT DO NOTHING;
        IF difference = 0 THEN
            -- A count that matches posts nothing.
            RETURN jsonb_build_object('operation', NULL, 'moves', '[]'::jsonb, 'held', books::text);
        END IF;
        IF difference < 0 THEN
            doc := jsonb_set(doc, '{lines,0}', (doc->'lines'->0) || jsonb_build_object(
                'source', doc->'lines'->0->'target', 'target', doc->'lines'->0->'source',
                'source_negative', doc->'lines'->0->'target_negative',
                'target_negative', doc->'lines'->0->'source_negative', 'unit_cost', NULL));
        END IF;
        m_line := ARRAY[0];
        m_lot := ARRAY[coalesce(doc->'lines'->0->>'lot', '')];
        m_qty := ARRAY[abs(difference)];
    ELSE
        -- A move dated after this one of an item it takes: the history check is Python's
        -- (posting.check_history).
        IF EXISTS (
            SELECT 1 FROM moves m
            WHERE m.item_id IN (
                SELECT (l->>'item')::bigint FROM jsonb_array_elements(doc->'lines') AS l
                WHERE NOT (l->>'source_negative')::boolean)
              AND m.occurred_at > occurred
        ) THEN
            RETURN NULL;
        END IF;
        -- Read after the locks, in a statement of its own: it sees what committed before.
        SELECT coalesce(array_agg(b.item_id), '{}'), coalesce(array_agg(b.location_id), '{}'),
               coalesce(array_agg(b.lot), '{}'), coalesce(array_agg(trim_scale(b.quantity)), '{}'),
               coalesce(array_agg(lt.expires_on), '{}')
          INTO w_item, w_loc, w_lot, w_qty, w_exp
          FROM balances b
          LEFT JOIN lots lt ON lt.item_id = b.item_id AND lt.code = b.lot
          WHERE (b.item_id, b.location_id) IN (
              SELECT (l->>'item')::bigint, (l->>'source')::bigint
              FROM jsonb_array_elements(doc->'lines') AS l);
        -- The lines come in the order Python picks them (by item, stably).
        FOR line IN
            SELECT (l.value->>'item')::bigint AS item, (l.value->>'source')::bigint AS source,
                   (l.value->>'source_negative')::boolean AS negative, l.value->>'lot' AS lot,
                   (l.value->>'quantity')::numeric AS quantity, l.ordinality::int - 1 AS number
            FROM jsonb_array_elements(doc->'lines') WITH ORDINALITY AS l(value, ordinality)
            ORDER BY l.ordinality
        LOOP
            -- A named lot that has expired is refused (posting.take), unless allowed (a
            -- scrap).
            IF line.lot IS NOT NULL AND NOT allow_expired AND EXISTS (
                SELECT 1 FROM unnest(w_item, w_loc, w_lot, w_exp) AS w(item, loc, lot, exp)
                WHERE w.item = line.item AND w.loc = line.source AND w.lot = line.lot
                  AND w.exp < today
            ) THEN
                RETURN NULL;
            END IF;
            IF respect_reservations AND NOT line.negative THEN
                -- available = usable on hand - reserved (domain.ledger.available): positive
                -- balances of unexpired lots (usable through their expiry date).
                SELECT s.reserved INTO reserved FROM stock s
                 WHERE s.item_id = line.item AND s.location_id = line.source;
                SELECT coalesce(sum(w.qty), 0) - reserved INTO free
                  FROM unnest(w_item, w_loc, w_qty, w_exp) AS w(item, loc, qty, exp)
                 WHERE w.item = line.item AND w.loc = line.source AND w.qty > 0
                   AND NOT coalesce(w.exp < today, false);
                IF line.quantity > free THEN
                    RETURN NULL;
                END IF;
            END IF;
            first_move := cardinality(m_qty) + 1;
            -- domain.ledger.pick_fefo
            IF line.lot IS NOT NULL THEN
                SELECT coalesce(max(w.qty), 0) INTO held
                  FROM unnest(w_item, w_loc, w_lot, w_qty) AS w(item, loc, lot, qty)
                 WHERE w.item = line.item AND w.loc = line.source AND w.lot = line.lot;
                IF held < line.quantity AND NOT line.negative THEN
                    RETURN NULL;
                END IF;
                m_line := m_line || line.number;
                m_lot := m_lot || line.lot;
                m_qty := m_qty || line.quantity;
            ELSE
                remaining := line.quantity;
                FOR lot_row IN
                    SELECT w.lot, w.qty FROM unnest(w_item, w_loc, w_lot, w_qty, w_exp)
                        AS w(item, loc, lot, qty, exp)
                    WHERE w.item = line.item AND w.loc = line.source AND w.qty > 0
                      AND NOT coalesce(w.exp < today, false)
                    ORDER BY w.exp IS NULL, w.exp, w.lot COLLATE "C"
                LOOP
                    EXIT WHEN remaining <= 0;
                    took := least(lot_row.qty, remaining);
                    m_line := m_line || line.number;
                    m_lot := m_lot || lot_row.lot;
                    m_qty := m_qty || took;
                    remaining := remaining - took;
                END LOOP;
                IF remaining > 0 THEN
                    IF NOT line.negative THEN
                        RETURN NULL;
                    END IF;
                    -- A location allowed to go negative: the rest from the last lot picked,
                    -- or the untracked balance.
                    IF cardinality(m_qty) >= first_move THEN
                        m_qty[cardinality(m_qty)] := m_qty[cardinality(m_qty)] + remaining;
                    ELSE
                        m_line := m_line || line.number;
                        m_lot := m_lot || ''::text;
                        m_qty := m_qty || remaining;
                    END IF;
                END IF;
            END IF;
            -- The source's lots as this line left them (services.stock.moves._less).
            FOR i IN first_move .. cardinality(m_qty) LOOP
                found_at := NULL;
                FOR j IN 1 .. cardinality(w_item) LOOP
                    IF w_item[j] = line.item AND w_loc[j] = line.source AND w_lot[j] = m_lot[i]
                    THEN
                        found_at := j;
                        EXIT;
                    END IF;
                END LOOP;
                IF found_at IS NULL THEN
                    w_item := w_item || line.item;
                    w_loc := w_loc || line.source;
                    w_lot := w_lot || m_lot[i];
                    w_qty := w_qty || (0 - m_qty[i]);
                    w_exp := w_exp || NULL::date;
                ELSE
                    w_qty[found_at] := w_qty[found_at] - m_qty[i];
                END IF;
            END LOOP;
        END LOOP;
    END IF;

    INSERT INTO operations (kind, reference, partner, reason, note, occurred_at, recorded_at)
    VALUES (doc->>'kind', doc->>'reference', doc->>'partner', doc->>'reason', doc->>'note',
            occurred, recorded)
    RETURNING id INTO op_id;

    -- The moves in the order picked, then the balances and the stock changed by their net,
    -- each in key order (LedgerRepository.post and _changes): the same lock order as Python.
    WITH l AS (
        SELECT x.ordinality::int - 1 AS number, (x.value->>'item')::bigint AS item,
               (x.value->>'source')::bigint AS source, (x.value->>'target')::bigint AS target,
               (x.value->>'unit_cost')::numeric AS unit_cost
        FROM jsonb_array_elements(doc->'lines') WITH ORDINALITY AS x(value, ordinality)
    )
    INSERT INTO moves (operation_id, item_id, lot, source_id, target_id, quantity, kind,
                       occurred_at, unit_cost, conversion_cost)
    SELECT op_id, l.item, nullif(m.lot, ''), l.source, l.target, m.qty, doc->>'kind', occurred,
           l.unit_cost, NULL
    FROM unnest(m_line, m_lot, m_qty) WITH ORDINALITY AS m(number, lot, qty, ord)
    JOIN l ON l.number = m.number
    ORDER BY m.ord;

    INSERT INTO balances (item_id, location_id, lot, quantity, may_go_negative)
    SELECT d.item, d.loc, d.lot, sum(d.delta), bool_or(d.negative) OR sum(d.delta) < 0
    FROM leanstock_document_deltas(doc, m_line, m_lot, m_qty) AS d
    GROUP BY d.item, d.loc, d.lot
    HAVING sum(d.delta) <> 0
    ORDER BY d.item, d.loc, d.lot COLLATE "C"
    ON CONFLICT (item_id, location_id, lot)
    DO UPDATE SET quantity = balances.quantity + excluded.quantity;

    INSERT INTO stock (item_id, location_id, on_hand, reserved, may_go_negative)
    SELECT d.item, d.loc, sum(d.delta), 0, bool_or(d.negative) OR sum(d.delta) < 0
    FROM leanstock_document_deltas(doc, m_line, m_lot, m_qty) AS d
    GROUP BY d.item, d.loc
    HAVING sum(d.delta) <> 0
    ORDER BY d.item, d.loc
    ON CONFLICT (item_id, location_id) DO UPDATE SET on_hand = stock.on_hand + excluded.on_hand;

    SELECT jsonb_agg(jsonb_build_array(m.number, nullif(m.lot, ''), m.qty::text) ORDER BY m.ord)
      INTO answer
      FROM unnest(m_line, m_lot, m_qty) WITH ORDINALITY AS m(number, lot, qty, ord);
    RETURN jsonb_build_object('operation', op_id, 'moves', answer, 'held', books::text);
END
$fn$
"""


def _previous() -> str:
    """0025's function, which a downgrade puts back."""
    path = Path(__file__).with_name("0025_post_a_stock_document_in_one_step.py")
    spec = importlib.util.spec_from_file_location("leanstock_migration_0025", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.FUNCTION)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_previous())
