"""The Celery broker: one SQS queue per worker pool (Celery queue).

The visibility timeout is set on the queue itself: with ``predefined_queues`` Celery ignores its
own ``visibility_timeout`` option, and a message whose task outlives the queue's timeout is
delivered again (the task would run twice). Messages are encrypted (SSE-SQS) and the queue policy
refuses non-TLS requests.
https://docs.celeryq.dev/en/stable/getting-started/backends-and-brokers/sqs.html#predefined-queues
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from deploy_airflow_on_ecs_fargate.config import Settings
from infrastructure.nag import acknowledge


class Broker(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(scope, construct_id)
        self.queues: dict[str, sqs.Queue] = {}
        for pool in settings.worker_pools:
            queue = sqs.Queue(
                self,
                f"Queue-{pool.name}",
                queue_name=f"{settings.environment}-{pool.name}",
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                visibility_timeout=Duration.seconds(settings.airflow.broker_visibility_timeout_seconds),
            )
            acknowledge(
                queue,
                "AwsSolutions-SQS3",
                reason="No DLQ: a Celery message is only a pointer to a task instance; Airflow itself retries "
                "and fails tasks (task_queued_timeout), and a redelivered stale message is ignored.",
            )
            self.queues[pool.name] = queue

    @property
    def queue_urls(self) -> dict[str, str]:
        return {name: queue.queue_url for name, queue in self.queues.items()}
