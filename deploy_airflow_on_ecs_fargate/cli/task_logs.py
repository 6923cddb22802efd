"""Find and tail the CloudWatch Logs stream of one ECS task's container.

Where a container's lines land depends on its log driver:
- ``awslogs``: stream ``<awslogs-stream-prefix>/<container>/<task id>``
  (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html);
- FireLens with fluent-bit's ``cloudwatch_logs`` output: ``<log_stream_prefix><container>-firelens-<task id>``
  (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/firelens-taskdef.html);
- FireLens to another destination (the stack's default for the standalone task: Kinesis Data
  Firehose -> S3): nothing to stream;
- no log configuration in the task definition: the stack's ``LogGroupNames`` output names a group
  for the component and the stream is the one whose name contains the task id.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from deploy_airflow_on_ecs_fargate.cli.aws_session import AwsContext


@dataclass
class LogTail:
    """Reads new events of one stream each time ``poll`` is called (GetLogEvents forward tokens)."""

    ctx: AwsContext
    group: str
    stream: str | None  # None: not known yet, found by ``task_id`` in the group's stream names
    task_id: str = ""
    _token: str | None = field(default=None, repr=False)

    def _find_stream(self) -> str | None:
        logs = self.ctx.client("logs")
        try:
            streams = logs.describe_log_streams(
                logGroupName=self.group, orderBy="LastEventTime", descending=True, limit=50
            )["logStreams"]
        except logs.exceptions.ResourceNotFoundException:
            return None
        for stream in streams:
            if self.task_id and self.task_id in stream["logStreamName"]:
                return str(stream["logStreamName"])
        return None

    def poll(self) -> Iterator[dict[str, Any]]:
        """Yield the events written since the previous call; nothing while the stream does not exist yet."""
        if self.stream is None:
            self.stream = self._find_stream()
            if self.stream is None:
                return
        logs = self.ctx.client("logs")
        while True:
            kwargs: dict[str, Any] = {"logGroupName": self.group, "logStreamName": self.stream, "startFromHead": True}
            if self._token:
                kwargs["nextToken"] = self._token
            try:
                page = logs.get_log_events(**kwargs)
            except logs.exceptions.ResourceNotFoundException:
                return  # the container has not written its first line yet
            yield from page["events"]
            token = page.get("nextForwardToken")
            # GetLogEvents returns the same token once the end of the stream is reached.
            if not page["events"] or token == self._token:
                self._token = token
                return
            self._token = token


def task_log_tail(
    ctx: AwsContext, task_definition: dict[str, Any], container: str, task_id: str, component: str
) -> LogTail | None:
    """Where ``container`` of task ``task_id`` logs, or None when it is not in CloudWatch Logs."""
    for definition in task_definition.get("containerDefinitions", []):
        if definition.get("name") != container:
            continue
        config = definition.get("logConfiguration") or {}
        options = config.get("options") or {}
        driver = config.get("logDriver")
        if driver == "awslogs" and "awslogs-group" in options:
            prefix = options.get("awslogs-stream-prefix")
            stream = f"{prefix}/{container}/{task_id}" if prefix else None
            return LogTail(ctx, options["awslogs-group"], stream, task_id)
        if driver == "awsfirelens":
            if "log_group_name" not in options:
                return None  # FireLens to another destination (Firehose -> S3): nothing in CloudWatch Logs
            prefix = options.get("log_stream_prefix")
            stream = options.get("log_stream_name") or (f"{prefix}{container}-firelens-{task_id}" if prefix else None)
            return LogTail(ctx, options["log_group_name"], stream, task_id)
        if driver:
            return None
    from deploy_airflow_on_ecs_fargate import stack_outputs as out

    if out.LOG_GROUPS in ctx.outputs.values:
        group = ctx.outputs.json_map(out.LOG_GROUPS).get(component)
        if group:
            return LogTail(ctx, group, None, task_id)
    return None
