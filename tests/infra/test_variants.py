"""Every option the example leaves off, switched on at once (one more synthesis), plus the repository-only stack."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from deploy_airflow_on_ecs_fargate import stack_outputs
from deploy_airflow_on_ecs_fargate.config import Settings
from infrastructure.synth import build_app
from tests.infra.test_stack import container, environment, policy_statements, services, task_definitions

if TYPE_CHECKING:
    from tests.infra.conftest import Synthesized


def test_https_with_redirect_and_certificate(variant: Synthesized) -> None:
    listeners = {
        r["Properties"]["Port"]: r["Properties"]
        for r in variant.resources("AWS::ElasticLoadBalancingV2::Listener").values()
    }
    assert set(listeners) == {80, 443}
    assert listeners[443]["Protocol"] == "HTTPS"
    assert listeners[443]["Certificates"] == [{"CertificateArn": variant.settings.aws.certificate_arn}]
    assert listeners[443]["SslPolicy"].startswith("ELBSecurityPolicy-TLS13")
    assert listeners[80]["DefaultActions"][0]["Type"] == "redirect"
    assert listeners[80]["DefaultActions"][0]["RedirectConfig"]["Protocol"] == "HTTPS"


def test_public_url_uses_the_domain_name(variant: Synthesized) -> None:
    assert variant.template["Outputs"][stack_outputs.UI_URL]["Value"] == "https://airflow.example.com"
    env = environment(container(variant, "data-team-api-server"))
    assert env["AIRFLOW__API__BASE_URL"] == "https://airflow.example.com"


def test_allowed_cidrs_are_the_only_ingress(variant: Synthesized) -> None:
    groups = variant.resources("AWS::EC2::SecurityGroup")
    (alb_group,) = [g for key, g in groups.items() if key.startswith("NetworkLoadBalancerSg")]
    ingress = alb_group["Properties"]["SecurityGroupIngress"]
    pairs = {(rule.get("CidrIp") or rule.get("CidrIpv6"), rule["FromPort"]) for rule in ingress}
    assert pairs == {(cidr, port) for cidr in ("203.0.113.0/24", "2001:db8::/32") for port in (80, 443)}


def test_nat_moves_tasks_to_private_subnets(variant: Synthesized) -> None:
    variant.assertions.resource_count_is("AWS::EC2::NatGateway", 1)
    for service in services(variant).values():
        assert service["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"
    assert variant.template["Outputs"][stack_outputs.STANDALONE_ASSIGN_PUBLIC_IP]["Value"] == "DISABLED"


def test_x86_is_selectable(variant: Synthesized) -> None:
    for properties in task_definitions(variant).values():
        assert properties["RuntimePlatform"]["CpuArchitecture"] == "X86_64"


def test_image_uri_replaces_the_repository(variant: Synthesized) -> None:
    variant.assertions.resource_count_is("AWS::ECR::Repository", 0)
    assert stack_outputs.ECR_REPOSITORY_URI not in variant.template["Outputs"]
    assert variant.template["Outputs"][stack_outputs.IMAGE_URI]["Value"] == variant.settings.aws.image_uri
    assert container(variant, "data-team-scheduler")["Image"] == variant.settings.aws.image_uri
    # The image lives in a private ECR repository outside the stack: every execution role may pull it.
    repository = {
        "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":ecr:eu-west-1:123456789012:repository/airflow"]]
    }
    execution_roles = {
        properties["ExecutionRoleArn"]["Fn::GetAtt"][0] for properties in task_definitions(variant).values()
    }
    assert len(execution_roles) == len(task_definitions(variant))
    for role in execution_roles:
        statements = policy_statements(variant, role)
        pulls = [s for s in statements if s["Resource"] == repository]
        assert pulls and "ecr:BatchGetImage" in pulls[0]["Action"], role
        assert any(s["Action"] == "ecr:GetAuthorizationToken" for s in statements), role


def test_one_queue_service_and_target_per_pool(variant: Synthesized) -> None:
    found = services(variant)
    heavy = found["data-team-worker-heavy"]
    assert heavy["CapacityProviderStrategy"] == [{"CapacityProvider": "FARGATE", "Weight": 1}]
    assert heavy["DesiredCount"] == 0
    definition = task_definitions(variant)["data-team-worker-heavy"]
    assert (definition["Cpu"], definition["Memory"]) == ("4096", "16384")
    assert container(variant, "data-team-worker-heavy")["Command"] == ["celery", "worker", "--queues", "heavy"]
    queues = {q["Properties"]["QueueName"]: q["Properties"] for q in variant.resources("AWS::SQS::Queue").values()}
    assert set(queues) == {"data-team-default", "data-team-heavy"}
    assert {q["VisibilityTimeout"] for q in queues.values()} == {7200}
    variant.assertions.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget", {"MinCapacity": 1, "MaxCapacity": 3}
    )
    # The heavy pool's workers consume only their own queue.
    statements = policy_statements(variant, "WorkerheavyTaskDefinitionTaskRole")
    receive = [s for s in statements if "sqs:ReceiveMessage" in json.dumps(s["Action"])]
    assert len(receive) == 1 and "Brokerheavy" in json.dumps(receive[0]["Resource"]).replace("Queue", "")


def test_autoscaler_scales_every_pool_and_only_workers(variant: Synthesized) -> None:
    pools = json.loads(environment(container(variant, "data-team-scheduler", "autoscaler"))["ECSFLOW_AUTOSCALER_POOLS"])
    assert set(pools) == {"default", "heavy"}
    assert pools["heavy"] == {
        "service": "data-team-worker-heavy",
        "cluster": "data-team",
        "concurrency": 2,
        "min": 1,
        "max": 3,
    }
    statements = policy_statements(variant, "SchedulerTaskDefinitionTaskRole")
    (scale,) = [s for s in statements if "ecs:UpdateService" in json.dumps(s["Action"])]
    refs = sorted(r["Ref"] for r in scale["Resource"])
    assert len(refs) == 2 and all(ref.startswith("Worker") for ref in refs)


def schedules(stack: Synthesized) -> list[dict[str, Any]]:
    return [
        action
        for target in stack.resources("AWS::ApplicationAutoScaling::ScalableTarget").values()
        for action in target["Properties"].get("ScheduledActions", [])
    ]


def test_scheduled_scaling_takes_everything_to_zero_and_back(variant: Synthesized) -> None:
    actions = schedules(variant)
    config = variant.settings.scheduled_scaling
    # 4 control-plane services + 2 pools, a down and an up action each.
    assert len(actions) == 12
    assert {a["Timezone"] for a in actions} == {"Europe/Lisbon"}
    down = [a for a in actions if a["Schedule"] == config.scale_down_cron]
    up = [a for a in actions if a["Schedule"] == config.scale_up_cron]
    assert len(down) == len(up) == 6
    assert all(a["ScalableTargetAction"] == {"MinCapacity": 0, "MaxCapacity": 0} for a in down)
    assert {"MinCapacity": 1, "MaxCapacity": 3} in [a["ScalableTargetAction"] for a in up]


def test_services_log_to_firehose_and_standalone_to_cloudwatch(variant: Synthesized) -> None:
    scheduler = container(variant, "data-team-scheduler")
    assert scheduler["LogConfiguration"]["LogDriver"] == "awsfirelens"
    assert container(variant, "data-team-scheduler", "log-router")["FirelensConfiguration"]["Type"] == "fluentbit"
    standalone = container(variant, "data-team-standalone")
    assert standalone["LogConfiguration"]["LogDriver"] == "awslogs"
    assert "log-router" not in {
        c["Name"] for c in task_definitions(variant)["data-team-standalone"]["ContainerDefinitions"]
    }


def test_alarm_email_subscribes_to_an_sns_topic(variant: Synthesized) -> None:
    variant.assertions.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.com"}
    )
    for alarm in variant.resources("AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"]["AlarmActions"]
    # Scheduled scale-down stops the scheduler: its missing heartbeat is then expected.
    variant.assertions.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"AlarmName": "data-team-scheduler-down", "TreatMissingData": "notBreaching"}
    )


def test_database_options(variant: Synthesized) -> None:
    properties = variant.only("AWS::RDS::DBInstance")["Properties"]
    assert properties["MultiAZ"] is True
    assert properties["DeletionProtection"] is False
    assert properties["BackupRetentionPeriod"] == 14


def test_container_insights_and_retention(variant: Synthesized) -> None:
    cluster = variant.only("AWS::ECS::Cluster")["Properties"]
    assert cluster["ClusterSettings"] == [{"Name": "containerInsights", "Value": "enabled"}]
    assert {g["Properties"]["RetentionInDays"] for g in variant.resources("AWS::Logs::LogGroup").values()} == {90}
    variant.assertions.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer", {"Name": "data-team-ui", "Scheme": "internet-facing"}
    )


@pytest.fixture(scope="module")
def repository_only(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    outdir = tmp_path_factory.mktemp("repository-only")
    app, stack = build_app(Settings(), outdir=str(outdir), context={stack_outputs.REPOSITORY_ONLY_CONTEXT: "true"})
    template: dict[str, Any] = app.synth().get_stack_by_name(stack.stack_name).template
    return template


def test_repository_only_stack_for_the_first_image_push(repository_only: dict[str, Any], example: Synthesized) -> None:
    types = {r["Type"] for r in repository_only["Resources"].values()}
    assert types == {"AWS::ECR::Repository"}
    assert set(repository_only["Outputs"]) == {stack_outputs.ECR_REPOSITORY_URI}
    # Same logical ID as in the full stack, so the next deploy keeps the repository and its images.
    assert set(repository_only["Resources"]) == set(example.resources("AWS::ECR::Repository"))


def test_repository_only_refuses_an_external_image() -> None:
    settings = Settings(aws={"image_uri": "example.com/airflow:1"})  # type: ignore[arg-type]
    with pytest.raises(Exception, match="image_uri"):
        build_app(settings, context={stack_outputs.REPOSITORY_ONLY_CONTEXT: "true"})
