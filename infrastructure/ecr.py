"""The production image: an ECR repository of the stack, or an image URI given in the config.

The repository scans every pushed image for CVEs and expires old images (a lifecycle rule keeps
the newest ``aws.ecr_max_images``). It is retained when the stack is deleted: it holds the images
a rollback needs. With ``aws.image_uri`` no repository is created and that image is used as is.
https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning.html
"""

from __future__ import annotations

import re

from aws_cdk import Aws, RemovalPolicy
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from deploy_airflow_on_ecs_fargate.config import Settings

# <account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>[:tag][@digest]
PRIVATE_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(?P<name>[^:@]+)"
)


def external_ecr_repository(image_uri: str) -> tuple[str, str] | None:
    """ARN and name of the private ECR repository an ``aws.image_uri`` points at (None for other registries)."""
    match = PRIVATE_ECR_IMAGE.match(image_uri)
    if match is None:
        return None
    name = match["name"]
    return f"arn:{Aws.PARTITION}:ecr:{match['region']}:{match['account']}:repository/{name}", name


class AirflowImage(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(scope, construct_id)
        aws = settings.aws
        self.repository: ecr.Repository | None = None
        # A private ECR repository outside this stack that every task execution role must be allowed
        # to pull from: ContainerImage.from_registry grants nothing, and without ecr:BatchGetImage (and
        # GetAuthorizationToken) the tasks fail with CannotPullContainerError.
        # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
        self.pull_from: ecr.IRepository | None = None
        self.image: ecs.ContainerImage
        if aws.image_uri:
            self.image = ecs.ContainerImage.from_registry(aws.image_uri)
            self.image_uri = aws.image_uri
            external = external_ecr_repository(aws.image_uri)
            if external is not None:
                arn, name = external
                self.pull_from = ecr.Repository.from_repository_attributes(
                    self, "ExternalRepository", repository_arn=arn, repository_name=name
                )
            return
        self.repository = ecr.Repository(
            self,
            "Repository",
            repository_name=f"{settings.environment}/airflow",
            image_scan_on_push=True,
            # Mutable so `ecsflow deploy` can push the configured tag again (e.g. "latest");
            # pin a unique aws.image_tag per release for strict immutability.
            image_tag_mutability=ecr.TagMutability.MUTABLE,
            encryption=ecr.RepositoryEncryption.AES_256,
            lifecycle_rules=[
                ecr.LifecycleRule(
                    description=f"keep the newest {aws.ecr_max_images} images", max_image_count=aws.ecr_max_images
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.image = ecs.ContainerImage.from_ecr_repository(self.repository, aws.image_tag)
        self.image_uri = self.repository.repository_uri_for_tag(aws.image_tag)
