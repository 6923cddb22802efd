"""Property: any valid configuration synthesizes a stack that passes cdk-nag, with AWS's name limits kept.

After the session's first synthesis, one takes well under a second, so hypothesis can try a
handful of random (valid) configurations: environment and pool names at their length limits,
several pools, HTTPS or not, NAT or not, either architecture.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deploy_airflow_on_ecs_fargate.config import Settings
from infrastructure.synth import build_app

if TYPE_CHECKING:
    from tests.infra.conftest import Synthesized

NAMES = st.from_regex(r"[a-z][a-z0-9-]{1,30}[a-z0-9]", fullmatch=True).filter(lambda name: "--" not in name)

# AWS name limits of the resources the stack names explicitly.
# https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html (32)
# https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html (63)
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html (80)
# https://docs.aws.amazon.com/firehose/latest/APIReference/API_CreateDeliveryStream.html (64)
LIMITS = {
    ("AWS::ElasticLoadBalancingV2::LoadBalancer", "Name"): 32,
    ("AWS::RDS::DBInstance", "DBInstanceIdentifier"): 63,
    ("AWS::SQS::Queue", "QueueName"): 80,
    ("AWS::KinesisFirehose::DeliveryStream", "DeliveryStreamName"): 64,
    ("AWS::ECS::Service", "ServiceName"): 255,
    ("AWS::ECS::TaskDefinition", "Family"): 255,
    ("AWS::CloudWatch::Alarm", "AlarmName"): 255,
}


@st.composite
def configurations(draw: st.DrawFn) -> dict[str, Any]:
    pools = draw(st.lists(NAMES, min_size=1, max_size=3, unique=True))
    data: dict[str, Any] = {
        "environment": draw(NAMES),
        "worker_pools": [{"name": name, "max_workers": draw(st.integers(1, 100))} for name in pools],
        "aws": {
            "architecture": draw(st.sampled_from(["ARM64", "X86_64"])),
            "nat_gateways": draw(st.integers(0, 2)),
            "services_to_firehose": draw(st.booleans()),
        },
        "scheduled_scaling": {"enabled": draw(st.booleans())},
    }
    if draw(st.booleans()):
        data["aws"]["certificate_arn"] = "arn:aws:acm:us-east-1:123456789012:certificate/x"
    return data


@given(data=configurations())
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_valid_configuration_synthesizes(example: Synthesized, data: dict[str, Any]) -> None:
    del example  # only to pay the first (slow) synthesis outside hypothesis' timing
    config = Settings(**data)
    app, stack = build_app(config)  # cdk-nag runs: synthesis raises on an unacknowledged finding
    template = app.synth().get_stack_by_name(stack.stack_name).template
    resources = template["Resources"].values()
    for (resource_type, prop), limit in LIMITS.items():
        for resource in resources:
            if resource["Type"] == resource_type and isinstance(resource["Properties"].get(prop), str):
                assert len(resource["Properties"][prop]) <= limit, (resource_type, resource["Properties"][prop])
    services = [r for r in resources if r["Type"] == "AWS::ECS::Service"]
    assert len(services) == 4 + len(config.worker_pools)
    queues = [r for r in resources if r["Type"] == "AWS::SQS::Queue"]
    assert len(queues) == len(config.worker_pools)
