"""`ecsflow deploy/diff/synth/destroy`: the order of the steps, the image build, the CDK CLI's environment.

The CDK CLI itself is replaced by a stand-in that does to moto what `cdk deploy` does to AWS
(creates the stack with its outputs); docker is a stand-in script that records what it was asked.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import boto3
import pytest

from deploy_airflow_on_ecs_fargate import stack_outputs as out
from deploy_airflow_on_ecs_fargate.cli import deploy

from .conftest import REGION, STACK, create_stack

fake_cdk_supports_repository_only = True


@pytest.fixture
def fake_cdk(fake_stack, monkeypatch):
    """Record CDK calls; on deploy, (re)create the stack in moto as CDK would."""
    full_outputs = dict(fake_stack.outputs)
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    cloudformation.delete_stack(StackName=STACK)  # start from "never deployed"
    calls: list[dict] = []

    def run_cdk(ctx, args):
        calls.append({"args": args, "env": deploy.cdk_environment(ctx)})
        if args[0] == "synth":
            output = Path(args[args.index("--output") + 1])
            resources = {"Repo": {"Type": "AWS::ECR::Repository"}, "CDKMetadata": {"Type": "AWS::CDK::Metadata"}}
            if not fake_cdk_supports_repository_only:
                resources["Cluster"] = {"Type": "AWS::ECS::Cluster"}
            (output / f"{STACK}.template.json").write_text(json.dumps({"Resources": resources}))
        if args[0] == "deploy":
            repository_only = f"{out.REPOSITORY_ONLY_CONTEXT}=true" in args
            if any(s["StackStatus"] != "DELETE_COMPLETE" for s in cloudformation.list_stacks()["StackSummaries"]):
                cloudformation.delete_stack(StackName=STACK)
            outputs = (
                {out.ECR_REPOSITORY_URI: full_outputs[out.ECR_REPOSITORY_URI]} if repository_only else full_outputs
            )
            create_stack(outputs)
        return 0

    monkeypatch.setattr(deploy, "run_cdk", run_cdk)
    return calls


def install_fake_engine(tmp_path: Path, monkeypatch, name: str, info_exit: int = 0) -> Path:
    record = tmp_path / f"{name}-calls.jsonl"
    script = tmp_path / "bin" / name
    script.parent.mkdir(exist_ok=True)
    script.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        f"stdin = sys.stdin.read() if sys.argv[1:2] == ['login'] else ''\n"
        f"open({str(record)!r}, 'a').write(json.dumps({{'args': sys.argv[1:], 'stdin': stdin}}) + '\\n')\n"
        f"sys.exit({info_exit} if sys.argv[1:2] == ['info'] else 0)\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{script.parent}{os.pathsep}/nonexistent")
    return record


def test_first_deploy_builds_pushes_deploys_and_initialises(fake_cdk, task_script, tmp_path, monkeypatch, cli):
    docker = install_fake_engine(tmp_path, monkeypatch, "docker")
    result = cli("deploy", "--yes")
    assert result.exit_code == 0, result.stderr
    # 1. the repository alone, 2. the whole stack.
    context = ["--context", f"{out.REPOSITORY_ONLY_CONTEXT}=true"]
    synth = fake_cdk[0]["args"]
    assert synth[: len(context) + 2] == ["synth", "--quiet", *context]
    # 1. check the first phase holds only the repository, 2. deploy it, 3. deploy the whole stack.
    assert [c["args"] for c in fake_cdk[1:]] == [
        ["deploy", *context, "--require-approval", "never"],
        ["deploy", "--require-approval", "never"],
    ]
    env = fake_cdk[0]["env"]
    assert env["AWS_REGION"] == env["ECSFLOW_AWS__REGION"] == REGION
    assert env["PATH"].startswith(str(Path(sys.executable).parent))
    calls = [json.loads(line) for line in docker.read_text().splitlines()]
    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/clitest/airflow:v1"  # EcrRepositoryUri + aws.image_tag
    assert [c["args"][0] for c in calls] == ["info", "login", "build", "push"]
    login = calls[1]
    assert login["args"][:4] == ["login", "--username", "AWS", "--password-stdin"]
    assert login["stdin"]  # the ECR password travels on stdin, never in argv
    build = ["build", "-f", "build/prod/Containerfile", "--platform", "linux/arm64", "-t", image, "."]
    assert calls[2]["args"] == build
    assert calls[3]["args"] == ["push", image]
    # Then db migrate and the admin user, as one-off tasks.
    commands = [t.overrides["containerOverrides"][0]["command"] for t in task_script.started]
    assert commands[0] == ["db", "migrate"]
    assert commands[1][:4] == ["users", "create", "--username", "admin"]
    assert "Airflow UI: http://clitest-alb-123.eu-west-1.elb.amazonaws.com" in result.stdout


def test_redeploy_does_not_initialise_unless_asked(fake_cdk, task_script, tmp_path, monkeypatch, cli):
    install_fake_engine(tmp_path, monkeypatch, "docker")
    assert cli("deploy", "--no-init").exit_code == 0
    fake_cdk.clear()
    result = cli("deploy")
    assert result.exit_code == 0, result.stderr
    assert [c["args"] for c in fake_cdk] == [["deploy"]]  # no repository phase, no --yes
    assert task_script.started == []
    assert cli("deploy", "--init").exit_code == 0
    assert len(task_script.started) == 2


def test_failed_migration_fails_the_deploy(fake_cdk, task_script, tmp_path, monkeypatch, cli):
    install_fake_engine(tmp_path, monkeypatch, "docker")
    task_script.exit_code = 1
    result = cli("deploy")
    assert result.exit_code == 1
    assert "db migrate failed with exit code 1" in result.stderr
    assert len(task_script.started) == 1


def test_no_container_engine_is_a_clear_message(fake_cdk, tmp_path, monkeypatch, cli):
    install_fake_engine(tmp_path, monkeypatch, "docker", info_exit=1)
    result = cli("deploy")
    assert result.exit_code == 1
    assert "building the image needs docker or podman, and neither works" in result.stderr
    assert "docker: `docker info` failed: " in result.stderr
    assert "podman: not installed" in result.stderr
    assert "aws.image_uri" in result.stderr
    assert fake_cdk == []  # checked before anything is created


def test_podman_and_x86(fake_cdk, task_script, tmp_path, monkeypatch, cli):
    podman = install_fake_engine(tmp_path, monkeypatch, "podman")
    monkeypatch.setenv("ECSFLOW_AWS__ARCHITECTURE", "X86_64")
    assert cli("deploy", "--no-init").exit_code == 0
    build = [json.loads(line) for line in podman.read_text().splitlines()][2]
    assert build["args"][3:5] == ["--platform", "linux/amd64"]


def test_given_image_uri_skips_the_build(fake_cdk, tmp_path, monkeypatch, cli):
    docker = install_fake_engine(tmp_path, monkeypatch, "docker")
    monkeypatch.setenv("ECSFLOW_AWS__IMAGE_URI", "public.example/airflow:3.3.2")
    assert cli("deploy", "--no-init").exit_code == 0
    assert [c["args"] for c in fake_cdk] == [["deploy"]]
    assert not docker.exists()


def test_cdk_failure_is_the_exit_code(fake_stack, monkeypatch, cli):
    monkeypatch.setattr(deploy, "run_cdk", lambda ctx, args: 5)
    monkeypatch.setenv("ECSFLOW_AWS__BUILD_IMAGE", "false")
    assert cli("diff").exit_code == 5
    result = cli("deploy", "--no-init")
    assert result.exit_code == 5
    assert "cdk deploy failed with exit code 5" in result.stderr


def test_destroy_warns_about_deletion_protection(fake_stack, monkeypatch, cli):
    seen = []
    monkeypatch.setattr(deploy, "run_cdk", lambda ctx, args: seen.append(args) or 0)
    result = cli("destroy", "--yes")
    assert result.exit_code == 0
    assert seen == [["destroy", "--force"]]
    assert "deletion_protection" in result.stderr


def test_missing_cdk_without_npm(monkeypatch, tmp_path):
    monkeypatch.setattr(deploy, "REPO_ROOT", tmp_path)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(deploy.CliError, match=r"needs Node\.js 20 or newer with npm"):
        deploy.cdk_executable()


def test_first_deploy_refuses_an_app_without_the_repository_phase(fake_cdk, tmp_path, monkeypatch, cli):
    docker = install_fake_engine(tmp_path, monkeypatch, "docker")
    monkeypatch.setattr(sys.modules[__name__], "fake_cdk_supports_repository_only", False)
    result = cli("deploy")
    assert result.exit_code == 1
    assert "does not support the repository-only first deploy" in result.stderr
    assert "AWS::ECS::Cluster" in result.stderr
    assert [c["args"][0] for c in fake_cdk] == ["synth"]  # nothing deployed
    assert [json.loads(line)["args"][0] for line in docker.read_text().splitlines()] == ["info"]
