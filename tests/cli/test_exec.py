"""`ecsflow exec`: find a running task of the service, ExecuteCommand, hand over to session-manager-plugin."""

from __future__ import annotations

import json
import os
import stat
import sys

import pytest
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.moto_api import state_manager

from deploy_airflow_on_ecs_fargate.cli.exec import pick_container

from .conftest import CLUSTER, REGION


@pytest.fixture
def execute_command(monkeypatch):
    """moto has no ExecuteCommand: answer it the way ECS does, recording the request."""
    calls = []

    def handler(self):
        calls.append(json.loads(self.body))
        return json.dumps(
            {
                "clusterArn": f"arn:aws:ecs:{REGION}:123456789012:cluster/{CLUSTER}",
                "containerName": calls[-1]["container"],
                "interactive": True,
                "taskArn": calls[-1]["task"],
                "session": {"sessionId": "ecs-execute-command-1", "streamUrl": "wss://ssm/1", "tokenValue": "tok"},
            }
        )

    monkeypatch.setattr(EC2ContainerServiceResponse, "execute_command", handler, raising=False)
    return calls


@pytest.fixture
def running_service_task(fake_stack):
    """A task of the scheduler service that stays RUNNING (moto would otherwise stop it as it is described)."""
    state_manager.set_transition(model_name="ecs::task", transition={"progression": "manual", "times": 10_000})
    ecs = fake_stack.client("ecs")
    service = fake_stack.services["scheduler"]
    definition = ecs.describe_services(cluster=CLUSTER, services=[service])["services"][0]["taskDefinition"]
    network = {"awsvpcConfiguration": {"subnets": [fake_stack.subnet], "securityGroups": [fake_stack.security_group]}}
    # A one-off task of the same family that must not be picked: it is not in the service's group.
    ecs.run_task(cluster=CLUSTER, taskDefinition=definition, launchType="FARGATE", networkConfiguration=network)
    task = ecs.run_task(
        cluster=CLUSTER,
        taskDefinition=definition,
        launchType="FARGATE",
        group=f"service:{service}",
        networkConfiguration=network,
    )["tasks"][0]
    return task["taskArn"]


@pytest.fixture
def fake_plugin(tmp_path, monkeypatch):
    """A session-manager-plugin stand-in that records its arguments and exits 7."""
    record = tmp_path / "plugin-args.json"
    plugin = tmp_path / "bin" / "session-manager-plugin"
    plugin.parent.mkdir()
    plugin.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        f"open({str(record)!r}, 'w').write(json.dumps(sys.argv[1:]))\nsys.exit(7)\n"
    )
    plugin.chmod(plugin.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{plugin.parent}{os.pathsep}{os.environ['PATH']}")
    return record


def test_exec_hands_the_session_to_the_plugin(running_service_task, execute_command, fake_plugin, cli):
    result = cli("exec", "scheduler", "--command", "airflow dags list")
    assert result.exit_code == 7  # the plugin's exit code
    (call,) = execute_command
    assert call == {
        "cluster": CLUSTER,
        "task": running_service_task,
        "container": "airflow",  # the Airflow container, not the log router
        "interactive": True,
        "command": "airflow dags list",
    }
    args = json.loads(fake_plugin.read_text())
    assert json.loads(args[0])["sessionId"] == "ecs-execute-command-1"
    assert args[1:4] == [REGION, "StartSession", ""]
    task_id = running_service_task.rsplit("/", 1)[-1]
    assert json.loads(args[4])["Target"].startswith(f"ecs:{CLUSTER}_{task_id}_")
    assert args[5] == f"https://ecs.{REGION}.amazonaws.com"


def test_exec_unknown_container(running_service_task, execute_command, fake_plugin, cli):
    missing = cli("exec", "scheduler", "--container", "nope")
    assert missing.exit_code == 2
    # moto reports only the first container of a task.
    assert "the task has no container 'nope'; its containers are: airflow" in missing.stderr
    assert execute_command == []


def test_pick_container_skips_sidecars_and_honours_the_choice():
    task = {"containers": [{"name": "log-router"}, {"name": "cloudwatch-agent"}, {"name": "airflow"}]}
    assert pick_container(task, None, "scheduler")["name"] == "airflow"
    assert pick_container(task, "log-router", "scheduler")["name"] == "log-router"
    named = {"containers": [{"name": "sidecar"}, {"name": "scheduler"}]}
    assert pick_container(named, None, "scheduler")["name"] == "scheduler"
    # The scheduler task also runs the autoscaler: the stack's Airflow container name wins over order.
    scheduler_task = {"containers": [{"name": "autoscaler"}, {"name": "main"}, {"name": "airflow"}]}
    assert pick_container(scheduler_task, None, "scheduler", "airflow")["name"] == "airflow"
    assert pick_container(scheduler_task, None, "scheduler")["name"] == "main"


def test_exec_without_running_task(fake_stack, execute_command, fake_plugin, cli):
    result = cli("exec", "triggerer")
    assert result.exit_code == 1
    assert "triggerer has no running task; start one with ./ecsflow scale triggerer 1" in result.stderr
    assert execute_command == []


def test_exec_without_the_plugin_says_how_to_install_it(running_service_task, execute_command, monkeypatch, cli):
    monkeypatch.setenv("PATH", "/nonexistent")
    result = cli("exec", "scheduler")
    assert result.exit_code == 1
    assert "session-manager-plugin is not installed" in result.stderr
    assert "session-manager-working-with-install-plugin.html" in result.stderr
    assert execute_command == []  # no session opened for nothing
