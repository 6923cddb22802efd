"""CloudWatch log groups of the stack: one per component, named predictably, with the configured retention.

Names are fixed (``/ecsflow/<environment>/<component>``) so the CLI and people find them; the
retention comes from ``aws.log_retention_days`` (a group without one keeps logs, and bills them, forever).
"""

from __future__ import annotations

from typing import cast

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Construct

from deploy_airflow_on_ecs_fargate.config import Settings


def log_group_name(settings: Settings, component: str) -> str:
    return f"/ecsflow/{settings.environment}/{component}"


def retained_log_group(scope: Construct, construct_id: str, *, name: str, days: int) -> logs.LogGroup:
    """A log group with an exact retention in days (CDK's enum only names the values, the config holds numbers)."""
    group = logs.LogGroup(scope, construct_id, log_group_name=name, removal_policy=RemovalPolicy.DESTROY)
    cast(logs.CfnLogGroup, group.node.default_child).retention_in_days = days
    return group


def component_log_group(scope: Construct, construct_id: str, settings: Settings, component: str) -> logs.LogGroup:
    return retained_log_group(
        scope, construct_id, name=log_group_name(settings, component), days=settings.aws.log_retention_days
    )
