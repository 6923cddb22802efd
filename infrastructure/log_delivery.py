"""Kinesis Data Firehose delivery of container logs to S3, with a Glue table so Athena can query them.

FireLens (a fluent-bit sidecar) sends each log line of the one-off task (and of the services with
``aws.services_to_firehose``) to this stream as a JSON record with the ECS metadata
(``container_name``, ``ecs_task_arn``, ...). Firehose batches them into gzip files under
``firehose/logs/year=YYYY/month=MM/day=DD/``; the Glue table uses partition projection, so
Athena finds new days without crawlers or ``MSCK REPAIR``:

    SELECT log FROM "<environment>_logs"."container_logs" WHERE year = 2026 AND month = 11 AND day = 24
      AND ecs_task_arn LIKE '%<task id>' ORDER BY timestamp

https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_firelens.html
https://docs.aws.amazon.com/athena/latest/ug/partition-projection.html
"""

from __future__ import annotations

from aws_cdk import Aws, Duration
from aws_cdk import aws_glue as glue
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_s3 as s3
from constructs import Construct

from deploy_airflow_on_ecs_fargate.config import Settings
from infrastructure.log_bucket import FIREHOSE_PREFIX
from infrastructure.log_groups import component_log_group
from infrastructure.nag import acknowledge

TABLE_NAME = "container_logs"
# The fields FireLens adds with enable-ecs-log-metadata, plus the line itself and fluent-bit's time key.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/firelens-taskdef.html
COLUMNS = (
    "log",
    "source",
    "timestamp",
    "container_id",
    "container_name",
    "ecs_cluster",
    "ecs_task_arn",
    "ecs_task_definition",
)
PARTITIONS = {"year": "2024,2100", "month": "1,12", "day": "1,31"}


def database_name(settings: Settings) -> str:
    # Glue/Athena names: lower case letters, digits and underscores.
    return f"{settings.environment.replace('-', '_')}_logs"


class LogDelivery(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, bucket: s3.IBucket) -> None:
        super().__init__(scope, construct_id)
        prefix = f"{FIREHOSE_PREFIX}/logs"
        self.stream = firehose.DeliveryStream(
            self,
            "Stream",
            delivery_stream_name=f"{settings.environment}-container-logs",
            encryption=firehose.StreamEncryption.aws_owned_key(),
            destination=firehose.S3Bucket(
                bucket,
                data_output_prefix=f"{prefix}/year=!{{timestamp:yyyy}}/month=!{{timestamp:MM}}/day=!{{timestamp:dd}}/",
                error_output_prefix=f"{FIREHOSE_PREFIX}/errors/!{{firehose:error-output-type}}/!{{timestamp:yyyy-MM-dd}}/",
                buffering_interval=Duration.seconds(settings.observability.firehose_buffer_seconds),
                compression=firehose.Compression.GZIP,
                # Delivery errors go to a log group with the stack's retention (CDK's default keeps 2 years).
                logging_config=firehose.EnableLogging(
                    component_log_group(self, "DeliveryErrors", settings, "firehose-delivery")
                ),
            ),
        )
        acknowledge(
            self.stream,
            "AwsSolutions-KDF1",
            reason="Server-side encryption is on with an AWS owned key (no KMS key cost).",
        )
        self.database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=Aws.ACCOUNT_ID,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=database_name(settings), description="Container logs delivered by Kinesis Data Firehose"
            ),
        )
        location = f"s3://{bucket.bucket_name}/{prefix}/"
        self.table = glue.CfnTable(
            self,
            "Table",
            catalog_id=Aws.ACCOUNT_ID,
            database_name=database_name(settings),
            table_input=glue.CfnTable.TableInputProperty(
                name=TABLE_NAME,
                description="One row per log line (FireLens JSON records)",
                table_type="EXTERNAL_TABLE",
                partition_keys=[glue.CfnTable.ColumnProperty(name=key, type="int") for key in PARTITIONS],
                parameters={
                    "classification": "json",
                    "compressionType": "gzip",
                    "projection.enabled": "true",
                    **{f"projection.{key}.type": "integer" for key in PARTITIONS},
                    **{f"projection.{key}.range": value for key, value in PARTITIONS.items()},
                    "projection.month.digits": "2",
                    "projection.day.digits": "2",
                    "storage.location.template": location + "year=${year}/month=${month}/day=${day}/",
                },
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    location=location,
                    columns=[glue.CfnTable.ColumnProperty(name=name, type="string") for name in COLUMNS],
                    input_format="org.apache.hadoop.mapred.TextInputFormat",
                    output_format="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                    serde_info=glue.CfnTable.SerdeInfoProperty(
                        serialization_library="org.openx.data.jsonserde.JsonSerDe",
                        parameters={"ignore.malformed.json": "true"},
                    ),
                ),
            ),
        )
        self.table.node.add_dependency(self.database)
