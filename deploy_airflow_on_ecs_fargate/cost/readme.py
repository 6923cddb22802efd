"""Rewrite the README's Cost section from `ecsflow cost` run on the default configuration.

    .venv/bin/python -m deploy_airflow_on_ecs_fargate.cost.readme          # rewrite the block
    .venv/bin/python -m deploy_airflow_on_ecs_fargate.cost.readme --check  # exit 1 if it is stale

Only the text between ``<!-- cost:start -->`` and ``<!-- cost:end -->`` changes. The figures are
those `./ecsflow cost --output markdown` prints with the built-in defaults (no ecsflow.yaml, no
ECSFLOW_* variables), plus the idle cost with scheduled scaling on; a test compares the block
with a fresh run, so the README cannot drift from the command.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from deploy_airflow_on_ecs_fargate.config import REPO_ROOT, Settings
from deploy_airflow_on_ecs_fargate.cost.report import to_markdown, usd
from deploy_airflow_on_ecs_fargate.cost.stack_cost import defaults_only, estimate_for, stack_resources

README = REPO_ROOT / "README.md"
START = "<!-- cost:start -->"
END = "<!-- cost:end -->"


def default_settings(**changes: Any) -> Settings:
    """The built-in defaults (ignoring ecsflow.yaml and ECSFLOW_*), with ``changes`` per section."""
    with defaults_only():
        return Settings(**changes)


def lean_settings() -> Settings:
    """The leanest configuration we call sound: the defaults with night/weekend scale-down on."""
    return default_settings(scheduled_scaling={"enabled": True})


def render_block(default_template: dict[str, Any] | None = None, lean_template: dict[str, Any] | None = None) -> str:
    """The README block: the default configuration's estimate, then the lean one's idle cost."""
    settings = default_settings()
    result = estimate_for(settings, resources=stack_resources(settings, default_template))
    lean = lean_settings()
    lean_result = estimate_for(lean, resources=stack_resources(lean, lean_template))
    schedule = lean.scheduled_scaling
    return (
        "Computed from the synthesized stack of the default configuration by "
        "`./ecsflow cost --output markdown` (try `./ecsflow cost --task-hours-per-day 100 --plot cost.png` "
        "with your own `ecsflow.yaml`; assumptions and sources in [docs/cost.md](docs/cost.md)).\n\n"
        + to_markdown(result)
        + "\nWith `scheduled_scaling.enabled: true` (every service scaled to zero from "
        f"`{schedule.scale_down_cron}` to `{schedule.scale_up_cron}`, {schedule.timezone}) the idle cost "
        f"falls to {usd(lean_result.idle_total)} a month.\n"
    )


def replace_block(readme: str, block: str) -> str:
    if readme.count(START) != 1 or readme.count(END) != 1 or readme.index(START) > readme.index(END):
        raise ValueError(f"README.md must hold exactly one {START} ... {END} block")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{block}{END}{tail}"


def current_block(readme: str) -> str:
    return readme.split(START, 1)[1].split(END, 1)[0].removeprefix("\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only check that the block is current")
    parser.add_argument("--readme", type=Path, default=README)
    args = parser.parse_args(argv)
    text = args.readme.read_text(encoding="utf-8")
    updated = replace_block(text, render_block())
    if args.check:
        if updated != text:
            sys.stderr.write(
                f"{args.readme}: the Cost section is stale; run python -m deploy_airflow_on_ecs_fargate.cost.readme\n"
            )
            return 1
        return 0
    if updated != text:
        args.readme.write_text(updated, encoding="utf-8")
        sys.stderr.write(f"{args.readme}: Cost section rewritten\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
