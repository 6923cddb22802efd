"""The example config's stack, requirement by requirement (issue 3), on the template synthesized once."""

from __future__ import annotations

import json
import re
import string
from typing import TYPE_CHECKING, Any

import pytest
from aws_cdk.assertions import Match

from deploy_airflow_on_ecs_fargate import ecs_secrets, stack_outputs
from deploy_airflow_on_ecs_fargate.airflow_settings import (
    AUTOSCALER_POOLS_VAR,
    DATABASE_URL_VAR,
    HEALTH_PATH,
    SECRET_VARIABLES,
)

if TYPE_CHECKING:
    from tests.infra.conftest import Synthesized

CONTROL_PLANE = ("api-server", "scheduler", "dag-processor", "triggerer")


def task_definitions(stack: Synthesized) -> dict[str, dict[str, Any]]:
    """Family -> task definition properties."""
    return {r["Properties"]["Family"]: r["Properties"] for r in stack.resources("AWS::ECS::TaskDefinition").values()}


def container(stack: Synthesized, family: str, name: str = "airflow") -> dict[str, Any]:
    for definition in task_definitions(stack)[family]["ContainerDefinitions"]:
        if definition["Name"] == name:
            return definition
    raise AssertionError(f"no container {name} in {family}")


def environment(definition: dict[str, Any]) -> dict[str, Any]:
    return {item["Name"]: item["Value"] for item in definition.get("Environment", [])}


def services(stack: Synthesized) -> dict[str, dict[str, Any]]:
    return {r["Properties"]["ServiceName"]: r["Properties"] for r in stack.resources("AWS::ECS::Service").values()}


def airflow_containers(stack: Synthesized) -> list[dict[str, Any]]:
    return [
        definition
        for properties in task_definitions(stack).values()
        for definition in properties["ContainerDefinitions"]
        if definition["Name"] in ("airflow", "autoscaler")
    ]


# --- no Lambda, no secret in the template -------------------------------------------------------


def test_no_lambda_backed_custom_resources(example: Synthesized) -> None:
    types = {resource["Type"] for resource in example.template["Resources"].values()}
    assert not {t for t in types if t.startswith("Custom::") or t.startswith("AWS::Lambda::")}
    assert "AWS::CloudFormation::CustomResource" not in types


def test_every_secret_setting_is_injected_never_a_literal(example: Synthesized) -> None:
    for definition in airflow_containers(example):
        env = environment(definition)
        injected = {item["Name"] for item in definition["Secrets"]}
        for variable in SECRET_VARIABLES:
            assert variable not in env, f"{variable} is a plain environment value in {definition['Name']}"
            # Either injected verbatim, or composed in the container from injected fields (*_CMD).
            assert variable in injected or f"{variable}_CMD" in env, variable
        assert {ecs_secrets.DB_USERNAME_VAR, ecs_secrets.DB_PASSWORD_VAR, ecs_secrets.FERNET_KEY_BODY_VAR} <= injected
        for item in definition["Secrets"]:
            # valueFrom is a reference to a secret ARN, never a value.
            assert isinstance(item["ValueFrom"], dict), item


def test_secret_values_are_generated_by_secrets_manager(example: Synthesized) -> None:
    secrets = list(example.resources("AWS::SecretsManager::Secret").values())
    assert len(secrets) == 4  # Fernet key, JWT secret, API secret key, RDS credentials
    for secret in secrets:
        assert "SecretString" not in secret["Properties"]
        assert "GenerateSecretString" in secret["Properties"]
    assert "SecretString" not in set(all_keys(example.template))


def all_keys(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [*node, *(key for value in node.values() for key in all_keys(value))]
    if isinstance(node, list):
        return [key for value in node for key in all_keys(value)]
    return []


def test_fernet_key_body_is_43_base64url_characters(example: Synthesized) -> None:
    (fernet,) = [
        s["Properties"]["GenerateSecretString"]
        for s in example.resources("AWS::SecretsManager::Secret").values()
        if s["Properties"].get("Name", "").endswith("/fernet-key")
    ]
    assert fernet["PasswordLength"] == 43
    printable = set(string.ascii_letters + string.digits + string.punctuation)
    possible = printable - set(fernet["ExcludeCharacters"])
    assert possible == set(string.ascii_letters + string.digits + "-_")
    assert fernet.get("IncludeSpace") is False


def test_jwt_secret_is_at_least_64_characters(example: Synthesized) -> None:
    (jwt,) = [
        s["Properties"]["GenerateSecretString"]
        for s in example.resources("AWS::SecretsManager::Secret").values()
        if s["Properties"].get("Name", "").endswith("/jwt-secret")
    ]
    assert jwt["PasswordLength"] >= 64


# --- network --------------------------------------------------------------------------------------


def test_vpc_without_nat_tasks_in_public_subnets_db_isolated(example: Synthesized) -> None:
    example.assertions.resource_count_is("AWS::EC2::NatGateway", 0)
    example.assertions.resource_count_is("AWS::EC2::Subnet", 4)  # 2 AZs x (public, isolated)
    for service in services(example).values():
        assert service["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "ENABLED"
    db_subnets = example.only("AWS::RDS::DBSubnetGroup")["Properties"]["SubnetIds"]
    isolated = {
        key
        for key, r in example.resources("AWS::EC2::Subnet").items()
        if {"Key": "aws-cdk:subnet-type", "Value": "Isolated"} in r["Properties"]["Tags"]
    }
    assert {ref["Ref"] for ref in db_subnets} == isolated
    # S3 (image layers, task logs) goes through the free gateway endpoint.
    endpoint = example.only("AWS::EC2::VPCEndpoint")["Properties"]
    assert endpoint["VpcEndpointType"] == "Gateway"


# --- ECR, cluster -------------------------------------------------------------------------------


def test_ecr_repository_scans_on_push_with_lifecycle(example: Synthesized) -> None:
    example.assertions.has_resource_properties(
        "AWS::ECR::Repository",
        {"ImageScanningConfiguration": {"ScanOnPush": True}, "LifecyclePolicy": Match.object_like({})},
    )
    rule = json.loads(example.only("AWS::ECR::Repository")["Properties"]["LifecyclePolicy"]["LifecyclePolicyText"])
    assert rule["rules"][0]["selection"]["countNumber"] == example.settings.aws.ecr_max_images


def test_cluster_has_both_fargate_capacity_providers_and_exec_logging(example: Synthesized) -> None:
    example.assertions.has_resource_properties(
        "AWS::ECS::ClusterCapacityProviderAssociations",
        {"CapacityProviders": Match.array_with(["FARGATE", "FARGATE_SPOT"])},
    )
    cluster = example.only("AWS::ECS::Cluster")["Properties"]
    configuration = cluster["Configuration"]["ExecuteCommandConfiguration"]
    assert configuration["Logging"] == "OVERRIDE"
    assert "CloudWatchLogGroupName" in configuration["LogConfiguration"]
    assert cluster["ClusterSettings"] == [{"Name": "containerInsights", "Value": "disabled"}]


# --- metadata DB ----------------------------------------------------------------------------------


def test_rds_encrypted_private_backed_up(example: Synthesized) -> None:
    db = example.settings.database
    properties = example.only("AWS::RDS::DBInstance")["Properties"]
    assert properties["PubliclyAccessible"] is False
    assert properties["StorageEncrypted"] is True
    assert properties["BackupRetentionPeriod"] == db.backup_retention_days
    assert properties["DeletionProtection"] is db.deletion_protection
    assert properties["EngineVersion"] == db.engine_version
    assert properties["DBInstanceClass"] == f"db.{db.instance_class}"
    assert properties["MultiAZ"] is db.multi_az
    # Credentials come from the generated secret, resolved by CloudFormation at deploy time.
    assert "{{resolve:secretsmanager:" in json.dumps(properties["MasterUserPassword"])


def test_rds_log_group_is_created_with_retention(example: Synthesized) -> None:
    example.assertions.has_resource_properties(
        "AWS::Logs::LogGroup",
        {"LogGroupName": "/aws/rds/instance/airflow-metadata/postgresql", "RetentionInDays": 30},
    )


# --- broker ---------------------------------------------------------------------------------------


def test_one_encrypted_queue_per_pool_with_configured_visibility(example: Synthesized) -> None:
    queues = example.resources("AWS::SQS::Queue")
    assert len(queues) == len(example.settings.worker_pools)
    for queue in queues.values():
        properties = queue["Properties"]
        assert properties["VisibilityTimeout"] == example.settings.airflow.broker_visibility_timeout_seconds
        assert properties["SqsManagedSseEnabled"] is True
    policy = example.only("AWS::SQS::QueuePolicy")["Properties"]["PolicyDocument"]["Statement"]
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in policy)


def test_celery_queue_urls_reach_every_container(example: Synthesized) -> None:
    env = environment(container(example, "airflow-scheduler"))
    assert "ECSFLOW_CELERY_QUEUES" in env


# --- log bucket -----------------------------------------------------------------------------------


def test_log_bucket_private_encrypted_tls_only_with_lifecycle(example: Synthesized) -> None:
    bucket = example.only("AWS::S3::Bucket")["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"
    }
    expirations = [rule.get("ExpirationInDays") for rule in bucket["LifecycleConfiguration"]["Rules"]]
    assert example.settings.observability.log_bucket_expiration_days in expirations
    statements = example.only("AWS::S3::BucketPolicy")["Properties"]["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
    )
    assert example.template["Resources"][next(iter(example.resources("AWS::S3::Bucket")))]["DeletionPolicy"] == "Retain"


# --- services -------------------------------------------------------------------------------------


def test_every_service_has_exec_and_circuit_breaker(example: Synthesized) -> None:
    found = services(example)
    assert set(found) == {f"airflow-{name}" for name in (*CONTROL_PLANE, "worker-default")}
    for service in found.values():
        assert service["EnableExecuteCommand"] is True
        assert service["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}


def test_every_service_waits_for_the_cluster_capacity_providers(example: Synthesized) -> None:
    """CreateService with a FARGATE/FARGATE_SPOT strategy fails until the association exists (first deploy)."""
    (association,) = example.resources("AWS::ECS::ClusterCapacityProviderAssociations")
    for key, service in example.resources("AWS::ECS::Service").items():
        assert association in service.get("DependsOn", []), key


def test_control_plane_starts_on_a_migrated_database(example: Synthesized) -> None:
    """CloudFormation waits for the services before `ecsflow deploy` can migrate: they must not need it.

    On a first deploy the schema does not exist; components started on it exit, the circuit breaker
    fails the services and `cdk deploy` with them. The scheduler task migrates first; the other
    components wait for the schema; no init container has a start timeout that could cut a migration.
    """
    success = "SUCCESS"
    migrators = [
        (family, definition["Name"])
        for family, properties in task_definitions(example).items()
        for definition in properties["ContainerDefinitions"]
        if definition.get("Command") == ["db", "migrate"]
    ]
    assert migrators == [("airflow-scheduler", "db-migrate")]
    migrate = container(example, "airflow-scheduler", "db-migrate")
    assert migrate["Essential"] is False and "StartTimeout" not in migrate
    for name in ("airflow", "autoscaler"):
        assert {"ContainerName": "db-migrate", "Condition": success} in container(example, "airflow-scheduler", name)[
            "DependsOn"
        ]
    airflow = container(example, "airflow-scheduler")
    for component in ("api-server", "dag-processor", "triggerer"):
        wait = container(example, f"airflow-{component}", "wait-for-migrations")
        assert wait["Command"][:2] == ["db", "check-migrations"]
        assert wait["Essential"] is False and "StartTimeout" not in wait
        # It reaches the DB as the component does.
        assert wait["Secrets"] == airflow["Secrets"]
        assert environment(wait)[f"{DATABASE_URL_VAR}_CMD"] == environment(airflow)[f"{DATABASE_URL_VAR}_CMD"]
        assert {"ContainerName": "wait-for-migrations", "Condition": success} in container(
            example, f"airflow-{component}"
        )["DependsOn"]
    # The load balancer gives the api-server time to wait for the migration.
    assert services(example)["airflow-api-server"]["HealthCheckGracePeriodSeconds"] >= 300


def test_every_airflow_container_has_init_process_and_arm64(example: Synthesized) -> None:
    for properties in task_definitions(example).values():
        assert properties["RuntimePlatform"]["CpuArchitecture"] == "ARM64"
        assert properties["RequiresCompatibilities"] == ["FARGATE"]
    for definition in airflow_containers(example):
        assert definition["LinuxParameters"]["InitProcessEnabled"] is True


def test_task_sizes_come_from_config(example: Synthesized) -> None:
    settings = example.settings
    sizes = {
        "airflow-api-server": settings.api_server,
        "airflow-scheduler": settings.scheduler,
        "airflow-dag-processor": settings.dag_processor,
        "airflow-triggerer": settings.triggerer,
        "airflow-worker-default": settings.worker_pools[0],
        "airflow-standalone": settings.standalone_task,
    }
    definitions = task_definitions(example)
    for family, size in sizes.items():
        assert definitions[family]["Cpu"] == str(size.cpu)
        assert definitions[family]["Memory"] == str(size.memory_mib)


def test_control_plane_desired_counts_and_capacity(example: Synthesized) -> None:
    found = services(example)
    for name in CONTROL_PLANE:
        config = getattr(example.settings, name.replace("-", "_"))
        assert found[f"airflow-{name}"]["DesiredCount"] == config.desired_count
        assert found[f"airflow-{name}"]["CapacityProviderStrategy"] == [
            {"CapacityProvider": config.capacity_provider, "Weight": 1}
        ]


def test_health_checks(example: Synthesized) -> None:
    assert HEALTH_PATH in " ".join(container(example, "airflow-api-server")["HealthCheck"]["Command"])
    assert "8974/health" in " ".join(container(example, "airflow-scheduler")["HealthCheck"]["Command"])
    assert "DagProcessorJob" in " ".join(container(example, "airflow-dag-processor")["HealthCheck"]["Command"])
    assert "TriggererJob" in " ".join(container(example, "airflow-triggerer")["HealthCheck"]["Command"])
    assert "HealthCheck" in container(example, "airflow-worker-default")
    example.assertions.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::TargetGroup", {"HealthCheckPath": HEALTH_PATH, "Port": 8080}
    )


def test_alb_idle_timeout_is_below_the_api_server_keep_alive(example: Synthesized) -> None:
    """A target that closes idle connections before the ALB does causes sporadic 502s."""
    command = container(example, "airflow-api-server")["Command"]
    keep_alive = int(command[command.index("--worker-timeout") + 1])  # uvicorn's timeout_keep_alive
    attributes = example.only("AWS::ElasticLoadBalancingV2::LoadBalancer")["Properties"]["LoadBalancerAttributes"]
    idle = int(next(a["Value"] for a in attributes if a["Key"] == "idle_timeout.timeout_seconds"))
    assert idle < keep_alive


def test_alb_http_only_from_allowed_cidrs(example: Synthesized) -> None:
    listeners = list(example.resources("AWS::ElasticLoadBalancingV2::Listener").values())
    assert [(r["Properties"]["Port"], r["Properties"]["Protocol"]) for r in listeners] == [(80, "HTTP")]
    load_balancer = example.only("AWS::ElasticLoadBalancingV2::LoadBalancer")["Properties"]
    assert load_balancer["Scheme"] == "internet-facing"
    attributes = {a["Key"]: a["Value"] for a in load_balancer["LoadBalancerAttributes"]}
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert attributes["access_logs.s3.enabled"] == "true"
    groups = example.resources("AWS::EC2::SecurityGroup")
    (alb_group,) = [g for k, g in groups.items() if k.startswith("NetworkLoadBalancerSg")]
    ingress = alb_group["Properties"]["SecurityGroupIngress"]
    assert [(rule["CidrIp"], rule["FromPort"]) for rule in ingress] == [("0.0.0.0/0", 80)]


def test_workers_reach_the_execution_api_privately(example: Synthesized) -> None:
    url = environment(container(example, "airflow-worker-default"))["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"]
    assert url == "http://api-server.airflow.internal:8080/execution/"
    example.assertions.has_resource_properties(
        "AWS::ServiceDiscovery::PrivateDnsNamespace", {"Name": "airflow.internal"}
    )
    example.assertions.has_resource_properties("AWS::ServiceDiscovery::Service", {"Name": "api-server"})
    # The api-server accepts the components' security group on 8080 (not only the ALB's).
    ingress = list(example.resources("AWS::EC2::SecurityGroupIngress").values())
    sources = [
        rule["Properties"]["SourceSecurityGroupId"]["Fn::GetAtt"][0]
        for rule in ingress
        if rule["Properties"]["FromPort"] == 8080
    ]
    assert any(source.startswith("NetworkComponentsSg") for source in sources)
    assert any(source.startswith("NetworkLoadBalancerSg") for source in sources)


def test_api_server_reaches_the_log_servers_of_workers_and_triggerer(example: Synthesized) -> None:
    """Running/deferred task logs are served by the worker (8793) and triggerer (8794), not yet in S3."""
    reachable = {
        rule["Properties"]["FromPort"]
        for rule in example.resources("AWS::EC2::SecurityGroupIngress").values()
        if rule["Properties"]["GroupId"]["Fn::GetAtt"][0].startswith("NetworkComponentsSg")
        and rule["Properties"]["SourceSecurityGroupId"]["Fn::GetAtt"][0].startswith("NetworkApiServerSg")
    }
    assert reachable == {8793, 8794}


# EC2 accepts only these characters in security group and rule descriptions (an apostrophe fails the deploy).
# https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpRange.html
EC2_DESCRIPTION = re.compile(r"^[a-zA-Z0-9. _\-:/()#,@\[\]+=&;{}!$*]*$")


def test_security_group_descriptions_are_accepted_by_ec2(example: Synthesized) -> None:
    descriptions: list[str] = []
    for group in example.resources("AWS::EC2::SecurityGroup").values():
        properties = group["Properties"]
        descriptions.append(properties["GroupDescription"])
        for rule in (*properties.get("SecurityGroupIngress", []), *properties.get("SecurityGroupEgress", [])):
            descriptions.append(rule.get("Description", ""))
    descriptions += [
        r["Properties"].get("Description", "") for r in example.resources("AWS::EC2::SecurityGroupIngress").values()
    ]
    assert len(descriptions) > 8
    for description in descriptions:
        assert len(description) <= 255 and EC2_DESCRIPTION.match(description), description


def test_database_reachable_only_from_airflow_security_groups(example: Synthesized) -> None:
    rules = [
        r["Properties"]
        for r in example.resources("AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["FromPort"] == 5432
    ]
    assert len(rules) == 2
    assert all("SourceSecurityGroupId" in rule and "CidrIp" not in rule for rule in rules)


# --- workers --------------------------------------------------------------------------------------


def test_worker_service_starts_at_zero_on_spot(example: Synthesized) -> None:
    worker = services(example)["airflow-worker-default"]
    assert worker["DesiredCount"] == 0
    assert worker["CapacityProviderStrategy"] == [{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}]


def test_worker_container_shuts_down_warmly(example: Synthesized) -> None:
    definition = container(example, "airflow-worker-default")
    assert definition["StopTimeout"] == 120
    env = environment(definition)
    assert env["DUMB_INIT_SETSID"] == "0"
    assert env["AIRFLOW__CELERY__WORKER_CONCURRENCY"] == str(example.settings.worker_pools[0].concurrency)
    assert definition["Command"] == ["celery", "worker", "--queues", "default"]


def policy_statements(stack: Synthesized, role_prefix: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = []
    for policy in stack.resources("AWS::IAM::Policy").values():
        roles = [ref["Ref"] for ref in policy["Properties"]["Roles"]]
        if any(role.startswith(role_prefix) for role in roles):
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def actions(statement: dict[str, Any]) -> list[str]:
    value = statement["Action"]
    return [value] if isinstance(value, str) else list(value)


def test_worker_may_protect_its_own_task_from_scale_in(example: Synthesized) -> None:
    statements = policy_statements(example, "WorkerdefaultTaskDefinitionTaskRole")
    (protection,) = [s for s in statements if "ecs:UpdateTaskProtection" in actions(s)]
    assert "task/" in json.dumps(protection["Resource"])
    assert protection["Resource"] != "*"


def test_worker_scalable_target_bounds_from_config(example: Synthesized) -> None:
    pool = example.settings.worker_pools[0]
    example.assertions.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {
            "MinCapacity": pool.min_workers,
            "MaxCapacity": pool.max_workers,
            "ResourceId": Match.object_like({"Fn::Join": Match.array_with([Match.array_with(["service/"])])}),
        },
    )
    # One target per service: the CLI's scheduled scaling needs them.
    example.assertions.resource_count_is("AWS::ApplicationAutoScaling::ScalableTarget", 5)
    targets = list(example.resources("AWS::ApplicationAutoScaling::ScalableTarget").values())
    assert not any("ScheduledActions" in t["Properties"] for t in targets)  # off in the example


# --- autoscaler -----------------------------------------------------------------------------------


def test_autoscaler_runs_as_essential_sidecar_of_the_scheduler(example: Synthesized) -> None:
    sidecar = container(example, "airflow-scheduler", "autoscaler")
    assert sidecar["Essential"] is True
    assert sidecar["Command"][-6:] == [
        "python",
        "-m",
        "deploy_airflow_on_ecs_fargate.autoscaler",
        "run",
        "--backend",
        "ecs",
    ]
    assert sidecar["Command"][:4] == ["python", "-m", ecs_secrets.MODULE, "exec"]
    pools = json.loads(environment(sidecar)[AUTOSCALER_POOLS_VAR])
    pool = example.settings.worker_pools[0]
    assert pools == {
        "default": {
            "service": "airflow-worker-default",
            "cluster": "airflow",
            "concurrency": pool.concurrency,
            "min": pool.min_workers,
            "max": pool.max_workers,
        }
    }


def test_autoscaler_permissions_are_scoped(example: Synthesized) -> None:
    statements = policy_statements(example, "SchedulerTaskDefinitionTaskRole")
    (scale,) = [s for s in statements if "ecs:UpdateService" in actions(s)]
    assert sorted(actions(scale)) == ["ecs:DescribeServices", "ecs:UpdateService"]
    resources = scale["Resource"] if isinstance(scale["Resource"], list) else [scale["Resource"]]
    assert [r["Ref"] for r in resources] == [next(iter(k for k in services_keys(example) if "Worker" in k))]
    metrics = [s for s in statements if "cloudwatch:PutMetricData" in actions(s)]
    assert metrics and all("cloudwatch:namespace" in json.dumps(s["Condition"]) for s in metrics)
    autoscaler = example.settings.autoscaler
    assert any(autoscaler.metrics_namespace in json.dumps(s["Condition"]) for s in metrics)
    assert any("application-autoscaling:DescribeScalableTargets" in actions(s) for s in statements)


def services_keys(stack: Synthesized) -> list[str]:
    return list(stack.resources("AWS::ECS::Service"))


def test_no_iam_statement_allows_everything(example: Synthesized) -> None:
    for policy in example.resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert "*" not in actions(statement)
            if statement["Resource"] == "*":
                # Only actions AWS cannot scope to a resource.
                # (logs:DescribeLogGroups: ECS exec's agent looks up its log group; CDK adds it.)
                allowed_prefixes = (
                    "logs:DescribeLogGroups",
                    "ecr:GetAuthorizationToken",
                    "ssmmessages:",
                    "cloudwatch:PutMetricData",
                    "application-autoscaling:Describe",
                )
                assert all(action.startswith(allowed_prefixes) for action in actions(statement)), statement


# --- standalone task, Firehose, Glue --------------------------------------------------------------


def test_standalone_task_logs_via_firelens_to_firehose(example: Synthesized) -> None:
    router = container(example, "airflow-standalone", "log-router")
    assert router["FirelensConfiguration"]["Type"] == "fluentbit"
    assert router["Image"] == example.settings.observability.fluent_bit_image
    app = container(example, "airflow-standalone")
    assert app["LogConfiguration"]["LogDriver"] == "awsfirelens"
    assert app["LogConfiguration"]["Options"]["Name"] == "kinesis_firehose"
    stream = example.only("AWS::KinesisFirehose::DeliveryStream")["Properties"]
    assert stream["DeliveryStreamEncryptionConfigurationInput"]["KeyType"] == "AWS_OWNED_CMK"
    assert stream["ExtendedS3DestinationConfiguration"]["Prefix"].startswith("firehose/logs/year=")


def test_glue_table_lets_athena_query_the_logs(example: Synthesized) -> None:
    table = example.only("AWS::Glue::Table")["Properties"]["TableInput"]
    assert table["Parameters"]["projection.enabled"] == "true"
    assert table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    columns = {column["Name"] for column in table["StorageDescriptor"]["Columns"]}
    assert {"log", "ecs_task_arn", "container_name"} <= columns
    example.assertions.has_resource_properties(
        "AWS::Glue::Database", {"DatabaseInput": {"Name": "airflow_logs", "Description": Match.any_value()}}
    )


# --- statsd, logs, observability ------------------------------------------------------------------


def test_statsd_sidecar_forwards_the_allow_list(example: Synthesized) -> None:
    for family in ("airflow-scheduler", "airflow-dag-processor", "airflow-triggerer", "airflow-worker-default"):
        agent = container(example, family, "cloudwatch-agent")
        assert agent["Essential"] is False
        configuration = json.loads(environment(agent)["CW_CONFIG_CONTENT"])
        assert configuration["metrics"]["namespace"] == example.settings.observability.statsd_namespace
        assert configuration["metrics"]["metrics_collected"]["statsd"]["service_address"] == ":8125"
        env = environment(container(example, family))
        assert env["AIRFLOW__METRICS__METRICS_ALLOW_LIST"].split(",") == example.settings.airflow.statsd_allow_list
        assert env["AIRFLOW__METRICS__STATSD_HOST"] == "localhost"


def test_every_log_group_has_the_configured_retention(example: Synthesized) -> None:
    for name, group in example.resources("AWS::Logs::LogGroup").items():
        assert group["Properties"]["RetentionInDays"] == example.settings.aws.log_retention_days, name


def test_dashboard_and_alarms(example: Synthesized) -> None:
    example.assertions.resource_count_is("AWS::CloudWatch::Dashboard", 1)
    names = {a["Properties"]["AlarmName"] for a in example.resources("AWS::CloudWatch::Alarm").values()}
    assert names == {
        "airflow-scheduler-down",
        "airflow-ui-unhealthy",
        "airflow-db-cpu",
        "airflow-db-storage",
        "airflow-queue-age-default",
    }
    body = json.dumps(example.only("AWS::CloudWatch::Dashboard")["Properties"]["DashboardBody"])
    for metric in ("QueuedTasks", "RunningTasks", "DesiredWorkers", "scheduler heartbeat", "CPUUtilization"):
        assert metric in body


# --- outputs --------------------------------------------------------------------------------------


def test_outputs_are_the_cli_contract(example: Synthesized) -> None:
    expected = {
        value
        for name, value in vars(stack_outputs).items()
        if name.isupper() and isinstance(value, str) and name != "REPOSITORY_ONLY_CONTEXT"
    }
    assert set(example.template["Outputs"]) == expected


@pytest.mark.parametrize(
    "key",
    ["api-server", "scheduler", "dag-processor", "triggerer", "worker-default", "autoscaler", "standalone", "ecs-exec"],
)
def test_log_groups_output_names_every_component(example: Synthesized, key: str) -> None:
    groups = json.loads(example.template["Outputs"][stack_outputs.LOG_GROUPS]["Value"])
    assert groups[key] == f"/ecsflow/airflow/{key}"
    example.assertions.has_resource_properties("AWS::Logs::LogGroup", {"LogGroupName": groups[key]})


def test_standalone_outputs(example: Synthesized) -> None:
    outputs = example.template["Outputs"]
    assert outputs[stack_outputs.STANDALONE_CONTAINER]["Value"] == "airflow"
    assert outputs[stack_outputs.STANDALONE_ASSIGN_PUBLIC_IP]["Value"] == "ENABLED"
    assert outputs[stack_outputs.CLUSTER_NAME]["Value"] == {"Ref": next(iter(example.resources("AWS::ECS::Cluster")))}


def test_every_component_shares_one_jwt_secret_and_the_same_settings(example: Synthesized) -> None:
    """Different JWT secrets make tasks fail with "Signature verification failed"."""
    containers = airflow_containers(example)
    assert len(containers) == 7  # api-server, scheduler, autoscaler, dag-processor, triggerer, worker, standalone
    sources = {
        json.dumps(item["ValueFrom"], sort_keys=True)
        for definition in containers
        for item in definition["Secrets"]
        if item["Name"] == "AIRFLOW__API_AUTH__JWT_SECRET"
    }
    assert len(sources) == 1
    shared = [
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
        "AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS",
        "AIRFLOW__SECRETS__BACKEND_KWARGS",
        "AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD",
    ]
    for name in shared:
        values = {json.dumps(environment(definition)[name], sort_keys=True) for definition in containers}
        assert len(values) == 1, name


def test_ui_url_is_what_airflow_advertises(example: Synthesized) -> None:
    base_url = environment(container(example, "airflow-api-server"))["AIRFLOW__API__BASE_URL"]
    assert base_url == example.template["Outputs"][stack_outputs.UI_URL]["Value"]
    assert "Fn::GetAtt" in json.dumps(base_url)  # the load balancer's DNS name, resolved at deploy time


def test_scheduler_sends_to_every_broker_queue(example: Synthesized) -> None:
    statements = policy_statements(example, "SchedulerTaskDefinitionTaskRole")
    send = [s for s in statements if "sqs:SendMessage" in actions(s)]
    queues = set(example.resources("AWS::SQS::Queue"))
    granted = {json.dumps(s["Resource"]) for s in send}
    assert all(any(queue in text for text in granted) for queue in queues)
