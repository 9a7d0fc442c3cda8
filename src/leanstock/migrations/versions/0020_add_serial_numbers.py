"""Add serial numbers: the items' serial_tracked flag, where each serial is, and its moves

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 03:00:00.000000

Existing items are not serial-tracked and keep their stock as it is. `serial_moves` is
append-only, like the moves it goes with (0015): the database refuses UPDATE and DELETE.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MESSAGE = "is append-only: a posted stock operation is never changed; post a correcting one"


def upgrade() -> None:
    op.add_column(
        "items",
        sa.Column("serial_tracked", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_table(
        "serials",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("item_id", Id, nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("lot", sa.String(length=64), nullable=True),
        sa.Column("location_id", Id, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_serials_item_id_items")),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_serials_location_id_locations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_serials")),
        sa.UniqueConstraint("item_id", "serial", name=op.f("uq_serials_item_id_serial")),
    )
    op.create_index("ix_serials_item_id_location_id", "serials", ["item_id", "location_id"])
    op.create_table(
        "serial_moves",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("serial_id", Id, nullable=False),
        sa.Column("operation_id", Id, nullable=False),
        sa.Column("source_id", Id, nullable=False),
        sa.Column("target_id", Id, nullable=False),
        sa.ForeignKeyConstraint(
            ["serial_id"], ["serials.id"], name=op.f("fk_serial_moves_serial_id_serials")
        ),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["operations.id"],
            name=op.f("fk_serial_moves_operation_id_operations"),
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["locations.id"], name=op.f("fk_serial_moves_source_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["target_id"], ["locations.id"], name=op.f("fk_serial_moves_target_id_locations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_serial_moves")),
    )
    op.create_index(op.f("ix_serial_moves_serial_id"), "serial_moves", ["serial_id"])
    op.create_index(op.f("ix_serial_moves_operation_id"), "serial_moves", ["operation_id"])
    if op.get_bind().dialect.name == "postgresql":
        # ledger_append_only() is 0015's.
        op.execute(
            "CREATE TRIGGER serial_moves_no_change BEFORE UPDATE OR DELETE ON serial_moves "
            "FOR EACH ROW EXECUTE FUNCTION ledger_append_only()"
        )
        op.execute(
            "CREATE TRIGGER serial_moves_no_truncate BEFORE TRUNCATE ON serial_moves "
            "FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only()"
        )
        return
    for verb in ("update", "delete"):
        op.execute(
            f"CREATE TRIGGER serial_moves_no_{verb} BEFORE {verb.upper()} ON serial_moves "
            f"BEGIN SELECT RAISE(ABORT, 'serial_moves {MESSAGE}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER serial_moves_no_truncate ON serial_moves")
        op.execute("DROP TRIGGER serial_moves_no_change ON serial_moves")
    else:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER serial_moves_no_{verb}")
    op.drop_index(op.f("ix_serial_moves_operation_id"), table_name="serial_moves")
    op.drop_index(op.f("ix_serial_moves_serial_id"), table_name="serial_moves")
    op.drop_table("serial_moves")
    op.drop_index("ix_serials_item_id_location_id", table_name="serials")
    op.drop_table("serials")
    op.drop_column("items", "serial_tracked")
