"""The api-server (UI, REST API and Task Execution API) behind a public Application Load Balancer.

HTTP on port 80, or with ``aws.certificate_arn`` HTTPS on 443 and a permanent redirect from 80.
Only ``aws.allowed_cidrs`` reach the load balancer. Workers do not go through it: they use the
Cloud Map name ``api-server.<environment>.internal`` inside the VPC (Execution API).
https://airflow.apache.org/docs/apache-airflow/stable/core-concepts/overview.html
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_s3 as s3
from constructs import Construct

from deploy_airflow_on_ecs_fargate.airflow_settings import API_SERVER_PORT, HEALTH_PATH
from deploy_airflow_on_ecs_fargate.config import Settings
from infrastructure.airflow_container import WAIT_FOR_MIGRATIONS, AirflowRuntime, airflow_service, airflow_task
from infrastructure.log_bucket import ALB_LOGS_PREFIX
from infrastructure.nag import acknowledge

COMPONENT = "api-server"
# https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html
MAX_ALB_NAME = 32
CLOUD_MAP_NAME = "api-server"
# `airflow api-server` gives uvicorn its --worker-timeout (120 s by default) as the HTTP keep-alive
# timeout. The load balancer's idle timeout must be shorter than the target's keep-alive, or the
# api-server may close an idle connection just as the ALB reuses it and the client gets a 502.
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#connection-idle-timeout
API_SERVER_KEEP_ALIVE = Duration.seconds(120)
LOAD_BALANCER_IDLE_TIMEOUT = Duration.seconds(110)


class PublicLoadBalancer(Construct):
    """The ALB in front of the api-server; created first because every component needs its URL."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        vpc: ec2.IVpc,
        security_group: ec2.SecurityGroup,
        log_bucket: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        aws = settings.aws
        self.https = aws.certificate_arn is not None
        self.load_balancer = elbv2.ApplicationLoadBalancer(
            self,
            "LoadBalancer",
            # ALB names are at most 32 characters; a longer environment gets a generated name.
            load_balancer_name=name if len(name := f"{settings.environment}-ui") <= MAX_ALB_NAME else None,
            vpc=vpc,
            internet_facing=True,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            security_group=security_group,
            drop_invalid_header_fields=True,
            # The api-server streams logs and long API calls; the 60 s default cuts them. Below the
            # api-server's keep-alive (see LOAD_BALANCER_IDLE_TIMEOUT).
            idle_timeout=LOAD_BALANCER_IDLE_TIMEOUT,
        )
        self.load_balancer.log_access_logs(log_bucket, ALB_LOGS_PREFIX)
        ports = [443, 80] if self.https else [80]
        for cidr in aws.allowed_cidrs:
            peer = ec2.Peer.ipv6(cidr) if ":" in cidr else ec2.Peer.ipv4(cidr)
            for port in ports:
                security_group.add_ingress_rule(peer, ec2.Port.tcp(port), f"UI from {cidr}")
        if "0.0.0.0/0" in aws.allowed_cidrs or "::/0" in aws.allowed_cidrs:
            acknowledge(
                security_group,
                "AwsSolutions-EC23",
                reason="The UI is public by config (aws.allowed_cidrs); Airflow's login protects it.",
            )
        if self.https:
            self.listener = self.load_balancer.add_listener(
                "Https",
                port=443,
                protocol=elbv2.ApplicationProtocol.HTTPS,
                certificates=[elbv2.ListenerCertificate.from_arn(str(aws.certificate_arn))],
                ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
                open=False,
            )
            # Not add_redirect(): it opens port 80 to the world, bypassing aws.allowed_cidrs.
            self.load_balancer.add_listener(
                "HttpRedirect",
                port=80,
                protocol=elbv2.ApplicationProtocol.HTTP,
                open=False,
                default_action=elbv2.ListenerAction.redirect(protocol="HTTPS", port="443", permanent=True),
            )
        else:
            self.listener = self.load_balancer.add_listener(
                "Http", port=80, protocol=elbv2.ApplicationProtocol.HTTP, open=False
            )
        scheme = "https" if self.https else "http"
        host = aws.domain_name or self.load_balancer.load_balancer_dns_name
        self.public_url = f"{scheme}://{host}"


class ApiServer(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runtime: AirflowRuntime,
        load_balancer: PublicLoadBalancer,
        security_group: ec2.ISecurityGroup,
    ) -> None:
        super().__init__(scope, construct_id)
        config = runtime.settings.api_server
        self.task = airflow_task(
            self,
            runtime,
            component=COMPONENT,
            size=config,
            # --worker-timeout given explicitly: it is uvicorn's keep-alive, which the ALB's idle timeout
            # must stay under (LOAD_BALANCER_IDLE_TIMEOUT).
            command=[
                "api-server",
                "--port",
                str(API_SERVER_PORT),
                "--worker-timeout",
                str(int(API_SERVER_KEEP_ALIVE.to_seconds())),
            ],
            port=API_SERVER_PORT,
            statsd=False,
            init=WAIT_FOR_MIGRATIONS,
            health_check=ecs.HealthCheck(
                command=[
                    "CMD-SHELL",
                    f"curl --fail --silent http://localhost:{API_SERVER_PORT}{HEALTH_PATH} || exit 1",
                ],
                interval=Duration.seconds(30),
                timeout=Duration.seconds(10),
                retries=5,
                start_period=Duration.seconds(120),
            ),
        )
        self.service = airflow_service(
            self,
            runtime,
            self.task,
            component=COMPONENT,
            desired_count=config.desired_count,
            capacity_provider=config.capacity_provider,
            security_group=security_group,
            cloud_map_name=CLOUD_MAP_NAME,
            # Load balancer health checks only count once the task has had time to wait for the DB
            # migration (WAIT_FOR_MIGRATIONS: the scheduler migrates a new database at the same time).
            health_check_grace_period=Duration.minutes(5),
        )
        self.target_group = load_balancer.listener.add_targets(
            "ApiServer",
            port=API_SERVER_PORT,
            protocol=elbv2.ApplicationProtocol.HTTP,
            targets=[
                self.service.load_balancer_target(
                    container_name=self.task.container.container_name, container_port=API_SERVER_PORT
                )
            ],
            health_check=elbv2.HealthCheck(
                path=HEALTH_PATH,
                healthy_http_codes="200",
                interval=Duration.seconds(30),
                healthy_threshold_count=2,
                unhealthy_threshold_count=5,
            ),
            # Shorter than the 300 s default: api-server tasks hold no long requests worth waiting for.
            deregistration_delay=Duration.seconds(30),
        )
