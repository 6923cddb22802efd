"""S3 bucket for Airflow task logs, Firehose log files and ALB access logs.

Private (all public access blocked, bucket-owner-enforced), encrypted with SSE-S3 (ALB access
logs support no other key), TLS-only, objects expire after ``observability.log_bucket_expiration_days``.
It is retained when the stack is deleted (emptying it would need a Lambda-backed custom resource).
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

from deploy_airflow_on_ecs_fargate.config import Settings
from infrastructure.nag import acknowledge

ALB_LOGS_PREFIX = "alb"
TASK_LOGS_PREFIX = "task-logs"
FIREHOSE_PREFIX = "firehose"


class LogBucket(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(scope, construct_id)
        days = settings.observability.log_bucket_expiration_days
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[
                s3.LifecycleRule(id="expire-logs", expiration=Duration.days(days)),
                s3.LifecycleRule(
                    id="abort-incomplete-uploads", abort_incomplete_multipart_upload_after=Duration.days(1)
                ),
            ],
        )
        acknowledge(
            self.bucket,
            "AwsSolutions-S1",
            reason="This is the log bucket itself; server access logs of it would need yet another bucket.",
        )
