"""Post a batch of plain stock documents in one server-side call on PostgreSQL

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-01 10:00:00.000000

`leanstock_post_batch(batch jsonb)` decides and writes a run of receipts, shipments and
transfers dated now in one call (issue #18; `LedgerRepository.post_batch`,
`services.stock.batch`), each all-or-nothing, in order, each seeing what the ones before it
left. Python resolves the names, units and quantities first (on unlocked reads: they do not
change under a batch) and hands over ids; the function then:

- creates the batch's missing physical stock rows, then locks them all in (item, location)
  order, as `LedgerRepository.lock_stocks(create_first=True)` does for a batch (a row created
  after a larger one was locked could close a circle with another batch), so the rows are
  held only for the length of this call and the commit;
- declines the whole call (returns how many documents it decided before the first it cannot
  decide, having written nothing that Python keeps: the caller rolls back to its savepoint)
  where another rule must run: a receipt from an unknown supplier or arriving where a sales
  line is backordered, a shipment or transfer of an item moved after now (the history check);
- checks and picks each line as `posting.take` and `domain.ledger.pick_fefo` do (the rules of
  migration 0025's `leanstock_post_document`), on the rows as the documents before it left
  them, held in memory; a document refused for its stock (not enough available, a named lot
  expired or short) is reported with what Python needs to name the same problem (the line,
  the quantity available, the lot) and leaves the rows as they were;
- writes the posted documents' operations, their moves, then the balances and the stock by
  their net over the whole batch, each in key order (the global lock order: stock rows, then
  balances, then the virtual locations' rows, each sorted), in four set-based statements;
- returns one result per document decided: `{"operation": id, "moves": [[line, lot,
  quantity]]}` or `{"refused": "stock" | "lot" | "expired", "line": n, ...}`.

Quantities read from the ledger are trimmed of trailing zeros (`trim_scale`), as the Python
adapter tidies them, so sums and differences have the scale Python's decimals have. SQLite
has no functions of this kind: this revision does nothing there.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = r"""
CREATE OR REPLACE FUNCTION leanstock_post_batch(batch jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $fn$
DECLARE
    today date := (batch->>'today')::date;
    occurred timestamptz := (batch->>'occurred_at')::timestamptz;
    wanted int := jsonb_array_length(batch->'rows');
    locked int;
    -- The batch's physical rows by slot (their place in `rows`): 'item:location' -> slot;
    -- each row's lots as the documents so far left them, [[lot, quantity, expires_on], ...]
    -- ('' = no lot) kept in first-expired-first-out order; each row's reserved quantity.
    slot_of jsonb;
    row_lots jsonb[];
    row_res numeric[];
    -- The rows a document changed, as they were before it (restored when it is refused).
    undo_slot int[];
    undo_lots jsonb[];
    s int;
    t int;
    n int;
    q numeric;
    resort boolean;
    stop_at int;
    results jsonb := '[]';
    refusal jsonb;
    d record;
    line record;
    lots jsonb;
    kind text;
    posted int := 0;
    mark int;
    usable numeric;
    free numeric;
    held numeric;
    lot_exp date;
    remaining numeric;
    took numeric;
    first_move int;
    found_at int;
    -- The moves: the operation (1-based among the posted documents), the line's number in
    -- its document, item, source, target, their may-go-negative flags, lot, quantity, cost.
    m_op int[] := '{}';
    m_line int[] := '{}';
    m_item bigint[] := '{}';
    m_src bigint[] := '{}';
    m_tgt bigint[] := '{}';
    m_srcneg boolean[] := '{}';
    m_tgtneg boolean[] := '{}';
    m_lot text[] := '{}';
    m_qty numeric[] := '{}';
    m_cost numeric[] := '{}';
    m_kind text[] := '{}';
    p_doc int[] := '{}';   -- the posted documents, by index
    op_ids bigint[];
    id_sequence text := pg_get_serial_sequence('operations', 'id');
    answer jsonb;
BEGIN
    -- Create the missing physical stock rows first, then lock them all in (item, location)
    -- order (LedgerRepository.lock_stocks with create_first): a batch holds many rows, and
    -- a row created after a larger one was locked could close a circle with another batch.
    INSERT INTO stock (item_id, location_id, on_hand, reserved, may_go_negative)
    SELECT r.item, r.location, 0, 0, r.negative
    FROM jsonb_to_recordset(batch->'rows') AS r(item bigint, location bigint, negative boolean)
    ORDER BY r.item, r.location
    ON CONFLICT DO NOTHING;
    SELECT count(*) INTO locked FROM (
        SELECT 1 FROM stock s
        JOIN jsonb_to_recordset(batch->'rows') AS r(item bigint, location bigint, negative boolean)
          ON s.item_id = r.item AND s.location_id = r.location
        ORDER BY s.item_id, s.location_id
        FOR UPDATE OF s
    ) AS rows_locked;
    IF locked < wanted THEN
        INSERT INTO stock (item_id, location_id, on_hand, reserved, may_go_negative)
        SELECT r.item, r.location, 0, 0, r.negative
        FROM jsonb_to_recordset(batch->'rows') AS r(item bigint, location bigint, negative boolean)
        ORDER BY r.item, r.location
        ON CONFLICT DO NOTHING;
        PERFORM 1 FROM stock s
        JOIN jsonb_to_recordset(batch->'rows') AS r(item bigint, location bigint, negative boolean)
          ON s.item_id = r.item AND s.location_id = r.location
        ORDER BY s.item_id, s.location_id
        FOR UPDATE OF s;
    END IF;

    -- What only Python decides: the call stops before the first such document.
    SELECT min(x.ord)::int - 1 INTO stop_at
      FROM jsonb_array_elements(batch->'docs') WITH ORDINALITY AS x(v, ord)
     WHERE CASE WHEN x.v->>'kind' = 'receipt' THEN
               (x.v->>'partner' IS NOT NULL
                AND NOT EXISTS (SELECT 1 FROM suppliers WHERE code = x.v->>'partner'))
               OR EXISTS (
                   SELECT 1 FROM sales_lines sl
                   JOIN sales_orders so ON so.id = sl.order_id
                   JOIN jsonb_to_recordset(x.v->'lines') AS l(item bigint, target bigint)
                     ON sl.item_id = l.item AND sl.location_id = l.target
                   WHERE NOT sl.cancelled AND sl.quantity > sl.shipped
                     AND sl.fulfilment <> 'drop_ship'
                     AND so.status IN ('confirmed', 'partially_shipped'))
           ELSE EXISTS (
                   SELECT 1 FROM moves m
                   WHERE m.item_id IN (
                       SELECT (l->>'item')::bigint FROM jsonb_array_elements(x.v->'lines') AS l
                       WHERE NOT (l->>'source_negative')::boolean)
                     AND m.occurred_at > occurred)
           END;

    -- Read after the locks, in a statement of its own: it sees what committed before.
    SELECT jsonb_object_agg((r.v->>'item') || ':' || (r.v->>'location'), r.ord),
           array_agg(coalesce(g.lots, '[]'::jsonb) ORDER BY r.ord),
           array_agg(coalesce(trim_scale(st.reserved), 0) ORDER BY r.ord)
      INTO slot_of, row_lots, row_res
      FROM jsonb_array_elements(batch->'rows') WITH ORDINALITY AS r(v, ord)
      LEFT JOIN stock st
        ON st.item_id = (r.v->>'item')::bigint AND st.location_id = (r.v->>'location')::bigint
      LEFT JOIN LATERAL (
          SELECT jsonb_agg(jsonb_build_array(b.lot, trim_scale(b.quantity), lt.expires_on)
                           ORDER BY lt.expires_on IS NULL, lt.expires_on, b.lot COLLATE "C")
                 AS lots
            FROM balances b
            LEFT JOIN lots lt ON lt.item_id = b.item_id AND lt.code = b.lot
           WHERE b.item_id = (r.v->>'item')::bigint
             AND b.location_id = (r.v->>'location')::bigint
      ) AS g ON true;

    FOR d IN
        SELECT x.v, x.ord::int - 1 AS i
        FROM jsonb_array_elements(batch->'docs') WITH ORDINALITY AS x(v, ord)
        ORDER BY x.ord
    LOOP
        EXIT WHEN stop_at IS NOT NULL AND d.i >= stop_at;
        kind := d.v->>'kind';
        undo_slot := '{}';
        undo_lots := '{}';
        mark := cardinality(m_qty);
        refusal := NULL;
        -- The lines come in the order Python picks them (receipts as sent; shipments and
        -- transfers by item, stably).
        FOR line IN
            SELECT (l->>'number')::int AS number, (l->>'item')::bigint AS item,
                   (l->>'source')::bigint AS source, (l->>'target')::bigint AS target,
                   (l->>'source_negative')::boolean AS negative,
                   (l->>'target_negative')::boolean AS target_negative,
                   l->>'lot' AS lot, (l->>'quantity')::numeric AS quantity,
                   (l->>'unit_cost')::numeric AS unit_cost
            FROM jsonb_array_elements(d.v->'lines') AS l
        LOOP
            first_move := cardinality(m_qty) + 1;
            IF kind = 'receipt' THEN
                m_lot := m_lot || coalesce(line.lot, '');
                m_qty := m_qty || line.quantity;
            ELSE
                s := (slot_of->>(line.item || ':' || line.source))::int;
                lots := row_lots[s];
                n := jsonb_array_length(lots);
                -- A named lot that has expired is refused (posting.take).
                IF line.lot IS NOT NULL THEN
                    lot_exp := NULL;
                    held := 0;
                    FOR j IN 0 .. n - 1 LOOP
                        IF lots->j->>0 = line.lot THEN
                            lot_exp := (lots->j->>2)::date;
                            held := (lots->j->>1)::numeric;
                            EXIT;
                        END IF;
                    END LOOP;
                    IF lot_exp < today THEN
                        refusal := jsonb_build_object('refused', 'expired', 'line', line.number,
                                                      'lot', line.lot, 'expires_on', lot_exp);
                        EXIT;
                    END IF;
                END IF;
                IF NOT line.negative THEN
                    -- available = usable on hand - reserved (domain.ledger.available): positive
                    -- balances of unexpired lots.
                    usable := 0;
                    FOR j IN 0 .. n - 1 LOOP
                        q := (lots->j->>1)::numeric;
                        IF q > 0 AND NOT coalesce((lots->j->>2)::date < today, false) THEN
                            usable := usable + q;
                        END IF;
                    END LOOP;
                    free := usable - row_res[s];
                    IF line.quantity > free THEN
                        refusal := jsonb_build_object('refused', 'stock', 'line', line.number,
                            'available', (CASE WHEN free < 0 THEN 0 ELSE free END)::text);
                        EXIT;
                    END IF;
                END IF;
                -- domain.ledger.pick_fefo
                IF line.lot IS NOT NULL THEN
                    IF held < line.quantity AND NOT line.negative THEN
                        refusal := jsonb_build_object('refused', 'lot', 'line', line.number,
                            'lot', line.lot,
                            'available', (CASE WHEN held < 0 THEN 0 ELSE held END)::text);
                        EXIT;
                    END IF;
                    m_lot := m_lot || line.lot;
                    m_qty := m_qty || line.quantity;
                ELSE
                    -- The row's lots are kept in first-expired-first-out order.
                    remaining := line.quantity;
                    FOR j IN 0 .. n - 1 LOOP
                        EXIT WHEN remaining <= 0;
                        q := (lots->j->>1)::numeric;
                        IF q > 0 AND NOT coalesce((lots->j->>2)::date < today, false) THEN
                            took := least(q, remaining);
                            m_lot := m_lot || (lots->j->>0);
                            m_qty := m_qty || took;
                            remaining := remaining - took;
                        END IF;
                    END LOOP;
                    IF remaining > 0 THEN
                        IF NOT line.negative THEN
                            refusal := jsonb_build_object('refused', 'stock',
                                'line', line.number,
                                'available', (line.quantity - remaining)::text);
                            EXIT;
                        END IF;
                        -- A location allowed to go negative: the rest from the last lot
                        -- picked, or the untracked balance.
                        IF cardinality(m_qty) >= first_move THEN
                            m_qty[cardinality(m_qty)] := m_qty[cardinality(m_qty)] + remaining;
                        ELSE
                            m_lot := m_lot || ''::text;
                            m_qty := m_qty || remaining;
                        END IF;
                    END IF;
                END IF;
                -- The source's lots as this line left them (services.stock.moves._less).
                resort := false;
                FOR i IN first_move .. cardinality(m_qty) LOOP
                    found_at := NULL;
                    FOR j IN 0 .. jsonb_array_length(lots) - 1 LOOP
                        IF lots->j->>0 = m_lot[i] THEN
                            found_at := j;
                            EXIT;
                        END IF;
                    END LOOP;
                    IF found_at IS NULL THEN
                        lots := lots || jsonb_build_array(
                            jsonb_build_array(m_lot[i], 0 - m_qty[i], NULL));
                        resort := true;
                    ELSE
                        lots := jsonb_set(lots, ARRAY[found_at::text, '1'],
                            to_jsonb((lots->found_at->>1)::numeric - m_qty[i]));
                    END IF;
                END LOOP;
                IF resort THEN
                    SELECT jsonb_agg(e ORDER BY (e->>2) IS NULL, (e->>2)::date,
                                     (e->>0) COLLATE "C")
                      INTO lots FROM jsonb_array_elements(lots) AS e;
                END IF;
                undo_slot := undo_slot || s;
                undo_lots := undo_lots || row_lots[s];
                row_lots[s] := lots;
            END IF;
            -- What arrives at a physical target (services.stock.planned.Planner._keep): an
            -- existing lot grows, a new one keeps the source's expiry.
            t := (slot_of->>(line.item || ':' || line.target))::int;
            IF t IS NOT NULL THEN
                lots := row_lots[t];
                resort := false;
                FOR i IN first_move .. cardinality(m_qty) LOOP
                    found_at := NULL;
                    FOR j IN 0 .. jsonb_array_length(lots) - 1 LOOP
                        IF lots->j->>0 = m_lot[i] THEN
                            found_at := j;
                            EXIT;
                        END IF;
                    END LOOP;
                    IF found_at IS NULL THEN
                        lot_exp := NULL;
                        IF kind <> 'receipt' THEN
                            FOR j IN 0 .. jsonb_array_length(row_lots[s]) - 1 LOOP
                                IF row_lots[s]->j->>0 = m_lot[i] THEN
                                    lot_exp := (row_lots[s]->j->>2)::date;
                                    EXIT;
                                END IF;
                            END LOOP;
                        END IF;
                        lots := lots || jsonb_build_array(
                            jsonb_build_array(m_lot[i], m_qty[i], lot_exp));
                        resort := true;
                    ELSE
                        lots := jsonb_set(lots, ARRAY[found_at::text, '1'],
                            to_jsonb((lots->found_at->>1)::numeric + m_qty[i]));
                    END IF;
                END LOOP;
                IF resort THEN
                    SELECT jsonb_agg(e ORDER BY (e->>2) IS NULL, (e->>2)::date,
                                     (e->>0) COLLATE "C")
                      INTO lots FROM jsonb_array_elements(lots) AS e;
                END IF;
                undo_slot := undo_slot || t;
                undo_lots := undo_lots || row_lots[t];
                row_lots[t] := lots;
            END IF;
            FOR i IN first_move .. cardinality(m_qty) LOOP
                m_op := m_op || (posted + 1);
                m_line := m_line || line.number;
                m_item := m_item || line.item;
                m_src := m_src || line.source;
                m_tgt := m_tgt || line.target;
                m_srcneg := m_srcneg || line.negative;
                m_tgtneg := m_tgtneg || line.target_negative;
                m_cost := m_cost || line.unit_cost;
                m_kind := m_kind || kind;
            END LOOP;
        END LOOP;
        IF refusal IS NOT NULL THEN
            -- Nothing of a refused document is kept.
            FOR u IN REVERSE cardinality(undo_slot) .. 1 LOOP
                row_lots[undo_slot[u]] := undo_lots[u];
            END LOOP;
            m_op := m_op[1:mark];
            m_line := m_line[1:mark];
            m_item := m_item[1:mark];
            m_src := m_src[1:mark];
            m_tgt := m_tgt[1:mark];
            m_srcneg := m_srcneg[1:mark];
            m_tgtneg := m_tgtneg[1:mark];
            m_lot := m_lot[1:mark];
            m_qty := m_qty[1:mark];
            m_cost := m_cost[1:mark];
            m_kind := m_kind[1:mark];
            results := results || jsonb_build_array(refusal);
        ELSE
            posted := posted + 1;
            p_doc := p_doc || d.i;
            results := results || jsonb_build_array(jsonb_build_object('posted', posted));
        END IF;
    END LOOP;

    IF posted > 0 THEN
        SELECT array_agg(nextval(id_sequence) ORDER BY g.x)
          INTO op_ids FROM generate_series(1, posted) AS g(x);
        INSERT INTO operations (id, kind, reference, partner, reason, note, occurred_at,
                                recorded_at)
        SELECT op_ids[p.ord], x->>'kind', x->>'reference', x->>'partner', x->>'reason', NULL,
               occurred, (batch->>'recorded_at')::timestamptz
        FROM unnest(p_doc) WITH ORDINALITY AS p(i, ord)
        CROSS JOIN LATERAL (SELECT batch->'docs'->p.i AS x) AS doc
        ORDER BY p.ord;

        INSERT INTO moves (operation_id, item_id, lot, source_id, target_id, quantity, kind,
                           occurred_at, unit_cost, conversion_cost)
        SELECT op_ids[m.op], m.item, nullif(m.lot, ''), m.src, m.tgt, m.qty, m.kind, occurred,
               m.cost, NULL
        FROM unnest(m_op, m_item, m_lot, m_src, m_tgt, m_qty, m_kind, m_cost)
             WITH ORDINALITY AS m(op, item, lot, src, tgt, qty, kind, cost, ord)
        ORDER BY m.ord;

        -- The balances and the stock by their net over the batch, each in key order
        -- (LedgerRepository._changes): the same lock order as every other writer.
        WITH deltas AS (
            SELECT u.item, u.src AS loc, u.lot, -u.qty AS delta, u.srcneg AS negative
            FROM unnest(m_item, m_src, m_lot, m_qty, m_srcneg) AS u(item, src, lot, qty, srcneg)
            UNION ALL
            SELECT u.item, u.tgt, u.lot, u.qty, u.tgtneg
            FROM unnest(m_item, m_tgt, m_lot, m_qty, m_tgtneg) AS u(item, tgt, lot, qty, tgtneg)
        )
        INSERT INTO balances (item_id, location_id, lot, quantity, may_go_negative)
        SELECT c.item, c.loc, c.lot, sum(c.delta), bool_or(c.negative) OR sum(c.delta) < 0
        FROM deltas AS c
        GROUP BY c.item, c.loc, c.lot
        HAVING sum(c.delta) <> 0
        ORDER BY c.item, c.loc, c.lot COLLATE "C"
        ON CONFLICT (item_id, location_id, lot)
        DO UPDATE SET quantity = balances.quantity + excluded.quantity;

        WITH deltas AS (
            SELECT u.item, u.src AS loc, -u.qty AS delta, u.srcneg AS negative
            FROM unnest(m_item, m_src, m_qty, m_srcneg) AS u(item, src, qty, srcneg)
            UNION ALL
            SELECT u.item, u.tgt, u.qty, u.tgtneg
            FROM unnest(m_item, m_tgt, m_qty, m_tgtneg) AS u(item, tgt, qty, tgtneg)
        )
        INSERT INTO stock (item_id, location_id, on_hand, reserved, may_go_negative)
        SELECT c.item, c.loc, sum(c.delta), 0, bool_or(c.negative) OR sum(c.delta) < 0
        FROM deltas AS c
        GROUP BY c.item, c.loc
        HAVING sum(c.delta) <> 0
        ORDER BY c.item, c.loc
        ON CONFLICT (item_id, location_id) DO UPDATE SET on_hand = stock.on_hand + excluded.on_hand;
    END IF;

    SELECT coalesce(jsonb_agg(
               CASE WHEN r.v ? 'posted'
                    THEN jsonb_build_object('operation', op_ids[(r.v->>'posted')::int],
                                            'moves', mv.moves)
                    ELSE r.v END
               ORDER BY r.ord), '[]')
      INTO answer
      FROM jsonb_array_elements(results) WITH ORDINALITY AS r(v, ord)
      LEFT JOIN (
          SELECT m.op, jsonb_agg(jsonb_build_array(m.line, nullif(m.lot, ''), m.qty::text)
                                 ORDER BY m.ord) AS moves
          FROM unnest(m_op, m_line, m_lot, m_qty) WITH ORDINALITY AS m(op, line, lot, qty, ord)
          GROUP BY m.op
      ) AS mv ON mv.op = (r.v->>'posted')::int;
    RETURN jsonb_build_object('results', answer);
END
$fn$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION leanstock_post_batch(jsonb)")
