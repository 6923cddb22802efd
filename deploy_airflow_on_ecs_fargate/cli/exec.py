"""`ecsflow exec SERVICE [--container] [--command]`: a shell in a running task, through ECS exec.

Finds a RUNNING task of the service, calls ExecuteCommand and hands the session to AWS's
``session-manager-plugin`` with the same arguments the aws CLI passes it (session JSON, region,
"StartSession", profile, target ``ecs:<cluster>_<task id>_<container runtime id>``, endpoint).
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
from typing import TYPE_CHECKING, Annotated, Any

import typer

from deploy_airflow_on_ecs_fargate.cli.aws_session import ProfileOption, RegionOption, aws_context
from deploy_airflow_on_ecs_fargate.cli.errors import CliError, UsageError, handle_errors
from deploy_airflow_on_ecs_fargate.cli.output import err_console

if TYPE_CHECKING:
    from deploy_airflow_on_ecs_fargate.cli.aws_session import AwsContext

PLUGIN = "session-manager-plugin"
PLUGIN_INSTALL_URL = (
    "https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html"
)


def running_tasks(ctx: AwsContext, service_name: str) -> list[dict[str, Any]]:
    """The service's RUNNING tasks, oldest first (a task started by the service has group 'service:<name>')."""
    ecs = ctx.client("ecs")
    cluster = ctx.outputs.cluster
    arns = ecs.list_tasks(cluster=cluster, serviceName=service_name, desiredStatus="RUNNING")["taskArns"]
    if not arns:
        return []
    tasks = ecs.describe_tasks(cluster=cluster, tasks=arns[:100])["tasks"]
    ours = [t for t in tasks if t.get("group") == f"service:{service_name}" and t.get("lastStatus") == "RUNNING"]
    return sorted(ours, key=lambda t: str(t.get("startedAt", "")))


def pick_container(
    task: dict[str, Any], wanted: str | None, service_key: str, airflow_container: str | None = None
) -> dict[str, Any]:
    containers = task.get("containers", [])
    names = [c.get("name") for c in containers]
    if wanted:
        for container in containers:
            if container.get("name") == wanted:
                return dict(container)
        raise UsageError(f"the task has no container {wanted!r}; its containers are: {', '.join(map(str, names))}")
    # The Airflow container: named after the service, or like the stack's standalone (Airflow) container,
    # else the first that is not a sidecar. DescribeTasks does not keep the definition's order.
    sidecars = ("log-router", "log_router", "firelens", "cloudwatch-agent", "cwagent", "xray", "autoscaler")
    for preferred in (service_key, airflow_container):
        for container in containers:
            if preferred and container.get("name") == preferred:
                return dict(container)
    for container in containers:
        if not any(s in str(container.get("name", "")).lower() for s in sidecars):
            return dict(container)
    if not containers:
        raise CliError("the task reports no containers")
    return dict(containers[0])


@handle_errors
def exec_command(
    service: Annotated[str, typer.Argument(help="api-server, scheduler, dag-processor, triggerer or worker-<pool>")],
    container: Annotated[
        str | None, typer.Option("--container", help="Container name (default: the Airflow container)")
    ] = None,
    command: Annotated[str, typer.Option("--command", "-c", help="What to run in the container")] = "/bin/bash",
    profile: ProfileOption = None,
    region: RegionOption = None,
) -> None:
    """Open a shell (or run a command) in a running task of a service, via ECS exec."""
    ctx = aws_context(profile, region)
    key = ctx.outputs.service_key(service)
    name = ctx.outputs.service(key)
    tasks = running_tasks(ctx, name)
    if not tasks:
        raise CliError(f"{key} has no running task; start one with ./ecsflow scale {key} 1")
    plugin = shutil.which(PLUGIN)
    if plugin is None:
        raise CliError(f"{PLUGIN} is not installed; ECS exec needs it, as the aws CLI does: {PLUGIN_INSTALL_URL}")
    task = tasks[-1]
    from deploy_airflow_on_ecs_fargate import stack_outputs as out

    chosen = pick_container(task, container, key, ctx.outputs.values.get(out.STANDALONE_CONTAINER))
    cluster = ctx.outputs.cluster
    task_id = str(task["taskArn"]).rsplit("/", 1)[-1]
    ecs = ctx.client("ecs")
    response = ecs.execute_command(
        cluster=cluster, task=task["taskArn"], container=chosen["name"], interactive=True, command=command
    )
    target = {"Target": f"ecs:{cluster}_{task_id}_{chosen.get('runtimeId', '')}"}
    err_console.print(f"{key}: task {task_id}, container {chosen['name']}: {command}", highlight=False)
    # Ctrl-C belongs to the remote shell while the plugin runs, as with the aws CLI.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        code = subprocess.call(
            [
                plugin,
                json.dumps(response["session"]),
                ctx.region,
                "StartSession",
                ctx.profile or "",
                json.dumps(target),
                ecs.meta.endpoint_url,
            ]
        )
    finally:
        signal.signal(signal.SIGINT, previous)
    raise typer.Exit(code)
