"""cdk-nag (AwsSolutions) findings accepted on purpose, each with its written reason.

Findings specific to one resource are acknowledged next to it (e.g. RDS Multi-AZ in
metadata_db.py) through :func:`acknowledge`; those in :data:`STACK_ACKNOWLEDGMENTS` come from
patterns every task definition or role shares. cdk-nag 3 runs as a CDK Validations plugin: an
unacknowledged finding fails the synthesis.
https://github.com/cdklabs/cdk-nag#acknowledging-a-rule
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnElement, Stack, Validations
from constructs import IConstruct

from deploy_airflow_on_ecs_fargate.config import Settings

STACK_ACKNOWLEDGMENTS = {
    "AwsSolutions-ECS2": "Containers get Airflow's non-secret settings as environment variables "
    "(the same as locally); every secret is injected with ECS secrets from Secrets Manager.",
    # Action wildcards of CDK's S3 grant methods; their resources are the log bucket and its prefixes.
    **{
        f"AwsSolutions-IAM5[Action::s3:{action}]": "Actions of CDK's S3 grants (read, put, Firehose delivery), "
        "limited to the log bucket and its prefixes."
        for action in ("GetObject*", "GetBucket*", "List*", "Abort*", "DeleteObject*")
    },
    "AwsSolutions-IAM5[Resource::*]": "Only actions without resource-level permissions: ecr:GetAuthorizationToken "
    "(execution roles), ssmmessages:* (ECS exec), application-autoscaling:Describe*, and cloudwatch:PutMetricData "
    "restricted by a cloudwatch:namespace condition.",
}


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """Accept one cdk-nag finding (``rule``, e.g. ``AwsSolutions-RDS3``) on ``construct`` and below."""
    Validations.of(construct).acknowledge(Acknowledgment(id=rule, reason=reason))


def _ref(stack: Stack, resource: IConstruct) -> str:
    """How cdk-nag names a resource inside a finding ID: its logical ID."""
    default_child = resource.node.default_child
    if not isinstance(default_child, CfnElement):
        raise TypeError(f"{resource.node.path} has no CloudFormation resource")
    return str(stack.resolve(stack.get_logical_id(default_child)))


def acknowledge_stack_findings(
    stack: Stack,
    settings: Settings,
    *,
    log_bucket: IConstruct,
    exec_log_group: IConstruct,
    cluster: IConstruct,
    task_logs_prefix: str,
) -> None:
    for rule, reason in STACK_ACKNOWLEDGMENTS.items():
        acknowledge(stack, rule, reason)
    bucket = _ref(stack, log_bucket)
    # CDK writes the stack's own region (and account, when configured) literally into the ARNs it builds.
    region = settings.aws.region
    account = settings.aws.account or "<AWS::AccountId>"
    wildcards = {
        f"<{bucket}.Arn>/*": "Firehose writes log files under keys it generates in the log bucket.",
        f"<{bucket}.Arn>/{task_logs_prefix}/*": "Airflow reads and writes task logs under the task-log prefix.",
        f"arn:<AWS::Partition>:logs:{region}:{account}:log-group:<{_ref(stack, exec_log_group)}>:*": (
            "ECS exec writes session logs to streams of the cluster's exec log group."
        ),
        f"arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task/<{_ref(stack, cluster)}>/*": (
            "A worker's task ID is only known at run time; scale-in protection is limited to this cluster's tasks."
        ),
    }
    prefix = settings.airflow.secrets_prefix
    for kind in ("connections", "variables", "config"):
        wildcards[f"arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:{prefix}/{kind}/*"] = (
            f"SecretsManagerBackend reads Airflow {kind} by name under its prefix."
        )
    for resource, reason in wildcards.items():
        acknowledge(stack, f"AwsSolutions-IAM5[Resource::{resource}]", reason)
    if not settings.aws.container_insights:
        acknowledge(
            stack,
            "AwsSolutions-ECS4",
            "Container Insights is off by config (aws.container_insights): it bills per metric; "
            "the dashboard uses the free AWS/ECS service metrics and the autoscaler's own metrics.",
        )
