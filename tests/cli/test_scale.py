"""`ecsflow scale`: immediate (UpdateService) and scheduled (Application Auto Scaling) scaling."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from deploy_airflow_on_ecs_fargate.cli.errors import UsageError
from deploy_airflow_on_ecs_fargate.cli.scale import parse_duration, parse_time

from .conftest import CLUSTER

LISBON = ZoneInfo("Europe/Lisbon")


def desired(fake_stack, key):
    service = fake_stack.services[key]
    services = fake_stack.client("ecs").describe_services(cluster=CLUSTER, services=[service])["services"]
    return services[0]["desiredCount"]


def scheduled_actions(fake_stack, key):
    return fake_stack.client("application-autoscaling").describe_scheduled_actions(
        ServiceNamespace="ecs", ResourceId=f"service/{CLUSTER}/{fake_stack.services[key]}"
    )["ScheduledActions"]


def scalable_target(fake_stack, key):
    targets = fake_stack.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[f"service/{CLUSTER}/{fake_stack.services[key]}"]
    )["ScalableTargets"]
    return targets[0] if targets else None


def test_scale_now(fake_stack, cli):
    result = cli("scale", "scheduler", "0")
    assert result.exit_code == 0, result.stderr
    assert desired(fake_stack, "scheduler") == 0
    assert "desired count 1 -> 0" in result.stdout
    assert scheduled_actions(fake_stack, "scheduler") == []


def test_scale_by_ecs_service_name_and_json(fake_stack, cli):
    result = cli("scale", fake_stack.services["worker-default"], "2", "-o", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data == {
        "service": "worker-default",
        "ecsService": fake_stack.services["worker-default"],
        "count": 2,
        "previous": 0,
        "scheduled": [],
    }
    assert desired(fake_stack, "worker-default") == 2
    assert "the autoscaler sizes worker-default" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["scheduler", "-1"], "count must be 0 or more, got -1"),
        (["scheduler", "3"], "3 is above the configured maximum of 2 for scheduler (scheduler.max_count"),
        (["worker-heavy", "5"], "above the configured maximum of 2 for worker-heavy (worker_pools[heavy].max_workers"),
        (["webserver", "1"], "unknown service 'webserver'; the services are: api-server, scheduler"),
        (["scheduler", "1", "--for", "soon"], "--for 'soon' is not a duration"),
        (["scheduler", "1", "--at", "tomorrow"], "--at 'tomorrow' is not a time"),
        (["scheduler", "1", "--at", "2001-01-01 10:00"], "is in the past"),
        (["scheduler", "1", "--at", "20:00", "--timezone", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
    ],
)
def test_nonsense_is_refused(fake_stack, cli, args, message):
    result = cli("scale", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert desired(fake_stack, "scheduler") == 1
    assert scheduled_actions(fake_stack, "scheduler") == []


def test_not_an_integer_is_a_usage_error(fake_stack, cli):
    result = cli("scale", "scheduler", "two")
    assert result.exit_code == 2
    assert "Invalid value for 'count'" in result.stderr


def test_scheduled_window(fake_stack, cli):
    start = (datetime.now(LISBON) + timedelta(days=2)).replace(hour=20, minute=0, second=0, microsecond=0)
    result = cli("scale", "api-server", "0", "--at", start.strftime("%Y-%m-%d %H:%M"), "--for", "11h", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert desired(fake_stack, "api-server") == 1  # nothing changes now
    actions = {a["ScheduledActionName"]: a for a in scheduled_actions(fake_stack, "api-server")}
    stamp = start.strftime("%Y%m%dT%H%M")
    begin, end = actions[f"ecsflow-api-server-{stamp}-start"], actions[f"ecsflow-api-server-{stamp}-end"]
    assert begin["Schedule"] == f"at({start:%Y-%m-%dT%H:%M:%S})"
    assert begin["Timezone"] == "Europe/Lisbon"
    assert begin["ScalableTargetAction"] == {"MinCapacity": 0, "MaxCapacity": 0}
    assert end["Schedule"] == f"at({start + timedelta(hours=11):%Y-%m-%dT%H:%M:%S})"
    # The end restores the configured range: desired_count (1) .. max_count (3 by default).
    assert end["ScalableTargetAction"] == {"MinCapacity": 1, "MaxCapacity": 3}
    target = scalable_target(fake_stack, "api-server")
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 3)
    assert [a["minCapacity"] for a in json.loads(result.stdout)["scheduled"]] == [0, 1]


def test_hold_now_for_a_while(fake_stack, cli):
    result = cli("scale", "worker-default", "0", "--for", "2h", "--timezone", "UTC")
    assert result.exit_code == 0, result.stderr
    assert desired(fake_stack, "worker-default") == 0
    target = scalable_target(fake_stack, "worker-default")
    # Held at 0 now: the autoscaler clamps to the target's bounds.
    assert (target["MinCapacity"], target["MaxCapacity"]) == (0, 0)
    (end,) = scheduled_actions(fake_stack, "worker-default")
    assert end["ScalableTargetAction"] == {"MinCapacity": 0, "MaxCapacity": 4}
    assert end["Timezone"] == "UTC"
    assert "the autoscaler sizes" not in result.stderr


def test_parsers():
    assert parse_duration("1h30m") == timedelta(hours=1, minutes=30)
    assert parse_duration("1d") == timedelta(days=1)
    with pytest.raises(UsageError):
        parse_duration("30s")
    now = datetime(2026, 3, 29, 12, 0, tzinfo=LISBON)
    assert parse_time("18:00", LISBON, now) == datetime(2026, 3, 29, 18, 0, tzinfo=LISBON)
    assert parse_time("08:00", LISBON, now) == datetime(2026, 3, 30, 8, 0, tzinfo=LISBON)
    assert parse_time("2026-12-24T18:00:00+00:00", LISBON, now).utcoffset() == timedelta(0)


def test_nonsense_is_refused_before_any_aws_call(monkeypatch, cli):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")  # an AWS call would fail with "no AWS credentials"
    assert "count must be 0 or more" in cli("scale", "api-server", "-3").stderr
    assert "above the configured maximum of 2" in cli("scale", "scheduler", "9").stderr
