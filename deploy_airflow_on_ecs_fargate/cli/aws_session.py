"""The AWS session of a command: profile and region resolved like the aws CLI, clients with retries.

Precedence, as with ``aws``: the ``--profile``/``--region`` flags, then the usual environment
variables (``AWS_PROFILE``; ``AWS_REGION``, then ``AWS_DEFAULT_REGION``), then ``aws.profile`` /
``aws.region`` from ecsflow.yaml. Credentials come from botocore's normal chain (env vars, SSO,
shared files, instance roles), so whatever works for ``aws`` works here.
boto3 is imported inside the functions: ``ecsflow --help`` must not pay for it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    import boto3

    from deploy_airflow_on_ecs_fargate.cli.stack import StackOutputs
    from deploy_airflow_on_ecs_fargate.config import Settings

ProfileOption = Annotated[
    str | None,
    typer.Option("--profile", help="AWS named profile (default: $AWS_PROFILE, then aws.profile in the config)"),
]
RegionOption = Annotated[
    str | None,
    typer.Option("--region", help="AWS region (default: $AWS_REGION, $AWS_DEFAULT_REGION, then aws.region)"),
]


def resolve_profile(flag: str | None, settings: Settings) -> str | None:
    return flag or os.environ.get("AWS_PROFILE") or settings.aws.profile


def resolve_region(flag: str | None, settings: Settings) -> str:
    return flag or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or settings.aws.region


@dataclass
class AwsContext:
    """Everything a command needs to talk to the deployed environment."""

    settings: Settings
    profile: str | None
    region: str
    _session: boto3.Session | None = field(default=None, repr=False)
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)
    _outputs: StackOutputs | None = field(default=None, repr=False)

    @property
    def session(self) -> boto3.Session:
        if self._session is None:
            import boto3

            # ProfileNotFound surfaces here and is described by errors.py.
            self._session = boto3.Session(profile_name=self.profile, region_name=self.region)
        return self._session

    def client(self, service: str) -> Any:
        """A cached boto3 client; standard retry mode backs off on throttling before giving up.

        https://boto3.amazonaws.com/v1/documentation/api/latest/guide/retries.html
        """
        if service not in self._clients:
            from botocore.config import Config

            cli = self.settings.cli
            config = Config(
                retries={"mode": "standard", "max_attempts": cli.max_attempts},
                connect_timeout=cli.connect_timeout_seconds,
            )
            self._clients[service] = self.session.client(service, config=config)  # type: ignore[call-overload]
        return self._clients[service]

    @property
    def outputs(self) -> StackOutputs:
        """The stack's outputs, read once per command."""
        if self._outputs is None:
            from deploy_airflow_on_ecs_fargate.cli.stack import load_outputs

            self._outputs = load_outputs(self)
        return self._outputs

    def forget_outputs(self) -> None:
        """Read the outputs again on next use (after a deploy changed them)."""
        self._outputs = None

    def where(self) -> str:
        """'us-east-1, profile prod' for messages."""
        return f"{self.region}, profile {self.profile}" if self.profile else self.region


def aws_context(profile: str | None = None, region: str | None = None) -> AwsContext:
    """Load the config (ConfigError is reported by errors.py) and resolve where to talk to AWS."""
    from deploy_airflow_on_ecs_fargate.config import load_config

    settings = load_config()
    return AwsContext(settings, resolve_profile(profile, settings), resolve_region(region, settings))
