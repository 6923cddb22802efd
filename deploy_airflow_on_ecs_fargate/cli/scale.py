"""`ecsflow scale SERVICE COUNT [--at TIME] [--for DURATION]`: set a service's task count now or on a schedule.

Now: UpdateService desiredCount (the seed's `aws ecs update-service --desired-count 0`).
Scheduled: Application Auto Scaling scheduled actions on the service's scalable target (the seed's
`put-scheduled-action`): at the start, min = max = COUNT; with ``--for``, a second action at the end
restores the configured range (services: desired_count..max_count; worker pools: min..max workers).
The autoscaler clamps worker pools to the scalable target's bounds, so a scheduled count holds.
https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-scheduled-scaling.html
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from deploy_airflow_on_ecs_fargate.cli.aws_session import ProfileOption, RegionOption, aws_context
from deploy_airflow_on_ecs_fargate.cli.errors import UsageError, handle_errors
from deploy_airflow_on_ecs_fargate.cli.output import OutputFormat, OutputOption, console, emit, notice, print_table
from deploy_airflow_on_ecs_fargate.cli.stack import WORKER_PREFIX
from deploy_airflow_on_ecs_fargate.stack_outputs import SERVICE_OUTPUTS

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from deploy_airflow_on_ecs_fargate.cli.aws_session import AwsContext
    from deploy_airflow_on_ecs_fargate.config import Settings

SCALABLE_DIMENSION = "ecs:service:DesiredCount"
_DURATION = re.compile(r"(\d+)\s*([dhm])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_duration(text: str) -> timedelta:
    """'90m', '2h', '1h30m', '1d' -> timedelta; at least one minute (scheduled actions have minute precision)."""
    compact = text.strip().lower().replace(" ", "")
    parts = _DURATION.findall(compact)
    if not parts or "".join(f"{n}{u}" for n, u in parts) != compact:
        raise UsageError(f"--for {text!r} is not a duration such as 30m, 2h, 1h30m or 1d")
    duration = timedelta(**{_UNITS[unit]: int(number) for number, unit in parts})
    if duration < timedelta(minutes=1):
        raise UsageError("--for must be at least 1m")
    return duration


def parse_time(text: str, zone: ZoneInfo, now: datetime) -> datetime:
    """'2026-12-24 18:00', '2026-12-24T18:00:00' or '18:00' (the next one) in ``zone``; offsets are honoured."""
    value = text.strip()
    if re.fullmatch(r"\d{1,2}:\d{2}", value):
        hour, minute = (int(p) for p in value.split(":"))
        if hour > 23 or minute > 59:
            raise UsageError(f"--at {text!r} is not a time of day")
        local_now = now.astimezone(zone)
        moment = local_now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        return moment if moment > local_now else moment + timedelta(days=1)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--at {text!r} is not a time such as '2026-12-24 18:00' or '18:00'") from None
    return parsed.replace(tzinfo=zone) if parsed.tzinfo is None else parsed.astimezone(zone)


def configured_range(settings: Settings, key: str) -> tuple[int, int]:
    """(min, max) the config allows for a service key; the max is the ceiling for `scale`."""
    if key.startswith(WORKER_PREFIX):
        name = key.removeprefix(WORKER_PREFIX)
        try:
            pool = settings.pool(name)
        except KeyError:
            raise UsageError(f"worker pool {name!r} is not in the config (worker_pools)") from None
        return pool.min_workers, pool.max_workers
    service = getattr(settings, key.replace("-", "_"))
    return int(service.desired_count), int(service.max_count)


def check_count(settings: Settings, key: str, count: int) -> tuple[int, int]:
    low, high = configured_range(settings, key)
    if count < 0:
        raise UsageError(f"count must be 0 or more, got {count}")
    if count > high:
        setting = (
            f"worker_pools[{key.removeprefix(WORKER_PREFIX)}].max_workers"
            if key.startswith(WORKER_PREFIX)
            else f"{key.replace('-', '_')}.max_count"
        )
        raise UsageError(f"{count} is above the configured maximum of {high} for {key} ({setting} in ecsflow.yaml)")
    return low, high


@dataclass(frozen=True)
class ScheduledAction:
    name: str
    schedule: str
    timezone: str
    min_capacity: int
    max_capacity: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "schedule": self.schedule,
            "timezone": self.timezone,
            "minCapacity": self.min_capacity,
            "maxCapacity": self.max_capacity,
        }


def ensure_scalable_target(ctx: AwsContext, resource_id: str, low: int, high: int) -> None:
    """Scheduled actions need a scalable target; register one with the configured range if the stack has none."""
    autoscaling = ctx.client("application-autoscaling")
    targets = autoscaling.describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[resource_id], ScalableDimension=SCALABLE_DIMENSION
    )["ScalableTargets"]
    if not targets:
        autoscaling.register_scalable_target(
            ServiceNamespace="ecs",
            ResourceId=resource_id,
            ScalableDimension=SCALABLE_DIMENSION,
            MinCapacity=low,
            MaxCapacity=high,
        )


def put_action(ctx: AwsContext, resource_id: str, action: ScheduledAction) -> None:
    ctx.client("application-autoscaling").put_scheduled_action(
        ServiceNamespace="ecs",
        ScheduledActionName=action.name,
        ResourceId=resource_id,
        ScalableDimension=SCALABLE_DIMENSION,
        Schedule=action.schedule,
        Timezone=action.timezone,
        ScalableTargetAction={"MinCapacity": action.min_capacity, "MaxCapacity": action.max_capacity},
    )


def _at(moment: datetime) -> str:
    # at(yyyy-mm-ddThh:mm:ss) is read in the action's Timezone.
    return f"at({moment.strftime('%Y-%m-%dT%H:%M:%S')})"


@handle_errors
def scale_command(
    service: Annotated[str, typer.Argument(help="api-server, scheduler, dag-processor, triggerer or worker-<pool>")],
    count: Annotated[int, typer.Argument(help="Number of tasks")],
    at: Annotated[
        str | None, typer.Option("--at", help="Start at this time ('2026-12-24 18:00' or '18:00') instead of now")
    ] = None,
    for_: Annotated[
        str | None,
        typer.Option("--for", help="Then restore the configured count after this long (30m, 2h, 1d)"),
    ] = None,
    timezone: Annotated[
        str | None, typer.Option("--timezone", help="IANA zone of --at (default: scheduled_scaling.timezone)")
    ] = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Scale a service to COUNT tasks, now or on a schedule (e.g. scale scheduler 0 --at 20:00 --for 11h)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    ctx = aws_context(profile, region)
    # Nonsense is refused before any AWS call (no credentials needed to be told -1 is wrong).
    if count < 0:
        raise UsageError(f"count must be 0 or more, got {count}")
    if service in SERVICE_OUTPUTS or service.startswith(WORKER_PREFIX):
        check_count(ctx.settings, service, count)
    zone_name = timezone or ctx.settings.scheduled_scaling.timezone
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"unknown time zone {zone_name!r} (use an IANA name such as Europe/Lisbon)") from None
    duration = parse_duration(for_) if for_ else None
    now = datetime.now(zone)
    start = parse_time(at, zone, now) if at else None
    if start is not None and start <= now:
        raise UsageError(f"--at {at!r} is in the past ({start:%Y-%m-%d %H:%M %Z})")

    key = ctx.outputs.service_key(service)
    low, high = check_count(ctx.settings, key, count)
    cluster = ctx.outputs.cluster
    name = ctx.outputs.service(key)
    resource_id = f"service/{cluster}/{name}"
    ecs = ctx.client("ecs")
    services = ecs.describe_services(cluster=cluster, services=[name])["services"]
    previous = int(services[0]["desiredCount"]) if services else None
    result: dict[str, Any] = {"service": key, "ecsService": name, "count": count, "previous": previous}
    actions: list[ScheduledAction] = []
    stamp = (start or now).strftime("%Y%m%dT%H%M")
    if start is None:
        if duration is not None:
            # Hold the count for the duration: the target's bounds stop the autoscaler from undoing it.
            ensure_scalable_target(ctx, resource_id, low, high)
            ctx.client("application-autoscaling").register_scalable_target(
                ServiceNamespace="ecs",
                ResourceId=resource_id,
                ScalableDimension=SCALABLE_DIMENSION,
                MinCapacity=count,
                MaxCapacity=count,
            )
        ecs.update_service(cluster=cluster, service=name, desiredCount=count)
        if key.startswith(WORKER_PREFIX) and duration is None:
            notice(f"the autoscaler sizes {key}; it may change this count at its next decision (use --for to hold it)")
    else:
        actions.append(ScheduledAction(f"ecsflow-{key}-{stamp}-start", _at(start), zone_name, count, count))
    if duration is not None:
        end = (start or now) + duration
        actions.append(ScheduledAction(f"ecsflow-{key}-{stamp}-end", _at(end), zone_name, low, high))
    if actions:
        ensure_scalable_target(ctx, resource_id, low, high)
        for action in actions:
            put_action(ctx, resource_id, action)
    result["scheduled"] = [a.as_dict() for a in actions]

    def render() -> None:
        if start is None:
            console.print(f"{key} ({name}): desired count {previous} -> {count}", highlight=False)
        if actions:
            print_table(
                f"scheduled actions for {key}",
                ["name", "schedule", "timezone", "min", "max"],
                [[a.name, a.schedule, a.timezone, a.min_capacity, a.max_capacity] for a in actions],
            )

    emit(output, result, render)
