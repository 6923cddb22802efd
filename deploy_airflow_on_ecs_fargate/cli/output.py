"""Printing data: rich tables for people, ``--output json`` for scripts (stdout holds only the JSON)."""

from __future__ import annotations

import enum
import json
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table


class OutputFormat(enum.StrEnum):
    table = "table"
    json = "json"


OutputOption = Annotated[
    OutputFormat, typer.Option("--output", "-o", help="table for people, json for scripts", case_sensitive=False)
]

console = Console()
# Progress, notices and streamed logs go to stderr so `--output json` keeps stdout parseable.
err_console = Console(stderr=True)


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=_default) + "\n")


def print_json_line(data: Any) -> None:
    """One compact JSON object per line (JSON Lines), for streams such as `logs --follow`."""
    sys.stdout.write(json.dumps(data, default=_default) + "\n")
    sys.stdout.flush()


def print_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(title=title, header_style="bold")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    console.print(table)


def emit(output: OutputFormat, data: Any, render: Callable[[], None]) -> None:
    """Print ``data`` as JSON, or call ``render`` to draw it for people."""
    if output is OutputFormat.json:
        print_json(data)
    else:
        render()


def notice(message: str) -> None:
    err_console.print(f"[yellow]notice:[/yellow] {message}", highlight=False)
