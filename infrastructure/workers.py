"""Celery workers: one ECS service per worker pool (= Celery queue), scaled 0..N by the autoscaler.

- Desired count 0: the autoscaler (a sidecar of the scheduler) raises it within seconds when tasks
  are queued, and lowers it when idle; Application Auto Scaling bounds it to [min_workers,
  max_workers] so scheduled actions (and ``ecsflow scale``) can cap it.
- Fargate Spot by default (``capacity_provider``): up to ~70% cheaper. Spot gives a 2-minute
  notice (SIGTERM); ``stopTimeout`` 120 s (the Fargate maximum) lets Celery's warm shutdown finish
  running tasks, and ``DUMB_INIT_SETSID=0`` makes the image's dumb-init deliver SIGTERM to Celery
  only. https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-capacity-providers.html
- Scale-in protection: a busy worker protects its own task through the ECS agent endpoint, so
  lowering the desired count never stops a worker in the middle of a task (needs
  ``ecs:UpdateTaskProtection`` on its own task).
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-scale-in-protection.html
"""

from __future__ import annotations

from aws_cdk import Aws, Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from deploy_airflow_on_ecs_fargate.airflow_settings import WORKER_LOG_SERVER_PORT, worker_environment
from deploy_airflow_on_ecs_fargate.config import WorkerPool
from infrastructure.airflow_container import AirflowRuntime, airflow_service, airflow_task

# Fargate's maximum stop timeout, and the length of Fargate Spot's interruption notice.
WORKER_STOP_TIMEOUT = Duration.seconds(120)


def component(pool: WorkerPool) -> str:
    return f"worker-{pool.name}"


class WorkerPoolService(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runtime: AirflowRuntime,
        pool: WorkerPool,
        queue: sqs.IQueue,
        security_group: ec2.ISecurityGroup,
    ) -> None:
        super().__init__(scope, construct_id)
        self.pool = pool
        self.task = airflow_task(
            self,
            runtime,
            component=component(pool),
            size=pool,
            command=["celery", "worker", "--queues", pool.name],
            extra_environment=worker_environment(runtime.settings, pool.name),
            stop_timeout=WORKER_STOP_TIMEOUT,
            health_check=ecs.HealthCheck(
                # Any HTTP answer from the worker's log server proves the worker process is up; a failing check
                # replaces the task, so it is lenient (Celery has no cheap liveness probe without
                # remote control, which SQS cannot do).
                command=[
                    "CMD-SHELL",
                    f"curl --silent --output /dev/null http://localhost:{WORKER_LOG_SERVER_PORT}/ || exit 1",
                ],
                interval=Duration.seconds(30),
                timeout=Duration.seconds(10),
                retries=5,
                start_period=Duration.seconds(180),
            ),
        )
        role = self.task.task_definition.task_role
        queue.grant_consume_messages(role)
        queue.grant_send_messages(role)
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="OwnTaskScaleInProtection",
                actions=["ecs:UpdateTaskProtection", "ecs:GetTaskProtection"],
                # A task's ID is only known at run time: scoped to this cluster's tasks.
                resources=[
                    f"arn:{Aws.PARTITION}:ecs:{Aws.REGION}:{Aws.ACCOUNT_ID}:task/{runtime.cluster.cluster_name}/*"
                ],
            )
        )
        self.service = airflow_service(
            self,
            runtime,
            self.task,
            component=component(pool),
            # The autoscaler owns the count; a deployment resets it to 0, which cannot stop busy
            # workers because they hold scale-in protection.
            desired_count=0,
            capacity_provider=pool.capacity_provider,
            security_group=security_group,
        )
        self.scalable_target = self.service.auto_scale_task_count(
            min_capacity=pool.min_workers, max_capacity=pool.max_workers
        )
