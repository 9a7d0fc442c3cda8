"""Supplier scorecard commands."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from leanstock.entrypoints.cli.app import app, console, handled, iso_date, open_engine

if TYPE_CHECKING:
    from leanstock.adapters.db.uow import UnitOfWork

Since = Annotated[
    date | None,
    typer.Option(parser=iso_date, metavar="YYYY-MM-DD", help="First receipt date counted."),
]
Until = Annotated[
    date | None,
    typer.Option(parser=iso_date, metavar="YYYY-MM-DD", help="Last receipt date counted."),
]


def _uow() -> UnitOfWork:
    from leanstock.adapters.db.uow import UnitOfWork

    return UnitOfWork(open_engine())


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _num(value: float | None, unit: str = "") -> str:
    return "–" if value is None else f"{value:,.1f}{unit}"


@app.command("supplier-scorecard")
def supplier_scorecard(code: str, since: Since = None, until: Until = None) -> None:
    """How a supplier really delivers: on time against the date first confirmed and the date
    asked for, in full, OTIF, lead time and its trend, acknowledgements and defects; month by
    month and per item."""
    from leanstock.services import scorecards

    with handled():
        card = scorecards.scorecard(_uow(), code, since, until)
    f = card.figures
    window = f"{card.since or 'the start'} to {card.until or 'today'}"
    console.print(f"[bold]{escape(card.supplier)}[/], deliveries from {window}: {f.deliveries}")
    table = Table(show_header=False)
    table.add_column("measure")
    table.add_column("value", justify="right")
    for label, value in (
        ("on time (date first confirmed)", _pct(f.on_time_confirmed)),
        ("on time (date asked for)", _pct(f.on_time_requested)),
        ("in full", _pct(f.in_full)),
        ("on time in full (OTIF)", _pct(f.otif)),
        ("lead time, mean", _num(f.lead_time_mean_days, " days")),
        ("lead time, spread", _num(f.lead_time_sd_days, " days")),
        ("lead time, trend", _num(card.lead_time_trend_days_per_month, " days/month")),
        ("acknowledged lines", f"{f.lines_acknowledged} of {f.lines_ordered}"),
        ("acknowledgement, median", _num(f.ack_hours_median, " hours")),
        ("acknowledged quantity fill", _pct(f.ack_quantity_fill)),
        ("defect rate", _pct(f.defect_rate)),
        (
            "price variance (invoiced − ordered)",
            _pct(card.price_variance) if card.invoiced_lines else "no invoices recorded",
        ),
    ):
        table.add_row(label, value)
    console.print(table)
    if card.below_standard:
        console.print("[red]Below the standard:[/] " + escape("; ".join(card.reasons)))
    else:
        console.print("[green]Meets the standard.[/]")
    for warning in card.warnings:
        console.print("[yellow]Watch:[/] " + escape(warning))
    if card.monthly:
        months = Table(title="Month by month")
        for column in ("month", "deliveries", "on time", "in full", "OTIF", "lead time", "defects"):
            months.add_column(column, justify="left" if column == "month" else "right")
        for m in card.monthly[-12:]:
            months.add_row(
                m["month"],
                str(m["deliveries"]),
                _pct(m["on_time_confirmed"]),
                _pct(m["in_full"]),
                _pct(m["otif"]),
                _num(m["lead_time_mean_days"]),
                _pct(m["defect_rate"]),
            )
        console.print(months)


@app.command("supplier-scorecards")
def supplier_scorecards(since: Since = None, until: Until = None) -> None:
    """All suppliers ranked, best on time in full first, with those below the standard
    flagged and why."""
    from leanstock.services import scorecards

    with handled():
        cards = scorecards.ranking(_uow(), since, until)
    table = Table(title="Supplier ranking")
    for column in (
        "#",
        "supplier",
        "deliveries",
        "OTIF",
        "on time",
        "in full",
        "lead time",
        "defects",
        "price var.",
        "flag",
    ):
        table.add_column(column, justify="left" if column in ("supplier", "flag") else "right")
    for rank, card in enumerate(cards, 1):
        f = card.figures
        table.add_row(
            str(rank),
            card.supplier,
            str(f.deliveries),
            _pct(f.otif),
            _pct(f.on_time_confirmed),
            _pct(f.in_full),
            _num(f.lead_time_mean_days),
            _pct(f.defect_rate),
            _pct(card.price_variance),
            "[red]below[/]" if card.below_standard else "ok",
        )
    console.print(table)
    for card in cards:
        if card.below_standard:
            console.print(f"[red]{escape(card.supplier)}[/]: " + escape("; ".join(card.reasons)))


@app.command("supplier-standard")
def supplier_standard_command(
    otif: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="Least OTIF share, e.g. 0.85.")
    ] = None,
    on_time: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="Least on-time share.")
    ] = None,
    defect_rate: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="Most defects, e.g. 0.02.")
    ] = None,
    lead_time_sd_days: Annotated[
        float | None, typer.Option(min=0.0, help="Most lead-time spread, days.")
    ] = None,
    no_spread: Annotated[
        bool, typer.Option("--no-spread", help="Stop judging the lead-time spread.")
    ] = False,
    ack_hours: Annotated[
        float | None, typer.Option(help="Slowest median acknowledgement, hours.")
    ] = None,
    price_variance: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="Most invoiced over ordered.")
    ] = None,
) -> None:
    """Show the company's supplier standard, or change some of its thresholds. A supplier
    below it (from five deliveries) is flagged and passed over for its backup by the planner
    and the order pull."""
    from leanstock.services import supplier_standard

    changes: dict[str, object] = {
        k: v
        for k, v in (
            ("otif", otif),
            ("on_time", on_time),
            ("defect_rate", defect_rate),
            ("lead_time_sd_days", lead_time_sd_days),
            ("ack_hours", ack_hours),
            ("price_variance", price_variance),
        )
        if v is not None
    }
    if no_spread:
        changes["lead_time_sd_days"] = None
    with handled():
        if changes:
            standard = supplier_standard.set_standard(_uow(), changes, actor="cli")
        else:
            standard = supplier_standard.get_standard(_uow())
    table = Table(title="Supplier standard")
    table.add_column("threshold")
    table.add_column("value", justify="right")
    spread = standard.lead_time_sd_days
    for label, value in (
        ("on time in full (OTIF), at least", _pct(standard.otif)),
        ("on time, at least", _pct(standard.on_time)),
        ("defect rate, at most", _pct(standard.defect_rate)),
        ("lead-time spread, at most", "not judged" if spread is None else f"{spread:g} days"),
        ("acknowledgement (median), within", f"{standard.ack_hours:g} hours"),
        ("price variance, at most", _pct(standard.price_variance)),
    ):
        table.add_row(label, value)
    console.print(table)
