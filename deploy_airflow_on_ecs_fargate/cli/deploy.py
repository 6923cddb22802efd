"""`ecsflow deploy | diff | synth | destroy`: the CDK app for the configured environment, plus the image.

The seed's steps 3-9 in one command: create the ECR repository, log in, build and push the
image (docker or podman, for the configured architecture), deploy the stack with the pinned CDK
CLI (``node_modules/.bin/cdk``, from ``package-lock.json``), then on the first deploy migrate the
metadata DB and create the admin user, and print the UI URL.

On a first deploy that builds its own image, the stack is deployed twice: first with only the
ECR repository (CDK context ``stack_outputs.REPOSITORY_ONLY_CONTEXT``), so the image exists
before any service tries to pull it, then whole.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from deploy_airflow_on_ecs_fargate.cli.aws_session import ProfileOption, RegionOption, aws_context
from deploy_airflow_on_ecs_fargate.cli.bootstrap import ensure_bootstrapped
from deploy_airflow_on_ecs_fargate.cli.errors import CliError, handle_errors
from deploy_airflow_on_ecs_fargate.cli.output import console, err_console, notice

if TYPE_CHECKING:
    from deploy_airflow_on_ecs_fargate.cli.aws_session import AwsContext

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTAINERFILE = Path("build") / "prod" / "Containerfile"
PLATFORMS = {"ARM64": "linux/arm64", "X86_64": "linux/amd64"}
CONTAINER_ENGINES = ("docker", "podman")
# What the repository-only first phase may contain (CDK adds its metadata resource).
REPOSITORY_PHASE_TYPES = {"AWS::ECR::Repository", "AWS::CDK::Metadata"}

YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (CI)")]


def cdk_executable() -> Path:
    """The pinned CDK CLI; installed with `npm ci` from the committed lock file when missing."""
    cdk = REPO_ROOT / "node_modules" / ".bin" / ("cdk.cmd" if os.name == "nt" else "cdk")
    if cdk.exists():
        return cdk
    npm = shutil.which("npm")
    if npm is None:
        raise CliError("the AWS CDK CLI needs Node.js 20 or newer with npm (https://nodejs.org); install it and retry")
    err_console.print("installing the pinned AWS CDK CLI (npm ci)")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=REPO_ROOT, check=True)
    if not cdk.exists():
        raise CliError(f"npm ci did not install {cdk}")
    return cdk


def cdk_environment(ctx: AwsContext) -> dict[str, str]:
    """The environment of the CDK CLI: same profile, region and config as this command."""
    env = dict(os.environ)
    # The CDK app reads the config; make it agree with a --region given here.
    env["ECSFLOW_AWS__REGION"] = ctx.region
    env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = ctx.region
    if ctx.profile:
        env["AWS_PROFILE"] = ctx.profile
    # cdk.json runs the app with `python`: the one of this virtualenv.
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    return env


def run_cdk(ctx: AwsContext, args: list[str]) -> int:
    command = [str(cdk_executable()), *args]
    err_console.print(f"$ cdk {' '.join(args)}", highlight=False)
    return subprocess.call(command, cwd=REPO_ROOT, env=cdk_environment(ctx))


def check_cdk(ctx: AwsContext, args: list[str]) -> None:
    code = run_cdk(ctx, args)
    if code != 0:
        raise CliError(f"cdk {args[0]} failed with exit code {code}", code)


def container_engine() -> str:
    """docker or podman, whichever answers `<engine> info` (an installed CLI without a daemon does not count)."""
    problems = []
    for name in CONTAINER_ENGINES:
        path = shutil.which(name)
        if path is None:
            problems.append(f"{name}: not installed")
            continue
        probe = subprocess.run([path, "info"], capture_output=True, text=True, check=False)
        if probe.returncode == 0:
            return path
        last_line = ((probe.stderr or probe.stdout).strip().splitlines() or ["no output"])[-1]
        problems.append(f"{name}: `{name} info` failed: {last_line}")
    raise CliError(
        "building the image needs docker or podman, and neither works ("
        + "; ".join(problems)
        + "); start one, or set aws.image_uri to an image you built elsewhere"
    )


def ecr_login(ctx: AwsContext, engine: str) -> str:
    """Log the engine in to the account's ECR registry (the seed's `aws ecr get-login-password | docker login`)."""
    data = ctx.client("ecr").get_authorization_token()["authorizationData"][0]
    username, password = base64.b64decode(data["authorizationToken"]).decode().split(":", 1)
    registry = str(data["proxyEndpoint"]).removeprefix("https://")
    subprocess.run(
        [engine, "login", "--username", username, "--password-stdin", registry],
        input=password,
        text=True,
        check=True,
        capture_output=True,
    )
    return registry


def build_and_push(ctx: AwsContext, engine: str, repository_uri: str) -> str:
    image = f"{repository_uri}:{ctx.settings.aws.image_tag}"
    ecr_login(ctx, engine)
    platform = PLATFORMS[ctx.settings.aws.architecture]
    for step in (
        [engine, "build", "-f", str(CONTAINERFILE), "--platform", platform, "-t", image, "."],
        [engine, "push", image],
    ):
        err_console.print(f"$ {Path(engine).name} {' '.join(step[1:])}", highlight=False)
        code = subprocess.call(step, cwd=REPO_ROOT)
        if code != 0:
            raise CliError(f"`{Path(engine).name} {step[1]}` failed with exit code {code}", code)
    return image


def check_repository_only(ctx: AwsContext, context: list[str]) -> None:
    """Synthesize the first phase and make sure it holds only the repository, before deploying anything.

    A CDK app that ignored the context would deploy every service with an image that does not exist
    yet, and CloudFormation would wait for them to stabilise, then roll back.
    """
    with tempfile.TemporaryDirectory(prefix="ecsflow-synth-") as directory:
        check_cdk(ctx, ["synth", "--quiet", *context, "--output", directory])
        template_file = Path(directory) / f"{ctx.settings.stack_name}.template.json"
        try:
            template = json.loads(template_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise CliError(f"cannot read the synthesized template {template_file.name}: {error}") from None
    kinds = {str(r.get("Type")) for r in template.get("Resources", {}).values()} - REPOSITORY_PHASE_TYPES
    if kinds:
        raise CliError(
            "the CDK app does not support the repository-only first deploy (its template also has "
            f"{', '.join(sorted(kinds))}); push an image yourself and set aws.image_uri, then deploy"
        )


def deploy_args(yes: bool, *extra: str) -> list[str]:
    args = ["deploy", *extra]
    if yes:
        # https://docs.aws.amazon.com/cdk/v2/guide/ref-cli-cmd-deploy.html (--require-approval)
        args += ["--require-approval", "never"]
    return args


@handle_errors
def deploy_command(
    init: Annotated[
        bool | None,
        typer.Option(
            "--init/--no-init",
            help="Run `db migrate` and create the admin user afterwards (default: only on the first deploy)",
        ),
    ] = None,
    bootstrap: Annotated[
        bool,
        typer.Option(
            "--bootstrap/--no-bootstrap",
            help="Run `cdk bootstrap` first when the account and region lack the CDK toolkit stack",
        ),
    ] = True,
    yes: YesOption = False,
    profile: ProfileOption = None,
    region: RegionOption = None,
) -> None:
    """Bootstrap CDK if needed, build and push the image, deploy the stack, initialise Airflow, print the URL."""
    from deploy_airflow_on_ecs_fargate import stack_outputs as out
    from deploy_airflow_on_ecs_fargate.cli.run_task import random_password, run_and_report, users_create_command
    from deploy_airflow_on_ecs_fargate.cli.stack import stack_exists

    ctx = aws_context(profile, region)
    aws = ctx.settings.aws
    first = not stack_exists(ctx)
    builds_image = aws.build_image and not aws.image_uri
    # Before creating anything (the toolkit stack included): no engine, no half-done first deploy.
    engine = container_engine() if builds_image else ""
    if bootstrap:
        ensure_bootstrapped(ctx)  # every cdk deploy below needs the toolkit stack
    if builds_image:
        if first:
            err_console.print("first deploy: creating the ECR repository before building the image")
            context = ["--context", f"{out.REPOSITORY_ONLY_CONTEXT}=true"]
            check_repository_only(ctx, context)
            check_cdk(ctx, deploy_args(yes, *context))
            ctx.forget_outputs()  # re-read: the repository output exists now
        build_and_push(ctx, engine, ctx.outputs.get(out.ECR_REPOSITORY_URI))
    elif not aws.image_uri:
        notice("aws.build_image is false: the stack uses the image already in its ECR repository")
    check_cdk(ctx, deploy_args(yes))
    ctx.forget_outputs()
    if init if init is not None else first:
        err_console.print("initialising Airflow: db migrate, then the admin user")
        code = run_and_report(ctx, ["db", "migrate"])
        if code != 0:
            raise CliError(f"db migrate failed with exit code {code}; rerun with ./ecsflow db migrate", code)
        name = ctx.settings.airflow.admin_username
        password = random_password()
        command = users_create_command(name, ctx.settings.airflow.admin_email, "Admin", name, "Admin", password)
        code = run_and_report(ctx, command)
        if code != 0:
            raise CliError(
                f"creating the admin user failed (exit code {code}); see ./ecsflow users create --help", code
            )
        err_console.print(
            f"admin user [bold]{name}[/bold], password [bold]{password}[/bold] (shown once)", soft_wrap=True
        )
    console.print(f"Airflow UI: {ctx.outputs.get(out.UI_URL)}", highlight=False, soft_wrap=True)


@handle_errors
def diff_command(profile: ProfileOption = None, region: RegionOption = None) -> None:
    """Show what `deploy` would change (cdk diff)."""
    ctx = aws_context(profile, region)
    raise typer.Exit(run_cdk(ctx, ["diff"]))


@handle_errors
def synth_command(profile: ProfileOption = None, region: RegionOption = None) -> None:
    """Synthesize the CloudFormation template into cdk.out (no AWS account needed)."""
    ctx = aws_context(profile, region)
    raise typer.Exit(run_cdk(ctx, ["synth", "--quiet"]))


@handle_errors
def destroy_command(yes: YesOption = False, profile: ProfileOption = None, region: RegionOption = None) -> None:
    """Delete the stack (cdk destroy). The ECR repository and, with deletion protection, the database stay."""
    ctx = aws_context(profile, region)
    if ctx.settings.database.deletion_protection:
        notice("database.deletion_protection is true: set it to false and deploy before destroy can delete RDS")
    raise typer.Exit(run_cdk(ctx, ["destroy", *(["--force"] if yes else [])]))
