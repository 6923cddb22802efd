"""`ecsflow run-task`, `db migrate`, `users create`: one-off Airflow commands on the standalone task definition.

The stack ships a template task definition (the seed's "standalone task"): this module runs it with
the command, size and capacity provider as overrides, in the subnets and security group the stack
names, then waits while streaming the container's logs and exits with the container's exit code.
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html
"""

from __future__ import annotations

import enum
import secrets
import shlex
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from deploy_airflow_on_ecs_fargate.cli.aws_session import ProfileOption, RegionOption, aws_context
from deploy_airflow_on_ecs_fargate.cli.errors import CliError, UsageError, handle_errors
from deploy_airflow_on_ecs_fargate.cli.output import OutputFormat, OutputOption, err_console, notice, print_json

if TYPE_CHECKING:
    from deploy_airflow_on_ecs_fargate.cli.aws_session import AwsContext

# The seed's Airflow 2 commands with a clear Airflow 3 equivalent.
# https://airflow.apache.org/docs/apache-airflow/stable/installation/upgrading_to_airflow3.html
AIRFLOW2_COMMANDS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("db", "init"): ("db", "migrate"),
    ("db", "upgrade"): ("db", "migrate"),
}
EXIT_TASK_DID_NOT_RUN = 1
EXIT_INTERRUPTED = 130


def translate_command(command: list[str]) -> tuple[list[str], str | None]:
    """Map an Airflow 2 command to Airflow 3; returns the command and a notice when it changed."""
    words = command[1:] if command[:1] == ["airflow"] else command
    for old, new in AIRFLOW2_COMMANDS.items():
        if tuple(words[: len(old)]) == old:
            translated = [*new, *words[len(old) :]]
            return translated, (
                f"`airflow {' '.join(old)}` does not exist in Airflow 3: running `airflow {' '.join(translated)}`"
            )
    return words, None


def display_command(command: list[str]) -> str:
    """The command as a shell line with the value of --password hidden (it must not land in terminals or CI logs)."""
    shown = ["****" if i > 0 and command[i - 1] == "--password" else word for i, word in enumerate(command)]
    return shlex.join(shown)


def parse_command(command: str) -> list[str]:
    try:
        words = shlex.split(command)
    except ValueError as error:
        raise UsageError(f"--command {command!r} cannot be split like a shell line: {error}") from None
    if not words:
        raise UsageError("--command is empty; give an Airflow command such as 'db migrate'")
    return words


@dataclass(frozen=True)
class TaskResult:
    task_arn: str
    last_status: str
    exit_code: int | None
    stopped_reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "taskArn": self.task_arn,
            "lastStatus": self.last_status,
            "exitCode": self.exit_code,
            "stoppedReason": self.stopped_reason,
        }


def start_task(
    ctx: AwsContext,
    command: list[str],
    cpu: int | None = None,
    memory: int | None = None,
    capacity_provider: str | None = None,
) -> str:
    """RunTask the standalone task definition with overrides; returns the task ARN."""
    from pydantic import ValidationError

    from deploy_airflow_on_ecs_fargate import stack_outputs as out
    from deploy_airflow_on_ecs_fargate.config import TaskSize

    defaults = ctx.settings.standalone_task
    try:
        size = TaskSize(cpu=cpu or defaults.cpu, memory_mib=memory or defaults.memory_mib)
    except ValidationError as error:
        raise UsageError(str(error.errors()[0]["msg"]).removeprefix("Value error, ")) from None
    outputs = ctx.outputs
    container = outputs.get(out.STANDALONE_CONTAINER)
    subnets = [s.strip() for s in outputs.get(out.STANDALONE_SUBNETS).split(",") if s.strip()]
    response = ctx.client("ecs").run_task(
        cluster=outputs.cluster,
        taskDefinition=outputs.get(out.STANDALONE_TASK_DEFINITION),
        count=1,
        startedBy="ecsflow",
        capacityProviderStrategy=[{"capacityProvider": capacity_provider or defaults.capacity_provider, "weight": 1}],
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": subnets,
                "securityGroups": [outputs.get(out.STANDALONE_SECURITY_GROUP)],
                "assignPublicIp": outputs.values.get(out.STANDALONE_ASSIGN_PUBLIC_IP, "DISABLED"),
            }
        },
        overrides={
            "cpu": str(size.cpu),
            "memory": str(size.memory_mib),
            "containerOverrides": [{"name": container, "command": command}],
        },
    )
    failures = response.get("failures") or []
    if failures or not response.get("tasks"):
        reasons = "; ".join(f"{f.get('arn', '')} {f.get('reason', '')} {f.get('detail', '')}".strip() for f in failures)
        raise CliError(f"ECS did not start the task: {reasons or 'no task returned'}")
    return str(response["tasks"][0]["taskArn"])


def wait_for_task(
    ctx: AwsContext, task_arn: str, *, stream_logs: bool = True, show_progress: bool = True
) -> TaskResult:
    """Poll the task until STOPPED, printing its log lines as they arrive; return its container's result."""
    from deploy_airflow_on_ecs_fargate import stack_outputs as out
    from deploy_airflow_on_ecs_fargate.cli.task_logs import LogTail, task_log_tail

    ecs = ctx.client("ecs")
    cluster = ctx.outputs.cluster
    container = ctx.outputs.get(out.STANDALONE_CONTAINER)
    task_id = task_arn.rsplit("/", 1)[-1]
    tail: LogTail | None = None
    if stream_logs:
        definition = ecs.describe_task_definition(taskDefinition=ctx.outputs.get(out.STANDALONE_TASK_DEFINITION))
        tail = task_log_tail(ctx, definition["taskDefinition"], container, task_id, "standalone")
        if tail is None:
            bucket = ctx.outputs.values.get(out.LOG_BUCKET, "the stack's log bucket")
            notice(
                f"the task's output goes to Kinesis Data Firehose (S3: {bucket}), so it is not streamed here; "
                "set standalone_task.log_destination: cloudwatch to follow it live"
            )

    def drain() -> None:
        if tail is not None:
            for event in tail.poll():
                err_console.print(str(event["message"]).rstrip("\n"), markup=False, highlight=False)

    status = err_console.status(f"task {task_id}: starting", spinner="dots") if show_progress else None
    if status is not None:
        status.start()
    try:
        while True:
            tasks = ecs.describe_tasks(cluster=cluster, tasks=[task_arn])["tasks"]
            if not tasks:
                raise CliError(f"task {task_arn} disappeared from cluster {cluster}")
            task = tasks[0]
            last_status = str(task.get("lastStatus", "UNKNOWN"))
            if status is not None:
                status.update(f"task {task_id}: {last_status}")
            drain()
            if last_status == "STOPPED":
                break
            time.sleep(ctx.settings.cli.poll_seconds)
    finally:
        if status is not None:
            status.stop()
    drain()
    exit_code = next((c.get("exitCode") for c in task.get("containers", []) if c.get("name") == container), None)
    return TaskResult(task_arn, last_status, exit_code, str(task.get("stoppedReason", "")))


def run_and_report(
    ctx: AwsContext,
    command: list[str],
    *,
    cpu: int | None = None,
    memory: int | None = None,
    capacity_provider: str | None = None,
    wait: bool = True,
    output: OutputFormat = OutputFormat.table,
) -> int:
    """Start the task, optionally wait for it, print the outcome; return the exit code for the CLI."""
    command, translated = translate_command(command)
    if translated:
        notice(translated)
    task_arn = start_task(ctx, command, cpu, memory, capacity_provider)
    err_console.print(f"started task {task_arn}: airflow {display_command(command)}", highlight=False, soft_wrap=True)
    if not wait:
        if output is OutputFormat.json:
            print_json({"taskArn": task_arn, "command": display_command(command)})
        return 0
    try:
        result = wait_for_task(ctx, task_arn, show_progress=output is OutputFormat.table)
    except KeyboardInterrupt:
        err_console.print(
            f"stopped waiting; the task keeps running: {task_arn} "
            f"(stop it with: aws ecs stop-task --cluster {ctx.outputs.cluster} --task {task_arn})",
            highlight=False,
        )
        return EXIT_INTERRUPTED
    if output is OutputFormat.json:
        print_json({**result.as_dict(), "command": display_command(command)})
    if result.exit_code is None:
        err_console.print(
            f"[red]the task stopped before its container ran[/red]: {result.stopped_reason or 'no reason given'}"
        )
        return EXIT_TASK_DID_NOT_RUN
    colour = "green" if result.exit_code == 0 else "red"
    err_console.print(f"[{colour}]task finished with exit code {result.exit_code}[/{colour}]")
    return int(result.exit_code)


CpuOption = Annotated[
    int | None, typer.Option("--cpu", help="Fargate CPU units (default: standalone_task.cpu in the config)")
]
MemoryOption = Annotated[
    int | None, typer.Option("--memory", help="Memory in MiB (default: standalone_task.memory_mib)")
]


class CapacityProvider(enum.StrEnum):
    FARGATE = "FARGATE"
    FARGATE_SPOT = "FARGATE_SPOT"


CapacityOption = Annotated[
    CapacityProvider | None,
    typer.Option(
        "--capacity-provider",
        help="Default: standalone_task.capacity_provider in the config",
        case_sensitive=False,
    ),
]
WaitOption = Annotated[
    bool,
    typer.Option(
        "--wait/--no-wait",
        help="Wait for the task to stop, stream its logs and exit with its exit code",
    ),
]
SeedWaitOption = Annotated[
    bool,
    typer.Option("--wait-tasks-stopped", hidden=True, help="The seed's name for --wait"),
]


@handle_errors
def run_task_command(
    command: Annotated[str, typer.Option("--command", "-c", help="Airflow command, quoted: 'db migrate'")],
    cpu: CpuOption = None,
    memory: MemoryOption = None,
    capacity_provider: CapacityOption = None,
    wait: WaitOption = True,
    wait_tasks_stopped: SeedWaitOption = False,
    profile: ProfileOption = None,
    region: RegionOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Run a one-off Airflow command on ECS (the seed's scripts/run_task.py)."""
    ctx = aws_context(profile, region)
    code = run_and_report(
        ctx,
        parse_command(command),
        cpu=cpu,
        memory=memory,
        capacity_provider=capacity_provider.value if capacity_provider else None,
        wait=wait or wait_tasks_stopped,
        output=output,
    )
    raise typer.Exit(code)


db_app = typer.Typer(help="Airflow metadata database tasks, run on ECS.", no_args_is_help=True)
users_app = typer.Typer(
    help="Airflow UI users (FAB auth manager), managed with one-off ECS tasks.", no_args_is_help=True
)


@db_app.command("migrate")
@handle_errors
def db_migrate(
    wait: WaitOption = True,
    profile: ProfileOption = None,
    region: RegionOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Create or upgrade the metadata database schema (`airflow db migrate`)."""
    ctx = aws_context(profile, region)
    raise typer.Exit(run_and_report(ctx, ["db", "migrate"], wait=wait, output=output))


def random_password() -> str:
    return secrets.token_urlsafe(18)


def users_create_command(
    username: str, email: str, role: str, firstname: str, lastname: str, password: str
) -> list[str]:
    return [
        "users",
        "create",
        "--username",
        username,
        "--email",
        email,
        "--role",
        role,
        "--firstname",
        firstname,
        "--lastname",
        lastname,
        "--password",
        password,
    ]


@users_app.command("create")
@handle_errors
def users_create(
    username: Annotated[str | None, typer.Option(help="Default: airflow.admin_username in the config")] = None,
    email: Annotated[str | None, typer.Option(help="Default: airflow.admin_email in the config")] = None,
    role: Annotated[str, typer.Option(help="Admin, Op, User, Viewer or Public")] = "Admin",
    firstname: Annotated[str | None, typer.Option(help="Default: the username")] = None,
    lastname: Annotated[str | None, typer.Option(help="Default: the role")] = None,
    password: Annotated[
        str | None, typer.Option(help="Default: generated and printed once (it travels in the task's overrides)")
    ] = None,
    wait: WaitOption = True,
    profile: ProfileOption = None,
    region: RegionOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Create an Airflow UI user (`airflow users create`)."""
    ctx = aws_context(profile, region)
    name = username or ctx.settings.airflow.admin_username
    generated = password is None
    secret = password or random_password()
    command = users_create_command(
        name, email or ctx.settings.airflow.admin_email, role, firstname or name, lastname or role, secret
    )
    code = run_and_report(ctx, command, wait=wait, output=output)
    if code == 0 and generated:
        err_console.print(
            f"user [bold]{name}[/bold] password: [bold]{secret}[/bold] (shown once; change it in the UI)",
            soft_wrap=True,
        )
    raise typer.Exit(code)
