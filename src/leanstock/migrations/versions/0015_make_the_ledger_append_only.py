"""Make the ledger append-only: the database refuses UPDATE and DELETE on its history

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 23:30:00.000000

A move is never edited or deleted; a correction is a new move (docs/architecture.md, "The
ledger's rules"). Triggers now hold every writer to it, not only Leanstock's code: UPDATE and
DELETE on `operations` (a stock operation), `moves` (its legs) and `revaluations` (what a
backdated operation re-valued) fail with "<table> is append-only: ...", and so does TRUNCATE
on PostgreSQL. No code path changes these rows; balances, stock and reservations, which do
change, are kept in step with the moves and are not covered.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("operations", "moves", "revaluations")
MESSAGE = "is append-only: a posted stock operation is never changed; post a correcting one"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION ledger_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '% {MESSAGE}', TG_TABLE_NAME "
            "USING ERRCODE = 'restrict_violation'; END $$"
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ledger_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only()"
            )
        return
    for table in TABLES:
        for verb in ("update", "delete"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb} BEFORE {verb.upper()} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} {MESSAGE}'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
            op.execute(f"DROP TRIGGER {table}_no_change ON {table}")
        op.execute("DROP FUNCTION ledger_append_only()")
        return
    for table in TABLES:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER {table}_no_{verb}")
