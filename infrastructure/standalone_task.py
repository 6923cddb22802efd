"""The standalone task definition: a template for one-off commands (``db migrate``, ``users create``, ...).

Nothing runs it on its own: ``ecsflow run-task`` starts it with RunTask and a command override,
waits, and returns the container's exit code (the seed's ``scripts/run_task.py``). It exists so
one-off commands get the same image, settings and secrets as the services without borrowing a
service's task. Its output goes through a FireLens fluent-bit sidecar to Kinesis Data Firehose
and S3, queryable with Athena (log_delivery.py), or with ``standalone_task.log_destination:
cloudwatch`` to CloudWatch Logs, where ``ecsflow run-task`` can stream it live.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/standalone-tasks.html
"""

from __future__ import annotations

from constructs import Construct

from infrastructure.airflow_container import AirflowRuntime, airflow_task

COMPONENT = "standalone"


class StandaloneTask(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, runtime: AirflowRuntime) -> None:
        super().__init__(scope, construct_id)
        config = runtime.settings.standalone_task
        self.task = airflow_task(
            self,
            runtime,
            component=COMPONENT,
            size=config,
            # Overridden on every run; alone it prints the version and exits 0.
            command=["version"],
            statsd=False,
            to_firehose=config.log_destination == "firehose",
        )
        self.task_definition = self.task.task_definition
        self.container_name = self.task.container.container_name
