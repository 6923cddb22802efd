"""`ecsflow run-task`, `db migrate`, `users create` against a fake stack in moto."""

from __future__ import annotations

import json

import pytest

from deploy_airflow_on_ecs_fargate import stack_outputs as out
from deploy_airflow_on_ecs_fargate.cli.run_task import display_command, translate_command

from .conftest import CONTAINER, REGION, STACK, FakeStack, TaskScript, create_stack


def started_task(fake_stack: FakeStack, script: TaskScript) -> dict:
    assert len(script.started) == 1
    task = fake_stack.client("ecs").describe_tasks(
        cluster=script.started[0].cluster_name, tasks=[script.started[0].task_arn]
    )
    return task["tasks"][0]


def test_run_task_streams_logs_and_exits_with_the_container_code(fake_stack, task_script, cli):
    task_script.log_lines = ["DB: postgresql://airflow@db/airflow", "Database migrating done!"]
    result = cli("run-task", "--command", "db migrate", "--cpu", "1024", "--memory", "2048")
    assert result.exit_code == 0, result.stderr
    assert "Database migrating done!" in result.stderr
    assert "task finished with exit code 0" in result.stderr
    task = started_task(fake_stack, task_script)
    assert task["overrides"]["containerOverrides"] == [{"name": CONTAINER, "command": ["db", "migrate"]}]
    assert (task["overrides"]["cpu"], task["overrides"]["memory"]) == ("1024", "2048")
    assert task["taskDefinitionArn"] == fake_stack.standalone_task_definition
    assert task["startedBy"] == "ecsflow"
    # Default capacity provider comes from standalone_task.capacity_provider (on-demand).
    assert task_script.started[0].capacity_provider_name == "FARGATE"


def test_run_task_uses_the_stack_network_and_the_chosen_capacity_provider(fake_stack, task_script, cli):
    result = cli("run-task", "-c", "version", "--capacity-provider", "fargate_spot", "--no-wait")
    assert result.exit_code == 0, result.stderr
    task = task_script.started[0]
    assert task.capacity_provider_name == "FARGATE_SPOT"
    config = task.network_configuration["awsvpcConfiguration"]
    assert config["subnets"] == [fake_stack.subnet]
    assert config["securityGroups"] == [fake_stack.security_group]
    assert config["assignPublicIp"] == "ENABLED"
    # Size defaults from standalone_task in the config.
    assert (task.overrides["cpu"], task.overrides["memory"]) == ("512", "1024")


def test_nonzero_exit_code_is_the_cli_exit_code(fake_stack, task_script, cli):
    task_script.exit_code = 3
    task_script.log_lines = ["Traceback: something broke"]
    result = cli("run-task", "--command", "dags reserialize")
    assert result.exit_code == 3
    assert "exit code 3" in result.stderr
    assert "something broke" in result.stderr


def test_task_that_never_ran_exits_non_zero_with_the_reason(fake_stack, task_script, cli):
    task_script.exit_code = None
    result = cli("run-task", "--command", "db migrate")
    assert result.exit_code == 1
    assert "CannotPullContainerError" in result.stderr


def test_seed_command_db_init_becomes_db_migrate_with_a_notice(fake_stack, task_script, cli):
    result = cli("run-task", "--wait-tasks-stopped", "--command", "db init")
    assert result.exit_code == 0, result.stderr
    assert "does not exist in Airflow 3" in result.stderr
    assert task_script.started[0].overrides["containerOverrides"][0]["command"] == ["db", "migrate"]


def test_json_output_reports_the_result(fake_stack, task_script, cli):
    task_script.exit_code = 0
    result = cli("run-task", "--command", "db upgrade", "--output", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["exitCode"] == 0
    assert data["lastStatus"] == "STOPPED"
    assert data["command"] == "db migrate"
    assert data["taskArn"] == task_script.started[0].task_arn


def test_no_wait_returns_at_once(fake_stack, task_script, cli):
    result = cli("run-task", "--command", "version", "--no-wait", "-o", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["taskArn"] == task_script.started[0].task_arn


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--command", "db migrate", "--cpu", "256", "--memory", "4096"], "memory_mib 4096 is not valid with cpu 256"),
        (["--command", "db migrate", "--cpu", "300"], "cpu 300 is not a Fargate size"),
        (["--command", "   "], "--command is empty"),
        (["--command", "users create --lastname 'unterminated"], "cannot be split like a shell line"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(fake_stack, task_script, cli, args, message):
    result = cli("run-task", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert not task_script.started


def test_no_stack_says_deploy_first(aws, cli):
    result = cli("run-task", "--command", "db migrate")
    assert result.exit_code == 1
    assert "stack clitest-stack not found in eu-west-1" in result.stderr
    assert "./ecsflow deploy" in result.stderr


def test_region_flag_wins(fake_stack, cli):
    result = cli("run-task", "--command", "db migrate", "--region", "us-west-2")
    assert result.exit_code == 1
    assert "not found in us-west-2" in result.stderr


def test_db_migrate_shortcut(fake_stack, task_script, cli):
    result = cli("db", "migrate")
    assert result.exit_code == 0, result.stderr
    assert task_script.started[0].overrides["containerOverrides"][0]["command"] == ["db", "migrate"]


def test_users_create_generates_a_password_and_hides_it_in_the_command_line(fake_stack, task_script, cli):
    result = cli("users", "create", "--username", "ana", "--email", "ana@example.com")
    assert result.exit_code == 0, result.stderr
    command = task_script.started[0].overrides["containerOverrides"][0]["command"]
    password = command[command.index("--password") + 1]
    assert len(password) >= 20
    assert command[:2] == ["users", "create"]
    assert command[command.index("--role") + 1] == "Admin"
    assert command[command.index("--username") + 1] == "ana"
    started_line = next(line for line in result.stderr.splitlines() if line.startswith("started task"))
    assert password not in started_line and "****" in started_line
    assert f"password: {password}" in result.stderr


def test_users_create_failure_shows_no_password(fake_stack, task_script, cli):
    task_script.exit_code = 1
    result = cli("users", "create", "--password", "s3cret-given")
    assert result.exit_code == 1
    assert "s3cret-given" not in result.stderr + result.stdout


def test_translate_and_display_helpers():
    assert translate_command(["airflow", "db", "init"])[0] == ["db", "migrate"]
    assert translate_command(["db", "upgrade", "--to-revision", "x"])[0] == ["db", "migrate", "--to-revision", "x"]
    assert translate_command(["users", "list"]) == (["users", "list"], None)
    assert display_command(["users", "create", "--password", "p w"]) == "users create --password '****'"


def test_firehose_logged_task_is_not_streamed_and_says_why(fake_stack, task_script, cli):
    """The stack's default standalone task logs through FireLens to Firehose: nothing to stream from CloudWatch."""
    ecs = fake_stack.client("ecs")
    firelens = ecs.register_task_definition(
        family="clitest-standalone-firehose",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="512",
        memory="1024",
        containerDefinitions=[
            {
                "name": CONTAINER,
                "image": "repo/airflow:v1",
                "memory": 1024,
                "logConfiguration": {
                    "logDriver": "awsfirelens",
                    "options": {"Name": "kinesis_firehose", "delivery_stream": "clitest-logs", "region": REGION},
                },
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    cloudformation = fake_stack.client("cloudformation")
    cloudformation.delete_stack(StackName=STACK)
    create_stack({**fake_stack.outputs, out.STANDALONE_TASK_DEFINITION: firelens, out.LOG_BUCKET: "clitest-logs"})
    task_script.log_lines = ["must not be printed"]  # written to the awslogs stream the old definition would use
    result = cli("run-task", "--command", "db migrate")
    assert result.exit_code == 0, result.stderr
    assert "goes to Kinesis Data Firehose (S3: clitest-logs)" in result.stderr
    assert "standalone_task.log_destination: cloudwatch" in result.stderr
    assert "must not be printed" not in result.stderr


def test_log_stream_of_each_driver(fake_stack):
    from deploy_airflow_on_ecs_fargate.cli.aws_session import aws_context
    from deploy_airflow_on_ecs_fargate.cli.task_logs import task_log_tail

    ctx = aws_context()

    def definition(config):
        return {"containerDefinitions": [{"name": "app", "logConfiguration": config}]}

    awslogs = task_log_tail(
        ctx,
        definition({"logDriver": "awslogs", "options": {"awslogs-group": "g", "awslogs-stream-prefix": "p"}}),
        "app",
        "t1",
        "standalone",
    )
    assert (awslogs.group, awslogs.stream) == ("g", "p/app/t1")
    cloudwatch_firelens = task_log_tail(
        ctx,
        definition(
            {
                "logDriver": "awsfirelens",
                "options": {"Name": "cloudwatch_logs", "log_group_name": "g2", "log_stream_prefix": "fl-"},
            }
        ),
        "app",
        "t1",
        "standalone",
    )
    assert (cloudwatch_firelens.group, cloudwatch_firelens.stream) == ("g2", "fl-app-firelens-t1")
    # No log configuration: the stack's log group of the component, stream found by task id.
    fallback = task_log_tail(ctx, {"containerDefinitions": [{"name": "app"}]}, "app", "t1", "standalone")
    assert (fallback.group, fallback.stream) == (fake_stack.log_groups["standalone"], None)
