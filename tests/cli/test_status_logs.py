"""`ecsflow status`, `url` and `logs` against the fake stack."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from .conftest import AUTOSCALER_LOG_GROUP, REGION


def test_status_json_has_services_workers_queue_and_autoscaler(fake_stack, cli):
    sqs = fake_stack.client("sqs")
    for i in range(3):
        sqs.send_message(QueueUrl=fake_stack.queue_urls["default"], MessageBody=f"task {i}")
    sqs.receive_message(QueueUrl=fake_stack.queue_urls["default"], MaxNumberOfMessages=1)
    publish_decision(fake_stack)
    result = cli("status", "--output", "json")
    assert result.exit_code == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["stack"] == "clitest-stack"
    assert status["url"].startswith("http://clitest-alb")
    services = {s["service"]: s for s in status["services"]}
    assert set(services) == {"api-server", "scheduler", "dag-processor", "triggerer", "worker-default", "worker-heavy"}
    assert services["scheduler"]["desired"] == 1
    assert services["worker-default"]["desired"] == 0
    assert services["scheduler"]["image"] == "repo/airflow:v1"  # the Airflow container, not the log router
    assert services["scheduler"]["lastDeployment"]["taskDefinition"] == "clitest-scheduler:1"
    workers = {w["pool"]: w for w in status["workers"]}
    assert workers["default"]["queue"] == {"waiting": 2, "inFlight": 1}
    assert workers["heavy"]["queue"] == {"waiting": 0, "inFlight": 0}
    assert workers["default"]["autoscaler"]["source"] == "metrics"
    assert workers["default"]["autoscaler"]["desired"] == 1
    assert workers["default"]["autoscaler"]["running"] == 5
    assert workers["heavy"]["autoscaler"] is None


def publish_decision(fake_stack):
    """What the autoscaler publishes (autoscaler/metrics.py): statistic sets per pool."""
    fake_stack.client("cloudwatch").put_metric_data(
        Namespace="Airflow/Workers",
        MetricData=[
            {
                "MetricName": name,
                "Dimensions": [{"Name": "Pool", "Value": "default"}],
                "Timestamp": datetime.now(UTC),
                "StatisticValues": {"SampleCount": 2, "Sum": value * 2, "Minimum": value, "Maximum": value},
            }
            for name, value in (("DesiredWorkers", 1), ("QueuedTasks", 2), ("RunningTasks", 5))
        ],
    )


def test_status_table(fake_stack, cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    publish_decision(fake_stack)
    result = cli("status")
    assert result.exit_code == 0, result.stderr
    assert "api-server" in result.stdout
    assert "worker-heavy" in result.stdout
    assert "desired 1 for 2 queued + 5 running" in result.stdout
    assert "no decision" in result.stdout  # the heavy pool


def test_status_without_stack(aws, cli):
    result = cli("status")
    assert result.exit_code == 1
    assert "deploy it first" in result.stderr


def test_url(fake_stack, cli):
    result = cli("url")
    assert result.exit_code == 0
    assert result.stdout.strip() == "http://clitest-alb-123.eu-west-1.elb.amazonaws.com"
    assert json.loads(cli("url", "-o", "json").stdout) == {"url": "http://clitest-alb-123.eu-west-1.elb.amazonaws.com"}


def put_lines(fake_stack, key, stream, lines, at_ms=None):
    logs = fake_stack.client("logs")
    logs.create_log_stream(logGroupName=fake_stack.log_groups[key], logStreamName=stream)
    now = at_ms or int(time.time() * 1000)
    logs.put_log_events(
        logGroupName=fake_stack.log_groups[key],
        logStreamName=stream,
        logEvents=[{"timestamp": now + i, "message": line} for i, line in enumerate(lines)],
    )


def test_logs_since(fake_stack, cli):
    put_lines(fake_stack, "scheduler", "scheduler/airflow/old", ["too old"], at_ms=int(time.time() * 1000) - 3_600_000)
    put_lines(fake_stack, "scheduler", "scheduler/airflow/abc123", ["Starting the scheduler", "[heartbeat] ok"])
    result = cli("logs", "scheduler", "--since", "10m")
    assert result.exit_code == 0, result.stderr
    assert "Starting the scheduler" in result.stdout
    assert "[heartbeat] ok" in result.stdout  # brackets are printed, not read as markup
    assert "too old" not in result.stdout
    wider = cli("logs", "scheduler", "--since", "2h", "-o", "json")
    events = [json.loads(line) for line in wider.stdout.splitlines()]
    assert [e["message"] for e in events] == ["too old", "Starting the scheduler", "[heartbeat] ok"]
    assert events[1]["stream"] == "scheduler/airflow/abc123"


def test_logs_of_the_standalone_task_and_bad_input(fake_stack, cli):
    put_lines(fake_stack, "standalone", "standalone/airflow/t1", ["migrated"])
    assert "migrated" in cli("logs", "standalone").stdout
    unknown = cli("logs", "webserver")
    assert unknown.exit_code == 2
    assert "unknown service 'webserver'" in unknown.stderr
    bad = cli("logs", "scheduler", "--since", "yesterday")
    assert bad.exit_code == 2
    assert "--since 'yesterday'" in bad.stderr


def test_logs_region_is_the_configured_one(fake_stack, cli, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    assert cli("logs", "api-server").exit_code == 0


def test_logs_follow_prints_new_lines_once(fake_stack, cli, monkeypatch):
    from deploy_airflow_on_ecs_fargate.cli import logs as logs_module

    put_lines(fake_stack, "triggerer", "triggerer/airflow/t1", ["first"])
    polls = []

    def sleep(seconds):
        polls.append(seconds)
        if len(polls) == 1:
            logs = fake_stack.client("logs")
            logs.put_log_events(
                logGroupName=fake_stack.log_groups["triggerer"],
                logStreamName="triggerer/airflow/t1",
                logEvents=[{"timestamp": int(time.time() * 1000) + 10, "message": "second"}],
            )
        elif len(polls) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(logs_module.time, "sleep", sleep)
    result = cli("logs", "triggerer", "--follow", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert [json.loads(line)["message"] for line in result.stdout.splitlines()] == ["first", "second"]


def test_status_prefers_the_logged_decision_with_its_reason(fake_stack, cli, monkeypatch):
    from deploy_airflow_on_ecs_fargate.autoscaler.state import PoolStatus

    publish_decision(fake_stack)  # metrics exist too, but the log line says why
    now = int(time.time() * 1000)

    def line(desired, reason):
        return PoolStatus(
            pool="default",
            time=datetime.now(UTC).isoformat(),
            queued=9,
            running=0,
            current=0,
            desired=desired,
            busy=0,
            action="scale_out",
            reason=reason,
        ).log_line()

    logs = fake_stack.client("logs")
    logs.create_log_stream(logGroupName=AUTOSCALER_LOG_GROUP, logStreamName="scheduler/autoscaler/t1")
    logs.put_log_events(
        logGroupName=AUTOSCALER_LOG_GROUP,
        logStreamName="scheduler/autoscaler/t1",
        logEvents=[
            {"timestamp": now - 2000, "message": line(1, "older")},
            {"timestamp": now - 1000, "message": "INFO polling"},
            {"timestamp": now, "message": line(2, "9 tasks need 2 workers")},
        ],
    )
    data = json.loads(cli("status", "-o", "json").stdout)
    default = next(w for w in data["workers"] if w["pool"] == "default")["autoscaler"]
    assert default["source"] == "log"
    assert (default["action"], default["desired"], default["reason"]) == ("scale_out", 2, "9 tasks need 2 workers")
    monkeypatch.setenv("COLUMNS", "250")
    assert "scale_out: desired 2 for 9 queued + 0 running; 9 tasks need 2 workers" in cli("status").stdout
