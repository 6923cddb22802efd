"""Failures from AWS and from the config become one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import json
import subprocess

import boto3
import pytest
from botocore.exceptions import ClientError, NoCredentialsError, NoRegionError

from deploy_airflow_on_ecs_fargate.cli.errors import CliError, describe
from deploy_airflow_on_ecs_fargate.config import ConfigError

from .conftest import REGION


@pytest.fixture
def limited_identity(fake_stack, monkeypatch):
    """An IAM user that may read the stack and describe ECS but not run tasks; moto then enforces IAM."""
    from moto import settings
    from moto.core import authorization

    iam = boto3.client("iam", region_name=REGION)
    iam.create_user(UserName="reader")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["cloudformation:DescribeStacks", "ecs:Describe*"], "Resource": "*"}
        ],
    }
    iam.put_user_policy(UserName="reader", PolicyName="read", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    monkeypatch.setattr(settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)
    monkeypatch.setattr(authorization.ActionAuthenticatorMixin, "request_count", 0)


def test_access_denied_names_the_action(limited_identity, task_script, cli):
    result = cli("run-task", "--command", "db migrate")
    assert result.exit_code == 1
    assert result.stderr.startswith("ecsflow: access denied: your AWS identity may not call RunTask")
    assert result.stderr.count("\n") == 1
    assert not task_script.started


def test_no_credentials(aws, monkeypatch, cli):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    # No instance metadata lookups from a test machine.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = cli("status")
    assert result.exit_code == 1
    assert "no AWS credentials found" in result.stderr


def test_unknown_profile(aws, cli):
    result = cli("status", "--profile", "nope")
    assert result.exit_code == 1
    assert "The config profile (nope) could not be found" in result.stderr
    assert "aws configure list-profiles" in result.stderr


def test_invalid_config_lists_every_problem_and_exits_2(aws_environment, cli):
    aws_environment.write_text("aws:\n  region: moon-1\n  architecture: RISCV\nworker_pools: []\n")
    result = cli("status")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith("ecsflow: invalid configuration in")
    assert any(line.strip().startswith("aws.region:") for line in lines)
    assert any(line.strip().startswith("aws.architecture:") for line in lines)
    assert any(line.strip().startswith("worker_pools:") for line in lines)


def _client_error(code: str, operation: str = "UpdateService") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"{code} message"}}, operation)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (_client_error("ThrottlingException"), "AWS throttled UpdateService even after retries"),
        (_client_error("ExpiredTokenException"), "invalid or expired"),
        (_client_error("AccessDeniedException", "PutScheduledAction"), "may not call PutScheduledAction"),
        (_client_error("ServiceNotFoundException"), "AWS error from UpdateService: ServiceNotFoundException"),
        (NoCredentialsError(), "no AWS credentials found"),
        (NoRegionError(), "no AWS region"),
        (CliError("plain"), "plain"),
    ],
)
def test_describe_maps_known_failures(error, expected):
    described = describe(error)
    assert described is not None
    lines, code = described
    assert expected in lines[0]
    assert code == 1


def test_config_error_is_a_usage_error():
    lines, code = describe(ConfigError("x.yaml", ["a: bad", "b: worse"]))
    assert code == 2
    assert lines == ["invalid configuration in x.yaml:", "  a: bad", "  b: worse"]


def test_unknown_exceptions_are_not_hidden():
    assert describe(ZeroDivisionError()) is None


def test_failed_program_is_one_line():
    error = subprocess.CalledProcessError(1, ["/usr/bin/docker", "login"], stderr="warning\nError: unauthorized\n")
    assert describe(error) == (["docker failed with exit code 1: Error: unauthorized"], 1)
    assert describe(subprocess.CalledProcessError(3, "npm ci")) == (["npm failed with exit code 3"], 1)
