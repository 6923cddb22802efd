"""CloudWatch dashboard and alarms (log groups are created next to each component: log_groups.py).

The dashboard shows, per worker pool, the autoscaler's view (queued and running task instances,
desired and current workers: published by the controller), the scheduler heartbeat (statsd), CPU
and memory of every service, the load balancer and the metadata DB. Alarms cover what needs a
person: no scheduler is running, the UI has no healthy target, a broker queue is
backing up, the DB runs out of CPU or storage. With ``aws.alarm_email`` they notify an SNS topic.
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_rds as rds
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from deploy_airflow_on_ecs_fargate.config import Settings
from infrastructure.nag import acknowledge
from infrastructure.statsd_agent import METRIC_PREFIX

# Metric names the autoscaler publishes (namespace autoscaler.metrics_namespace, dimension Pool).
AUTOSCALER_METRICS = ("QueuedTasks", "RunningTasks", "DesiredWorkers", "CurrentWorkers")
ONE_MINUTE = Duration.minutes(1)


@dataclass(frozen=True)
class ObservedResources:
    services: dict[str, ecs.FargateService]
    queues: dict[str, sqs.IQueue]
    load_balancer: elbv2.ApplicationLoadBalancer
    target_group: elbv2.ApplicationTargetGroup
    database: rds.DatabaseInstance


def scheduler_heartbeat(settings: Settings) -> cloudwatch.MathExpression:
    """The scheduler's statsd heartbeat, found by search: the agent may rewrite dots and add dimensions."""
    namespace = settings.observability.statsd_namespace
    return cloudwatch.MathExpression(
        expression=f"SEARCH('{{{namespace}}} {METRIC_PREFIX} scheduler heartbeat', 'Sum', 60)",
        label="scheduler heartbeat",
        period=ONE_MINUTE,
        using_metrics={},
    )


def scheduler_running(service: ecs.FargateService) -> cloudwatch.Metric:
    """Samples of the scheduler service's CPU metric: ECS emits them only while a scheduler task runs."""
    return cloudwatch.Metric(
        namespace="AWS/ECS",
        metric_name="CPUUtilization",
        dimensions_map={"ClusterName": service.cluster.cluster_name, "ServiceName": service.service_name},
        statistic="SampleCount",
        period=ONE_MINUTE,
    )


class Observability(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, settings: Settings, resources: ObservedResources
    ) -> None:
        super().__init__(scope, construct_id)
        self.settings = settings
        self.topic: sns.Topic | None = None
        if settings.aws.alarm_email:
            self.topic = sns.Topic(self, "Alarms", topic_name=f"{settings.environment}-alarms", enforce_ssl=True)
            self.topic.add_subscription(subscriptions.EmailSubscription(settings.aws.alarm_email))
            acknowledge(
                self.topic,
                "AwsSolutions-SNS2",
                reason="Alarm notifications carry no sensitive data; a KMS key would add cost.",
            )
        self.alarms = self._alarms(resources)
        if settings.observability.dashboard:
            self.dashboard = self._dashboard(resources)

    def _alarm(self, construct_id: str, **kwargs: object) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            alarm_name=f"{self.settings.environment}-{construct_id}",
            **kwargs,  # type: ignore[arg-type]
        )
        if self.topic is not None:
            alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.topic))
        return alarm

    def _alarms(self, resources: ObservedResources) -> list[cloudwatch.Alarm]:
        settings = self.settings
        observability = settings.observability
        # While night/weekend scaling stops the scheduler, missing data is expected.
        missing = (
            cloudwatch.TreatMissingData.NOT_BREACHING
            if settings.scheduled_scaling.enabled
            else cloudwatch.TreatMissingData.BREACHING
        )
        alarms = [
            self._alarm(
                "scheduler-down",
                alarm_description="No scheduler task is running: no task is being scheduled, no worker is "
                "scaled (its container health check restarts a scheduler whose heartbeat stops).",
                metric=scheduler_running(resources.services["scheduler"]),
                threshold=1,
                comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                evaluation_periods=observability.scheduler_down_alarm_minutes,
                treat_missing_data=missing,
            ),
            self._alarm(
                "ui-unhealthy",
                alarm_description="The load balancer has no healthy api-server.",
                metric=resources.target_group.metrics.healthy_host_count(period=ONE_MINUTE, statistic="Minimum"),
                threshold=1,
                comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                evaluation_periods=5,
                treat_missing_data=missing,
            ),
            self._alarm(
                "db-cpu",
                alarm_description="The metadata DB is CPU-bound: the scheduler slows down.",
                metric=resources.database.metric_cpu_utilization(period=Duration.minutes(5)),
                threshold=80,
                evaluation_periods=3,
            ),
            self._alarm(
                "db-storage",
                alarm_description="The metadata DB has less than 2 GiB free.",
                metric=resources.database.metric_free_storage_space(period=Duration.minutes(5)),
                threshold=2 * 1024**3,
                comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                evaluation_periods=1,
            ),
        ]
        for pool, queue in resources.queues.items():
            alarms.append(
                self._alarm(
                    f"queue-age-{pool}",
                    alarm_description=f"Tasks wait in the {pool} queue: its workers are not keeping up (max_workers?).",
                    metric=queue.metric_approximate_age_of_oldest_message(period=Duration.minutes(5)),
                    threshold=observability.queue_age_alarm_minutes * 60,
                    evaluation_periods=1,
                )
            )
        return alarms

    def _dashboard(self, resources: ObservedResources) -> cloudwatch.Dashboard:
        settings = self.settings
        namespace = settings.autoscaler.metrics_namespace
        pools = [pool.name for pool in settings.worker_pools]

        def autoscaler_metric(name: str, pool: str) -> cloudwatch.Metric:
            statistic = "Maximum" if name.endswith("Tasks") else "Average"
            return cloudwatch.Metric(
                namespace=namespace,
                metric_name=name,
                dimensions_map={"Pool": pool},
                statistic=statistic,
                period=ONE_MINUTE,
                label=f"{name} {pool}",
            )

        def service_metric(name: str) -> list[cloudwatch.IMetric]:
            return [
                cloudwatch.Metric(
                    namespace="AWS/ECS",
                    metric_name=name,
                    dimensions_map={"ClusterName": service.cluster.cluster_name, "ServiceName": service.service_name},
                    statistic="Average",
                    period=ONE_MINUTE,
                    label=key,
                )
                for key, service in resources.services.items()
            ]

        dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=f"{settings.environment}-airflow")
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Task instances (queued, running)",
                left=[autoscaler_metric(name, pool) for pool in pools for name in ("QueuedTasks", "RunningTasks")],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Workers (desired, current)",
                left=[autoscaler_metric(name, pool) for pool in pools for name in ("DesiredWorkers", "CurrentWorkers")],
                width=12,
            ),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Scheduler heartbeat", left=[scheduler_heartbeat(settings)], width=8),
            cloudwatch.GraphWidget(title="CPU % by service", left=service_metric("CPUUtilization"), width=8),
            cloudwatch.GraphWidget(title="Memory % by service", left=service_metric("MemoryUtilization"), width=8),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Broker queue depth",
                left=[
                    queue.metric_approximate_number_of_messages_visible(period=ONE_MINUTE, label=pool)
                    for pool, queue in resources.queues.items()
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="UI requests and 5xx",
                left=[resources.load_balancer.metrics.request_count(period=ONE_MINUTE)],
                right=[
                    resources.load_balancer.metrics.http_code_target(
                        elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=ONE_MINUTE
                    )
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Metadata DB CPU % and connections",
                left=[resources.database.metric_cpu_utilization(period=ONE_MINUTE)],
                right=[resources.database.metric_database_connections(period=ONE_MINUTE)],
                width=8,
            ),
        )
        return dashboard
