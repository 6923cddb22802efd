"""`ecsflow bootstrap`, and the bootstrap check `ecsflow deploy` runs first: the CDK toolkit stack.

The synthesized template (182 KB as cdk.out writes it, 118 KB minified) is larger than the
51,200 bytes CloudFormation accepts inline, so `cdk deploy` uploads it to the bootstrap bucket;
the default stack synthesizer also deploys through the bootstrap roles. Both come from the CDK
bootstrap stack (``CDKToolkit``), which must exist once per account and region:
https://docs.aws.amazon.com/cdk/v2/guide/bootstrapping-env.html and
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html

The stack name is CDK's default unless cdk.json sets ``toolkitStackName`` (the CDK CLI reads that
setting too; a custom ``@aws-cdk/core:bootstrapQualifier`` context is read by the CLI itself).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from deploy_airflow_on_ecs_fargate.cli.aws_session import ProfileOption, RegionOption, aws_context
from deploy_airflow_on_ecs_fargate.cli.errors import CliError, handle_errors
from deploy_airflow_on_ecs_fargate.cli.output import err_console

if TYPE_CHECKING:
    from deploy_airflow_on_ecs_fargate.cli.aws_session import AwsContext

# The CDK CLI's own default for --toolkit-stack-name.
DEFAULT_TOOLKIT_STACK = "CDKToolkit"
# States of a toolkit stack that cannot serve a deploy; `cdk bootstrap` replaces or finishes them.
# https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_Stack.html (StackStatus)
UNUSABLE_STATUSES = {"CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_COMPLETE", "REVIEW_IN_PROGRESS"}


def toolkit_stack_name() -> str:
    """``toolkitStackName`` from cdk.json when the project sets one, else CDK's default."""
    from deploy_airflow_on_ecs_fargate.cli.deploy import REPO_ROOT

    cdk_json = REPO_ROOT / "cdk.json"
    try:
        settings = json.loads(cdk_json.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise CliError(f"cannot read {cdk_json.name}: {error}") from None
    name = settings.get("toolkitStackName") if isinstance(settings, dict) else None
    return str(name) if name else DEFAULT_TOOLKIT_STACK


def is_bootstrapped(ctx: AwsContext, stack_name: str) -> bool:
    """True when the toolkit stack exists in a usable state (DescribeStacks)."""
    from botocore.exceptions import ClientError

    try:
        stacks = ctx.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error.response.get("Error", {}).get("Message", "")):
            return False
        raise
    return bool(stacks) and stacks[0]["StackStatus"] not in UNUSABLE_STATUSES


def environment_uri(ctx: AwsContext) -> str:
    """aws://<account>/<region>: the account of the caller's credentials (STS GetCallerIdentity)."""
    account = ctx.client("sts").get_caller_identity()["Account"]
    return f"aws://{account}/{ctx.region}"


def run_bootstrap(ctx: AwsContext, stack_name: str) -> None:
    """`cdk bootstrap aws://<account>/<region>` with the same CDK CLI and environment as the deploy."""
    from deploy_airflow_on_ecs_fargate.cli import deploy

    target = environment_uri(ctx)
    err_console.print(
        f"bootstrapping CDK in {target} (stack {stack_name}); needed once per account and region",
        soft_wrap=True,
    )
    code = deploy.run_cdk(ctx, ["bootstrap", target])
    if code != 0:
        raise CliError(
            f"cdk bootstrap of {target} failed with exit code {code} (its output is above); it creates "
            "IAM roles and an S3 bucket: without those rights, ask an administrator to run ./ecsflow bootstrap",
            code,
        )


def ensure_bootstrapped(ctx: AwsContext) -> None:
    """Bootstrap the account and region when the toolkit stack is missing (the first deploy there)."""
    stack_name = toolkit_stack_name()
    if not is_bootstrapped(ctx, stack_name):
        err_console.print(f"the CDK toolkit stack {stack_name} is missing or unusable in {ctx.where()}", soft_wrap=True)
        run_bootstrap(ctx, stack_name)


@handle_errors
def bootstrap_command(profile: ProfileOption = None, region: RegionOption = None) -> None:
    """Create or update the CDK bootstrap stack (CDKToolkit) in the account and region (cdk bootstrap)."""
    ctx = aws_context(profile, region)
    # Always run it: `cdk bootstrap` is idempotent and upgrades an old bootstrap version.
    run_bootstrap(ctx, toolkit_stack_name())
