"""`ecsflow local ...`: the embedded local environment (placeholder, filled by the local-environment work)."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="The embedded local environment: real Postgres, AWS emulated by moto, no Docker.", no_args_is_help=True
)
