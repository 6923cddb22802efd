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
from deploy_airflow_on_ecs_fargate.cli import bootstrap, deploy

from .conftest import REGION, STACK, create_stack

fake_cdk_supports_repository_only = True
ACCOUNT = "123456789012"  # moto's account for the fake credentials
TOOLKIT_STACK = "CDKToolkit"


@pytest.fixture
def bootstrapped() -> bool:
    """Whether the account/region starts with the CDK toolkit stack (override per test)."""
    return True


@pytest.fixture
def fake_cdk(fake_stack, monkeypatch, bootstrapped):
    """Record CDK calls; on deploy, (re)create the stack in moto as CDK would; bootstrap creates the toolkit stack."""
    full_outputs = dict(fake_stack.outputs)
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    cloudformation.delete_stack(StackName=STACK)  # start from "never deployed"
    if bootstrapped:
        create_stack({"BootstrapVersion": "28"}, TOOLKIT_STACK)
    calls: list[dict] = []

    def run_cdk(ctx, args):
        calls.append({"args": args, "env": deploy.cdk_environment(ctx)})
        if args[0] == "bootstrap" and not toolkit_exists(bootstrap.toolkit_stack_name()):
            create_stack({"BootstrapVersion": "28"}, bootstrap.toolkit_stack_name())
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
    create_stack({}, TOOLKIT_STACK)  # bootstrapped: the failure is the deploy's
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


def toolkit_exists(name: str = TOOLKIT_STACK) -> bool:
    stacks = boto3.client("cloudformation", region_name=REGION).list_stacks()["StackSummaries"]
    return any(s["StackName"] == name and s["StackStatus"] != "DELETE_COMPLETE" for s in stacks)


@pytest.mark.parametrize("bootstrapped", [False])
def test_first_deploy_bootstraps_a_new_account_first(fake_cdk, task_script, tmp_path, monkeypatch, cli):
    install_fake_engine(tmp_path, monkeypatch, "docker")
    assert not toolkit_exists()
    result = cli("deploy", "--yes", "--no-init")
    assert result.exit_code == 0, result.stderr
    # Bootstrap (account from STS, region from the config) before anything is synthesized or deployed.
    assert fake_cdk[0]["args"] == ["bootstrap", f"aws://{ACCOUNT}/{REGION}"]
    assert fake_cdk[0]["env"]["AWS_REGION"] == REGION  # the same CDK CLI environment as the deploy
    assert [c["args"][0] for c in fake_cdk[1:]] == ["synth", "deploy", "deploy"]
    assert f"bootstrapping CDK in aws://{ACCOUNT}/{REGION} (stack CDKToolkit)" in result.stderr
    assert toolkit_exists()
    # The next deploy finds the toolkit stack and does not bootstrap again.
    fake_cdk.clear()
    assert cli("deploy", "--no-init").exit_code == 0
    assert [c["args"] for c in fake_cdk] == [["deploy"]]


def test_bootstrapped_account_is_not_bootstrapped_again(fake_cdk, monkeypatch, cli):
    monkeypatch.setenv("ECSFLOW_AWS__IMAGE_URI", "public.example/airflow:3.3.2")
    result = cli("deploy", "--no-init")
    assert result.exit_code == 0, result.stderr
    assert [c["args"] for c in fake_cdk] == [["deploy"]]
    assert "bootstrapping" not in result.stderr


@pytest.mark.parametrize("bootstrapped", [False])
def test_no_bootstrap_skips_the_check(fake_cdk, monkeypatch, cli):
    monkeypatch.setenv("ECSFLOW_AWS__IMAGE_URI", "public.example/airflow:3.3.2")
    result = cli("deploy", "--no-init", "--no-bootstrap")
    assert result.exit_code == 0, result.stderr
    assert [c["args"] for c in fake_cdk] == [["deploy"]]
    assert not toolkit_exists()


def test_failed_bootstrap_is_one_line_and_deploys_nothing(fake_stack, monkeypatch, cli):
    seen = []
    monkeypatch.setattr(deploy, "run_cdk", lambda ctx, args: seen.append(args) or 3)
    monkeypatch.setenv("ECSFLOW_AWS__IMAGE_URI", "public.example/airflow:3.3.2")
    result = cli("deploy", "--no-init")
    assert result.exit_code == 3
    assert seen == [["bootstrap", f"aws://{ACCOUNT}/{REGION}"]]  # no deploy after a failed bootstrap
    errors = [line for line in result.stderr.splitlines() if line.startswith("ecsflow:")]
    assert errors == [
        f"ecsflow: cdk bootstrap of aws://{ACCOUNT}/{REGION} failed with exit code 3 (its output is above); "
        "it creates IAM roles and an S3 bucket: without those rights, ask an administrator to run "
        "./ecsflow bootstrap"
    ]
    assert "Traceback" not in result.stderr


def test_bootstrap_command_always_runs_cdk_bootstrap(fake_cdk, cli):
    # Already bootstrapped: `cdk bootstrap` still runs (it is idempotent and upgrades old versions).
    result = cli("bootstrap", "--region", "us-west-2")
    assert result.exit_code == 0, result.stderr
    assert [c["args"] for c in fake_cdk] == [["bootstrap", f"aws://{ACCOUNT}/us-west-2"]]
    assert f"bootstrapping CDK in aws://{ACCOUNT}/us-west-2" in result.stderr


def test_bootstrap_command_failure_is_its_exit_code(fake_stack, monkeypatch, cli):
    monkeypatch.setattr(deploy, "run_cdk", lambda ctx, args: 1)
    result = cli("bootstrap")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1].startswith(f"ecsflow: cdk bootstrap of aws://{ACCOUNT}/{REGION} failed")


def test_custom_toolkit_stack_name_from_cdk_json(fake_cdk, tmp_path, monkeypatch, cli):
    # cdk.json's toolkitStackName is the name the CDK CLI uses, so the check looks for that stack.
    (tmp_path / "cdk.json").write_text(json.dumps({"app": "python -m infrastructure.app", "toolkitStackName": "Ours"}))
    monkeypatch.setattr(deploy, "REPO_ROOT", tmp_path)
    monkeypatch.setenv("ECSFLOW_AWS__IMAGE_URI", "public.example/airflow:3.3.2")
    result = cli("deploy", "--no-init")  # CDKToolkit exists, Ours does not
    assert result.exit_code == 0, result.stderr
    assert fake_cdk[0]["args"] == ["bootstrap", f"aws://{ACCOUNT}/{REGION}"]
    assert "(stack Ours)" in result.stderr
    assert toolkit_exists("Ours")
    fake_cdk.clear()
    assert cli("deploy", "--no-init").exit_code == 0
    assert [c["args"] for c in fake_cdk] == [["deploy"]]


def test_unreadable_cdk_json_is_one_line(fake_stack, tmp_path, monkeypatch, cli):
    (tmp_path / "cdk.json").write_text("{not json")
    monkeypatch.setattr(deploy, "REPO_ROOT", tmp_path)
    monkeypatch.setenv("ECSFLOW_AWS__IMAGE_URI", "public.example/airflow:3.3.2")
    result = cli("deploy")
    assert result.exit_code == 1
    assert result.stderr.startswith("ecsflow: cannot read cdk.json: ")
