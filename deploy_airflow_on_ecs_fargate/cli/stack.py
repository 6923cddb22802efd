"""Discover the deployed environment from its CloudFormation stack outputs (names in stack_outputs.py).

Nothing is hard-coded: cluster, services, subnets, task definition and queues all come from the
outputs of the stack ``settings.stack_name``, read with DescribeStacks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from deploy_airflow_on_ecs_fargate import stack_outputs as out
from deploy_airflow_on_ecs_fargate.cli.errors import CliError, UsageError

if TYPE_CHECKING:
    from deploy_airflow_on_ecs_fargate.cli.aws_session import AwsContext

WORKER_PREFIX = "worker-"


@dataclass(frozen=True)
class StackOutputs:
    stack_name: str
    status: str
    values: dict[str, str]

    def get(self, key: str) -> str:
        try:
            return self.values[key]
        except KeyError:
            raise CliError(
                f"stack {self.stack_name} has no output {key}: it was deployed by another version; run ./ecsflow deploy"
            ) from None

    def json_map(self, key: str) -> dict[str, str]:
        raw = self.get(key)
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            raise CliError(f"stack output {key} is not JSON: {raw[:80]!r}") from None
        if not isinstance(value, dict):
            raise CliError(f"stack output {key} should map names to values, got {raw[:80]!r}")
        return {str(k): str(v) for k, v in value.items()}

    @property
    def cluster(self) -> str:
        return self.get(out.CLUSTER_NAME)

    def services(self) -> dict[str, str]:
        """Service key (api-server, scheduler, ..., worker-<pool>) -> ECS service name."""
        services = {key: self.get(output) for key, output in out.SERVICE_OUTPUTS.items() if output in self.values}
        for pool, name in self.json_map(out.WORKER_SERVICES).items():
            services[f"{WORKER_PREFIX}{pool}"] = name
        return services

    def service(self, key: str) -> str:
        services = self.services()
        if key in services:
            return services[key]
        # Accept the real ECS service name too (what the console shows).
        if key in services.values():
            return key
        raise UsageError(f"unknown service {key!r}; the services are: {', '.join(services)}")

    def service_key(self, key_or_name: str) -> str:
        services = self.services()
        if key_or_name in services:
            return key_or_name
        for key, name in services.items():
            if name == key_or_name:
                return key
        raise UsageError(f"unknown service {key_or_name!r}; the services are: {', '.join(services)}")


def load_outputs(ctx: AwsContext) -> StackOutputs:
    from botocore.exceptions import ClientError

    stack_name = ctx.settings.stack_name
    try:
        stacks: list[dict[str, Any]] = ctx.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        message = str(error.response.get("Error", {}).get("Message", ""))
        if error.response.get("Error", {}).get("Code") == "ValidationError" and "does not exist" in message:
            raise CliError(
                f"stack {stack_name} not found in {ctx.where()}: deploy it first with ./ecsflow deploy "
                "(or check --profile/--region and `environment` in ecsflow.yaml)"
            ) from None
        raise
    stack = stacks[0]
    status = str(stack["StackStatus"])
    values = {str(o["OutputKey"]): str(o["OutputValue"]) for o in stack.get("Outputs", [])}
    if not values:
        raise CliError(f"stack {stack_name} has no outputs yet (status {status}): wait for ./ecsflow deploy to finish")
    return StackOutputs(stack_name, status, values)


def stack_exists(ctx: AwsContext) -> bool:
    """True when the stack exists (in any state except deleted)."""
    from botocore.exceptions import ClientError

    try:
        ctx.client("cloudformation").describe_stacks(StackName=ctx.settings.stack_name)
    except ClientError as error:
        if "does not exist" in str(error.response.get("Error", {}).get("Message", "")):
            return False
        raise
    return True
