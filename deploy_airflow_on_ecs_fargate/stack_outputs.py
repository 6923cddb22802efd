"""Names of the CloudFormation outputs of the stack: the contract between the CDK app and the CLI.

The CDK stack (infrastructure/) emits exactly these outputs; the CLI discovers everything it
needs (cluster, services, subnets, task definition, ...) from them instead of hard-coded names.
Values that hold several items are JSON objects (e.g. {"default": "<service name>"}) or
comma-separated lists, as noted.
"""

from __future__ import annotations

from typing import Final

UI_URL: Final = "UiUrl"
CLUSTER_NAME: Final = "ClusterName"
API_SERVER_SERVICE: Final = "ApiServerServiceName"
SCHEDULER_SERVICE: Final = "SchedulerServiceName"
DAG_PROCESSOR_SERVICE: Final = "DagProcessorServiceName"
TRIGGERER_SERVICE: Final = "TriggererServiceName"
WORKER_SERVICES: Final = "WorkerServiceNames"  # JSON {"<pool>": "<service name>"}
LOG_GROUPS: Final = "LogGroupNames"  # JSON {"<service key>": "<log group name>"}
# `ecsflow logs`/`run-task` read service keys plus "standalone" (the one-off task) from LOG_GROUPS; when a
# container does not use the awslogs driver, its stream is found by a name that contains the ECS task id.
LOG_BUCKET: Final = "LogBucketName"
BROKER_QUEUE_URLS: Final = "BrokerQueueUrls"  # JSON {"<pool>": "<SQS queue URL>"}
ECR_REPOSITORY_URI: Final = "EcrRepositoryUri"
IMAGE_URI: Final = "ImageUri"
STANDALONE_TASK_DEFINITION: Final = "StandaloneTaskDefinitionArn"
STANDALONE_CONTAINER: Final = "StandaloneContainerName"
STANDALONE_SUBNETS: Final = "StandaloneSubnetIds"  # comma-separated
STANDALONE_SECURITY_GROUP: Final = "StandaloneSecurityGroupId"
STANDALONE_ASSIGN_PUBLIC_IP: Final = "StandaloneAssignPublicIp"  # "ENABLED" | "DISABLED"
AUTOSCALER_STATE_PARAMETER: Final = "AutoscalerStateLogGroup"  # where the autoscaler logs its decisions

# Service keys used by the CLI (`ecsflow logs api-server`, `ecsflow scale scheduler 0`, ...):
# the worker pools appear as "worker-<pool>".
SERVICE_OUTPUTS: Final = {
    "api-server": API_SERVER_SERVICE,
    "scheduler": SCHEDULER_SERVICE,
    "dag-processor": DAG_PROCESSOR_SERVICE,
    "triggerer": TRIGGERER_SERVICE,
}

# CDK context set by `ecsflow deploy` on the first deploy when it builds the image itself: with
# `-c ecsflow:repository-only=true` the stack holds only the ECR repository (same construct id and
# the EcrRepositoryUri output), so the image can be pushed before any service needs it.
REPOSITORY_ONLY_CONTEXT: Final = "ecsflow:repository-only"
