"""EDI commands: a watched folder of interchanges in, 850 files out, trading partners, and the
three-way match's variances."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from leanstock.entrypoints.cli.app import app, console, err_console, handled, iso_date, open_engine

if TYPE_CHECKING:
    from leanstock.adapters.db.uow import UnitOfWork

edi_app = typer.Typer(help="EDI (ANSI X12 004010) with suppliers that trade by it.")
app.add_typer(edi_app, name="edi")
# Files the watcher reads: X12 by any of its usual extensions.
SUFFIXES = (".x12", ".edi", ".txt", ".dat")


def _uow() -> UnitOfWork:
    from leanstock.adapters.db.uow import UnitOfWork

    return UnitOfWork(open_engine())


def _actor() -> str:
    from leanstock.domain.access import current

    return current().actor_name


def _unique(folder: Path, name: str) -> Path:
    target = folder / name
    n = 1
    while target.exists():
        target = folder / f"{Path(name).stem}.{n}{Path(name).suffix}"
        n += 1
    return target


def process_folder(folder: Path) -> list[tuple[str, str, list[str]]]:
    """Receive every interchange file in `folder` (oldest first): each moves to processed/
    (applied in whole or part, or a duplicate) or rejected/, with its 997 written beside it
    as NAME.997 in acknowledgements/. (file, status, reasons) per file."""
    from leanstock.adapters.edi.x12 import NotAnInterchange
    from leanstock.services import edi

    done: list[tuple[str, str, list[str]]] = []
    files = sorted(
        (p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES),
        key=lambda p: (p.stat().st_mtime, p.name),
    )
    for sub in ("processed", "rejected", "acknowledgements"):
        (folder / sub).mkdir(exist_ok=True)
    for path in files:
        text = path.read_bytes().decode("latin-1")
        try:
            result = edi.receive(_uow(), text, actor=_actor())
        except NotAnInterchange as error:
            path.replace(_unique(folder / "rejected", path.name))
            done.append((path.name, "not an interchange", [error.detail]))
            continue
        ack = _unique(folder / "acknowledgements", f"{path.stem}.997")
        ack.write_text(result.acknowledgement, encoding="ascii")
        target = "rejected" if result.status.value == "rejected" else "processed"
        path.replace(_unique(folder / target, path.name))
        done.append((path.name, result.status.value, result.reasons or result.documents))
    return done


@edi_app.command("watch")
def watch(
    folder: Annotated[Path, typer.Argument(help="The folder partners' interchanges land in.")],
    once: Annotated[bool, typer.Option("--once", help="Process what is there, then stop.")] = False,
    interval: Annotated[float, typer.Option(min=0.5, help="Seconds between looks.")] = 5.0,
) -> None:
    """Receive every interchange dropped in FOLDER: applied ones move to processed/, rejected
    ones to rejected/, and each one's 997 goes to acknowledgements/ (send it back)."""
    if not folder.is_dir():
        err_console.print(f"[red]{escape(str(folder))} is not a folder.[/]")
        raise typer.Exit(2)
    while True:
        with handled():
            done = process_folder(folder)
        for name, status, notes in done:
            colour = "red" if status in ("rejected", "not an interchange") else "green"
            console.print(f"[{colour}]{escape(name)}: {status}[/]")
            for note in notes:
                console.print(f"  {escape(note)}")
        if once:
            return
        time.sleep(interval)


@edi_app.command("outbound")
def outbound(
    folder: Annotated[Path, typer.Argument(help="Where to write the 850 interchanges.")],
) -> None:
    """Write every released purchase order of a trading partner not yet sent as an 850, one
    interchange file per partner; each order is sent once."""
    from leanstock.services import edi

    folder.mkdir(parents=True, exist_ok=True)
    with handled():
        written = edi.outbound(_uow(), actor=_actor())
    for out in written:
        target = _unique(folder, out.name)
        target.write_text(out.text, encoding="ascii")
        console.print(f"{escape(str(target))}: {', '.join(out.orders)}")
    if not written:
        console.print("No released purchase order of a trading partner is waiting to be sent.")


@edi_app.command("partner")
def partner(
    supplier: str,
    interchange_id: Annotated[str, typer.Option("--id", help="ISA06: the id it sends from.")],
    group_id: Annotated[str | None, typer.Option("--group", help="GS02 (default: --id).")] = None,
    qualifier: Annotated[str, typer.Option(help="ISA05, e.g. ZZ, 01 (DUNS).")] = "ZZ",
) -> None:
    """Make SUPPLIER a trading partner (or change its ids)."""
    from leanstock.services import edi

    with handled():
        found = edi.set_partner(
            _uow(), supplier, qualifier, interchange_id, group_id or interchange_id, actor=_actor()
        )
    ids = f"{found.qualifier}:{found.interchange_id} (group {found.group_id})"
    console.print(f"{escape(found.supplier)} trades by EDI as {escape(ids)}.")


@edi_app.command("ids")
def ids(
    interchange_id: Annotated[
        str | None, typer.Option("--id", help="ISA06/ISA08: the id we send from.")
    ] = None,
    group_id: Annotated[
        str | None, typer.Option("--group", help="GS02/GS03 (default: --id).")
    ] = None,
    qualifier: Annotated[str, typer.Option(help="ISA05/ISA07, e.g. ZZ, 01 (DUNS).")] = "ZZ",
) -> None:
    """Show our own EDI ids, or set them with --id (partners address their interchanges to
    them; ours go out under them)."""
    from leanstock.services import edi

    with handled():
        if interchange_id is None:
            uow = _uow()
            with uow:
                found = edi.our_ids(uow)
        else:
            found = edi.set_our_ids(
                _uow(), qualifier, interchange_id, group_id or interchange_id, actor=_actor()
            )
    shown = f"{found.qualifier}:{found.interchange_id} (group {found.group_id})"
    console.print(f"We trade by EDI as {escape(shown)}.")


@edi_app.command("variances")
def variances(
    supplier: Annotated[str | None, typer.Option(help="Only this supplier's.")] = None,
    since: Annotated[
        date | None, typer.Option(parser=iso_date, metavar="YYYY-MM-DD", help="First invoice date.")
    ] = None,
) -> None:
    """The three-way match (order, receipts, invoices): price and quantity variances to review."""
    from leanstock.services import matching

    with handled():
        page = matching.variances(_uow(), supplier=supplier, since=since, limit=500)
    if not page.items:
        console.print("No variance: every invoice matches its order and receipts.")
        return
    table = Table(title=f"{page.total} variance(s) for review")
    for column in ("kind", "order", "line", "sku", "invoice", "ordered", "received", "invoiced"):
        table.add_column(column)
    table.add_column("difference", justify="right")
    table.add_column("amount", justify="right")
    for v in page.items:
        ordered = f"{v.ordered} @ {v.ordered_price}"
        invoiced = f"{v.invoiced} @ {v.invoiced_price}"
        table.add_row(
            v.kind,
            v.order,
            str(v.line_no),
            escape(v.sku),
            escape(v.invoice),
            ordered,
            str(v.received),
            invoiced,
            str(v.difference),
            str(v.amount),
        )
    console.print(table)
