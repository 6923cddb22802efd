"""VPC, subnets and security groups.

No NAT gateway by default: a NAT gateway costs ~$33/month each plus data processing, more than a
small Airflow's compute. Tasks then run in public subnets with a public IPv4 address
($0.005/h each) to reach ECR, Secrets Manager, SQS, CloudWatch and the other AWS APIs; their
security groups accept no traffic from the internet. The alternative, interface VPC endpoints,
costs ~$7.30/month per endpoint per AZ, and this stack would need about eight (ecr.api, ecr.dkr,
secretsmanager, sqs, logs, monitoring, ssmmessages, firehose): ~$117/month over two AZs.
With ``aws.nat_gateways`` > 0 tasks move to private subnets behind the NAT instead.
The S3 gateway endpoint is free and keeps image layers (ECR stores them in S3) and task-log
uploads off the public path. The metadata DB lives in isolated subnets with no route out.
https://docs.aws.amazon.com/vpc/latest/privatelink/gateway-endpoints.html
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from deploy_airflow_on_ecs_fargate.airflow_settings import (
    API_SERVER_PORT,
    TRIGGERER_LOG_SERVER_PORT,
    WORKER_LOG_SERVER_PORT,
)
from deploy_airflow_on_ecs_fargate.config import Settings
from infrastructure.nag import acknowledge

POSTGRES_PORT = 5432


@dataclass(frozen=True)
class TaskPlacement:
    """Where Fargate tasks run: subnets and whether they get a public IP (needed without NAT)."""

    subnets: ec2.SubnetSelection
    assign_public_ip: bool


class Network(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(scope, construct_id)
        aws = settings.aws
        with_nat = aws.nat_gateways > 0
        subnets = [ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC)]
        if with_nat:
            subnets.append(ec2.SubnetConfiguration(name="tasks", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS))
        subnets.append(ec2.SubnetConfiguration(name="database", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED))
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(aws.vpc_cidr),
            max_azs=aws.max_azs,
            nat_gateways=aws.nat_gateways,
            subnet_configuration=subnets,
            # The default SG is left alone: restricting it needs a Lambda-backed custom resource,
            # and nothing in this stack uses it.
            restrict_default_security_group=False,
            gateway_endpoints={"S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)},
        )
        acknowledge(
            self.vpc,
            "AwsSolutions-VPC7",
            reason="VPC flow logs are off to keep the bill small; ALB access logs and ECS exec logs are kept.",
        )
        task_subnet_type = ec2.SubnetType.PRIVATE_WITH_EGRESS if with_nat else ec2.SubnetType.PUBLIC
        self.tasks = TaskPlacement(
            subnets=ec2.SubnetSelection(subnet_type=task_subnet_type), assign_public_ip=not with_nat
        )
        self.database_subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)

        # Security groups: the ALB takes the allowed CIDRs; the api-server takes the ALB and the
        # other Airflow components (Execution API); the DB takes every Airflow component.
        self.load_balancer_sg = ec2.SecurityGroup(
            self, "LoadBalancerSg", vpc=self.vpc, description="UI load balancer: allowed CIDRs only"
        )
        self.api_server_sg = ec2.SecurityGroup(
            self, "ApiServerSg", vpc=self.vpc, description="Airflow api-server tasks"
        )
        self.components_sg = ec2.SecurityGroup(
            self,
            "ComponentsSg",
            vpc=self.vpc,
            description="Airflow scheduler, dag-processor, triggerer, workers and one-off tasks",
        )
        self.database_sg = ec2.SecurityGroup(
            self, "DatabaseSg", vpc=self.vpc, description="Airflow metadata DB", allow_all_outbound=False
        )
        api_port = ec2.Port.tcp(API_SERVER_PORT)
        self.api_server_sg.add_ingress_rule(self.load_balancer_sg, api_port, "UI and API through the load balancer")
        self.api_server_sg.add_ingress_rule(self.components_sg, api_port, "Task Execution API for workers")
        # While a task runs (or is deferred) its log exists only on the worker (triggerer): the UI's
        # log view makes the api-server fetch it from http://<ti.hostname>:8793 (8794), S3 only has it
        # once the attempt ends.
        # https://airflow.apache.org/docs/apache-airflow/stable/administration-and-deployment/logging-monitoring/logging-tasks.html#serving-logs-from-workers-and-triggerer
        # (Rule descriptions may not contain an apostrophe: EC2 refuses them.)
        for port, description in (
            (WORKER_LOG_SERVER_PORT, "Running task logs from the worker log server"),
            (TRIGGERER_LOG_SERVER_PORT, "Deferred task logs from the triggerer log server"),
        ):
            self.components_sg.add_ingress_rule(self.api_server_sg, ec2.Port.tcp(port), description)
        for source, name in ((self.api_server_sg, "api-server"), (self.components_sg, "Airflow components")):
            self.database_sg.add_ingress_rule(source, ec2.Port.tcp(POSTGRES_PORT), f"PostgreSQL from {name}")
