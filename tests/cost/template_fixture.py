"""A small hand-written CloudFormation template shaped like the CDK stack's output.

Small on purpose: the arithmetic tests compute its bill by hand. Properties follow what CDK
emits (string Cpu/Memory, Ref/Fn::GetAtt tokens, outputs rendered with Fn::Join).
"""

from __future__ import annotations

import copy
import json
from typing import Any

_AUTOSCALER_SETTINGS = json.dumps(
    {"metrics_namespace": "Airflow/Workers", "seed_metrics_namespace": None, "metrics_period_seconds": 60}
)


def _task(cpu: int, memory: int, env: dict[str, str], *, arch: str = "ARM64", agent: bool = False) -> dict[str, Any]:
    containers: list[dict[str, Any]] = [
        {
            "Name": "airflow",
            "Image": {"Fn::Join": ["", [{"Ref": "AWS::AccountId"}, ".dkr.ecr.us-east-1.amazonaws.com/airflow:latest"]]},
            "LogConfiguration": {"LogDriver": "awslogs", "Options": {"awslogs-group": {"Ref": "Logs"}}},
            "Environment": [{"Name": key, "Value": value} for key, value in env.items()]
            + [{"Name": "AIRFLOW__CORE__EXECUTION_API_SERVER_URL", "Value": {"Fn::Join": ["", ["http://", "x"]]}}],
        }
    ]
    if agent:
        containers.append(
            {
                "Name": "cloudwatch-agent",
                "Image": "amazon/cloudwatch-agent",
                "Environment": [{"Name": "CW_CONFIG_CONTENT", "Value": "{}"}],
            }
        )
    return {
        "Type": "AWS::ECS::TaskDefinition",
        "Properties": {
            "Cpu": str(cpu),
            "Memory": str(memory),
            "RuntimePlatform": {"CpuArchitecture": arch, "OperatingSystemFamily": "LINUX"},
            "RequiresCompatibilities": ["FARGATE"],
            "NetworkMode": "awsvpc",
            "ContainerDefinitions": containers,
        },
    }


def _service(task: str, desired: int, provider: str) -> dict[str, Any]:
    return {
        "Type": "AWS::ECS::Service",
        "Properties": {
            "Cluster": {"Ref": "Cluster"},
            "TaskDefinition": {"Ref": task},
            "DesiredCount": desired,
            "CapacityProviderStrategy": [{"CapacityProvider": provider, "Weight": 1}],
            "NetworkConfiguration": {
                "AwsvpcConfiguration": {
                    "AssignPublicIp": "ENABLED",
                    "Subnets": [{"Ref": "SubnetA"}, {"Ref": "SubnetB"}],
                }
            },
        },
    }


def _target(service: str, low: int, high: int) -> dict[str, Any]:
    return {
        "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
        "Properties": {
            "MinCapacity": low,
            "MaxCapacity": high,
            "ResourceId": {"Fn::Join": ["", ["service/", {"Ref": "Cluster"}, "/", {"Fn::GetAtt": [service, "Name"]}]]},
            "ScalableDimension": "ecs:service:DesiredCount",
            "ServiceNamespace": "ecs",
        },
    }


_COMMON_ENV = {
    "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
    "AIRFLOW__METRICS__STATSD_ON": "True",
    "AIRFLOW__METRICS__METRICS_ALLOW_LIST": "scheduler.heartbeat,executor.open_slots,ti_failures",
    "AIRFLOW__OPERATORS__DEFAULT_QUEUE": "default",
}

_TEMPLATE: dict[str, Any] = {
    "Resources": {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.42.0.0/16"}},
        "SubnetA": {"Type": "AWS::EC2::Subnet", "Properties": {}},
        "SubnetB": {"Type": "AWS::EC2::Subnet", "Properties": {}},
        "S3Endpoint": {"Type": "AWS::EC2::VPCEndpoint", "Properties": {"VpcEndpointType": "Gateway"}},
        "Cluster": {
            "Type": "AWS::ECS::Cluster",
            "Properties": {"ClusterSettings": [{"Name": "containerInsights", "Value": "disabled"}]},
        },
        "ApiServerTask": _task(512, 2048, _COMMON_ENV),
        "ApiServerService12AB34CD": _service("ApiServerTask", 1, "FARGATE"),
        "SchedulerTask": _task(512, 1024, {**_COMMON_ENV, "ECSFLOW_AUTOSCALER": _AUTOSCALER_SETTINGS}, agent=True),
        "SchedulerService": _service("SchedulerTask", 1, "FARGATE"),
        "WorkerDefaultTask": _task(1024, 2048, {**_COMMON_ENV, "AIRFLOW__CELERY__WORKER_CONCURRENCY": "8"}),
        "WorkerDefaultService": _service("WorkerDefaultTask", 0, "FARGATE_SPOT"),
        "ApiServerTarget": _target("ApiServerService12AB34CD", 0, 3),
        "SchedulerTarget": _target("SchedulerService", 0, 3),
        "WorkerDefaultTarget": _target("WorkerDefaultService", 0, 4),
        "LoadBalancer": {
            "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "Properties": {
                "Scheme": "internet-facing",
                "Type": "application",
                "Subnets": [{"Ref": "SubnetA"}, {"Ref": "SubnetB"}],
            },
        },
        "Database": {
            "Type": "AWS::RDS::DBInstance",
            "Properties": {
                "DBInstanceClass": "db.t4g.micro",
                "AllocatedStorage": "20",
                "StorageType": "gp3",
                "MultiAZ": False,
                "Engine": "postgres",
            },
        },
        "DatabaseSecret": {"Type": "AWS::SecretsManager::Secret", "Properties": {}},
        "FernetSecret": {"Type": "AWS::SecretsManager::Secret", "Properties": {}},
        "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 30}},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 43200}},
        "LogBucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {"LifecycleConfiguration": {"Rules": [{"Status": "Enabled", "ExpirationInDays": 90}]}},
        },
        "Repository": {
            "Type": "AWS::ECR::Repository",
            "Properties": {
                "LifecyclePolicy": {
                    "LifecyclePolicyText": json.dumps(
                        {
                            "rules": [
                                {
                                    "rulePriority": 1,
                                    "selection": {
                                        "tagStatus": "any",
                                        "countType": "imageCountMoreThan",
                                        "countNumber": 5,
                                    },
                                    "action": {"type": "expire"},
                                }
                            ]
                        }
                    )
                }
            },
        },
        "WorkerAlarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"MetricName": "QueuedTasks"}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
    },
    "Outputs": {
        "ApiServerServiceName": {"Value": {"Fn::GetAtt": ["ApiServerService12AB34CD", "Name"]}},
        "SchedulerServiceName": {"Value": {"Fn::GetAtt": ["SchedulerService", "Name"]}},
        "WorkerServiceNames": {
            "Value": {"Fn::Join": ["", ['{"default":"', {"Fn::GetAtt": ["WorkerDefaultService", "Name"]}, '"}']]}
        },
    },
}


def small_template() -> dict[str, Any]:
    """A fresh copy (tests edit it)."""
    return copy.deepcopy(_TEMPLATE)
