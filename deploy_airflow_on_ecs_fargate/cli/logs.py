"""`ecsflow logs SERVICE [--follow] [--since 10m]`: a service's CloudWatch Logs, from the stack's log groups.

With ``--output json`` each event is one JSON object per line (JSON Lines).

FilterLogEvents reads every stream of the group (one per task) in time order; ``--follow`` polls
for newer events and skips the ones already printed (events sharing the last timestamp may be
returned again, so their ids are remembered).
https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from deploy_airflow_on_ecs_fargate import stack_outputs as out
from deploy_airflow_on_ecs_fargate.cli.aws_session import ProfileOption, RegionOption, aws_context
from deploy_airflow_on_ecs_fargate.cli.errors import UsageError, handle_errors
from deploy_airflow_on_ecs_fargate.cli.output import OutputFormat, OutputOption, console, print_json_line

if TYPE_CHECKING:
    from deploy_airflow_on_ecs_fargate.cli.aws_session import AwsContext

_SINCE = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_since(text: str) -> timedelta:
    compact = text.strip().lower()
    parts = _SINCE.findall(compact)
    if not parts or "".join(f"{n}{u}" for n, u in parts) != compact:
        raise UsageError(f"--since {text!r} is not a duration such as 30s, 10m, 2h or 1d")
    return timedelta(**{_UNITS[unit]: int(number) for number, unit in parts})


def log_group(ctx: AwsContext, service: str) -> tuple[str, str]:
    """(service key, log group) for a service key, an ECS service name, or 'standalone'."""
    groups = ctx.outputs.json_map(out.LOG_GROUPS)
    key = service if service in groups else ctx.outputs.service_key(service)
    if key not in groups:
        raise UsageError(f"the stack names no log group for {key}; known: {', '.join(groups)}")
    return key, groups[key]


def read_events(ctx: AwsContext, group: str, start_ms: int, seen: set[str]) -> Iterator[dict[str, Any]]:
    paginator = ctx.client("logs").get_paginator("filter_log_events")
    for page in paginator.paginate(logGroupName=group, startTime=start_ms):
        for event in page.get("events", []):
            if event["eventId"] not in seen:
                seen.add(event["eventId"])
                yield event


@handle_errors
def logs_command(
    service: Annotated[str, typer.Argument(help="api-server, scheduler, ..., worker-<pool>, or standalone")],
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines until Ctrl-C")] = False,
    since: Annotated[str, typer.Option("--since", help="How far back to start: 30s, 10m, 2h, 1d")] = "10m",
    profile: ProfileOption = None,
    region: RegionOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Print a service's logs from CloudWatch Logs."""
    ctx = aws_context(profile, region)
    start = datetime.now(UTC) - parse_since(since)
    _key, group = log_group(ctx, service)
    start_ms = int(start.timestamp() * 1000)
    seen: set[str] = set()
    try:
        while True:
            last = start_ms
            last_ids: set[str] = set()
            for event in read_events(ctx, group, start_ms, seen):
                if int(event["timestamp"]) > last:
                    last, last_ids = int(event["timestamp"]), set()
                last_ids.add(str(event["eventId"]))
                if output is OutputFormat.json:
                    print_json_line(
                        {
                            "timestamp": datetime.fromtimestamp(event["timestamp"] / 1000, UTC),
                            "stream": event.get("logStreamName"),
                            "message": str(event["message"]).rstrip("\n"),
                        }
                    )
                else:
                    stamp = datetime.fromtimestamp(event["timestamp"] / 1000, UTC).strftime("%H:%M:%S")
                    stream = str(event.get("logStreamName", "")).rsplit("/", 1)[-1][:8]
                    console.print(
                        f"[dim]{stamp} {stream}[/dim] " + escape(str(event["message"]).rstrip("\n")),
                        highlight=False,
                        soft_wrap=True,
                    )
            if not follow:
                return
            if last > start_ms:
                # Only events at the new start time can come back; forget the older ids.
                seen = last_ids
            start_ms = last
            time.sleep(ctx.settings.cli.poll_seconds)
    except KeyboardInterrupt:
        return
