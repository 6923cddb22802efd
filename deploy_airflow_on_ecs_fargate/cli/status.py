"""`ecsflow status` and `ecsflow url`: what runs where, read from ECS, SQS and CloudWatch.

Per service: desired/running/pending tasks, image, last deployment. Per worker pool: workers,
broker queue depth (SQS ApproximateNumberOfMessages: waiting; ...NotVisible: taken by a worker)
and the autoscaler's last decision: from its decision log lines (event ``autoscaler_decision`` in
the log group of the stack output ``AutoscalerStateLogGroup``; autoscaler/state.py), which carry
the action and its reason, else from the metrics it publishes (namespace
``autoscaler.metrics_namespace``, dimension ``Pool``; autoscaler/metrics.py).
"""

from __future__ import annotations

import webbrowser
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from deploy_airflow_on_ecs_fargate import stack_outputs as out
from deploy_airflow_on_ecs_fargate.cli.aws_session import ProfileOption, RegionOption, aws_context
from deploy_airflow_on_ecs_fargate.cli.errors import handle_errors
from deploy_airflow_on_ecs_fargate.cli.output import OutputFormat, OutputOption, console, emit, print_table
from deploy_airflow_on_ecs_fargate.cli.stack import WORKER_PREFIX

if TYPE_CHECKING:
    from deploy_airflow_on_ecs_fargate.cli.aws_session import AwsContext

# The autoscaler's metrics shown by `status` (names from autoscaler/metrics.py).
AUTOSCALER_METRICS = ("DesiredWorkers", "QueuedTasks", "RunningTasks")
# The autoscaler publishes once a minute; look back far enough to find its last publication.
AUTOSCALER_LOOKBACK = timedelta(minutes=30)
# The controller logs a decision per pool every few seconds: a few minutes hold the latest.
DECISION_LOG_LOOKBACK = timedelta(minutes=5)
DESCRIBE_SERVICES_BATCH = 10  # DescribeServices takes at most 10 services per call


def service_rows(ctx: AwsContext) -> list[dict[str, Any]]:
    ecs = ctx.client("ecs")
    cluster = ctx.outputs.cluster
    services = ctx.outputs.services()
    by_name: dict[str, dict[str, Any]] = {}
    names = list(services.values())
    for start in range(0, len(names), DESCRIBE_SERVICES_BATCH):
        described = ecs.describe_services(cluster=cluster, services=names[start : start + DESCRIBE_SERVICES_BATCH])
        by_name.update({s["serviceName"]: s for s in described["services"]})
    images: dict[str, str | None] = {}
    rows: list[dict[str, Any]] = []
    for key, name in services.items():
        service = by_name.get(name)
        if service is None:
            rows.append({"service": key, "ecsService": name, "status": "MISSING"})
            continue
        task_definition = str(service.get("taskDefinition", ""))
        if task_definition and task_definition not in images:
            images[task_definition] = _main_image(ctx, task_definition)
        primary: dict[str, Any] = next((d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"), {})
        rows.append(
            {
                "service": key,
                "ecsService": name,
                "status": service.get("status"),
                "desired": service.get("desiredCount", 0),
                "running": service.get("runningCount", 0),
                "pending": service.get("pendingCount", 0),
                "image": images.get(task_definition),
                "lastDeployment": {
                    "rolloutState": primary.get("rolloutState"),
                    "updatedAt": primary.get("updatedAt") or primary.get("createdAt"),
                    "taskDefinition": task_definition.rsplit("/", 1)[-1],
                },
            }
        )
    return rows


def _main_image(ctx: AwsContext, task_definition: str) -> str | None:
    """The Airflow image of a task definition (sidecars such as fluent-bit or the CloudWatch agent are skipped)."""
    containers = ctx.client("ecs").describe_task_definition(taskDefinition=task_definition)["taskDefinition"][
        "containerDefinitions"
    ]
    ours = ctx.outputs.values.get(out.IMAGE_URI) or ctx.outputs.values.get(out.ECR_REPOSITORY_URI)
    for container in containers:
        image = str(container.get("image", ""))
        if ours and image.startswith(ours.split(":")[0].split("@")[0]):
            return image
    essential = [c for c in containers if c.get("essential", True) and "firelensConfiguration" not in c]
    return str(essential[0]["image"]) if essential else (str(containers[0]["image"]) if containers else None)


def queue_depths(ctx: AwsContext) -> dict[str, dict[str, int]]:
    if out.BROKER_QUEUE_URLS not in ctx.outputs.values:
        return {}
    sqs = ctx.client("sqs")
    depths = {}
    for pool, url in ctx.outputs.json_map(out.BROKER_QUEUE_URLS).items():
        attributes = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        depths[pool] = {
            "waiting": int(attributes.get("ApproximateNumberOfMessages", 0)),
            "inFlight": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
        }
    return depths


def logged_decisions(ctx: AwsContext, now: datetime) -> dict[str, dict[str, Any]]:
    """The latest decision line per pool in the controller's log group (empty when there is none)."""
    from deploy_airflow_on_ecs_fargate.autoscaler.state import LOG_FILTER_PATTERN, parse_decision_line

    group = ctx.outputs.values.get(out.AUTOSCALER_STATE_PARAMETER)
    if not group:
        return {}
    logs = ctx.client("logs")
    latest: dict[str, dict[str, Any]] = {}
    try:
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=group,
            filterPattern=LOG_FILTER_PATTERN,
            startTime=int((now - DECISION_LOG_LOOKBACK).timestamp() * 1000),
        )
        for page in pages:
            for event in page.get("events", []):
                status = parse_decision_line(str(event["message"]))
                if status is not None:  # events come oldest first: the last one wins
                    latest[status.pool] = {
                        "source": "log",
                        "at": status.time,
                        "action": status.action,
                        "desired": status.desired,
                        "queued": status.queued,
                        "running": status.running,
                        "current": status.current,
                        "reason": status.reason,
                        "error": status.error,
                    }
    except logs.exceptions.ResourceNotFoundException:
        return {}
    return latest


METRIC_KEYS = {"DesiredWorkers": "desired", "QueuedTasks": "queued", "RunningTasks": "running"}


def autoscaler_decisions(ctx: AwsContext, pools: list[str], now: datetime) -> dict[str, dict[str, Any]]:
    """Per pool: the latest logged decision, else the last published metrics (Maximum of the minute)."""
    decisions = logged_decisions(ctx, now)
    missing = [pool for pool in pools if pool not in decisions]
    decisions.update(published_decisions(ctx, missing, now))
    return decisions


def published_decisions(ctx: AwsContext, pools: list[str], now: datetime) -> dict[str, dict[str, Any]]:
    """The last published DesiredWorkers/QueuedTasks/RunningTasks (Maximum) per pool, with its time."""
    if not pools:
        return {}
    queries = []
    for index, pool in enumerate(pools):
        for metric in AUTOSCALER_METRICS:
            queries.append(
                {
                    "Id": f"m{index}_{metric.lower()}",
                    "Label": f"{pool}\t{metric}",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": ctx.settings.autoscaler.metrics_namespace,
                            "MetricName": metric,
                            "Dimensions": [{"Name": "Pool", "Value": pool}],
                        },
                        "Period": 60,
                        "Stat": "Maximum",
                    },
                }
            )
    response = ctx.client("cloudwatch").get_metric_data(
        MetricDataQueries=queries,
        StartTime=now - AUTOSCALER_LOOKBACK,
        # The end is exclusive: reach past now so the current minute's data point counts.
        EndTime=now + timedelta(minutes=1),
        ScanBy="TimestampDescending",
    )
    decisions: dict[str, dict[str, Any]] = {}
    for result in response["MetricDataResults"]:
        if not result.get("Values"):
            continue
        pool, metric = str(result["Label"]).split("\t", 1)
        latest = max(zip(result["Timestamps"], result["Values"], strict=True), key=lambda tv: tv[0])
        decision = decisions.setdefault(pool, {"source": "metrics", "at": latest[0]})
        decision[METRIC_KEYS[metric]] = int(latest[1])
        decision["at"] = max(decision["at"], latest[0])
    return decisions


def collect_status(ctx: AwsContext) -> dict[str, Any]:
    services = service_rows(ctx)
    depths = queue_depths(ctx)
    pools = [row["service"].removeprefix(WORKER_PREFIX) for row in services if row["service"].startswith(WORKER_PREFIX)]
    decisions = autoscaler_decisions(ctx, pools, datetime.now(UTC))
    workers = []
    for row in services:
        if not row["service"].startswith(WORKER_PREFIX):
            continue
        pool = row["service"].removeprefix(WORKER_PREFIX)
        workers.append(
            {
                "pool": pool,
                "workers": row.get("running"),
                "desired": row.get("desired"),
                "queue": depths.get(pool),
                "autoscaler": decisions.get(pool),
            }
        )
    return {
        "stack": ctx.outputs.stack_name,
        "stackStatus": ctx.outputs.status,
        "url": ctx.outputs.values.get(out.UI_URL),
        "services": services,
        "workers": workers,
    }


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "" if value is None else str(value)


def _decision_text(decision: dict[str, Any] | None) -> str:
    if not decision:
        return "no decision logged or published in the last 30 min"
    load = f"{decision.get('queued', '?')} queued + {decision.get('running', '?')} running"
    text = f"desired {decision.get('desired', '?')} for {load}"
    if decision.get("action"):
        text = f"{decision['action']}: {text}; {decision.get('reason', '')}"
    return f"{text} ({_when(decision['at'])})"


def render_status(status: dict[str, Any]) -> None:
    console.print(f"stack [bold]{status['stack']}[/bold] {status['stackStatus']}  {status.get('url') or ''}")
    print_table(
        "services",
        ["service", "desired", "running", "pending", "image", "last deployment"],
        [
            [
                s["service"],
                s.get("desired", "-"),
                s.get("running", "-"),
                s.get("pending", "-"),
                s.get("image") or s.get("status"),
                " ".join(
                    filter(
                        None,
                        [
                            (s.get("lastDeployment") or {}).get("rolloutState"),
                            _when((s.get("lastDeployment") or {}).get("updatedAt")),
                        ],
                    )
                ),
            ]
            for s in status["services"]
        ],
    )
    print_table(
        "workers",
        ["pool", "workers", "desired", "queue waiting", "queue in flight", "autoscaler (last decision)"],
        [
            [
                w["pool"],
                w["workers"],
                w["desired"],
                (w["queue"] or {}).get("waiting", "-"),
                (w["queue"] or {}).get("inFlight", "-"),
                _decision_text(w["autoscaler"]),
            ]
            for w in status["workers"]
        ],
    )


@handle_errors
def status_command(
    profile: ProfileOption = None, region: RegionOption = None, output: OutputOption = OutputFormat.table
) -> None:
    """Every service (desired/running/pending, image, last deployment), workers, queue depth, autoscaler."""
    ctx = aws_context(profile, region)
    status = collect_status(ctx)
    emit(output, status, lambda: render_status(status))


@handle_errors
def url_command(
    open_browser: Annotated[bool, typer.Option("--open", help="Open it in the default browser")] = False,
    profile: ProfileOption = None,
    region: RegionOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Print the Airflow UI URL (the seed's `aws elbv2 describe-load-balancers`)."""
    ctx = aws_context(profile, region)
    url = ctx.outputs.get(out.UI_URL)
    emit(output, {"url": url}, lambda: console.print(url, highlight=False, soft_wrap=True))
    if open_browser:
        webbrowser.open(url)
