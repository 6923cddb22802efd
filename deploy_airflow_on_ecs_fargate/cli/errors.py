"""User-facing failures of the whole command line: known exceptions -> one clear line and an exit code.

Every command group uses it (``ecsflow local``, ``ecsflow cost`` too), so a user never sees a
traceback for something they can fix::

    from deploy_airflow_on_ecs_fargate.cli.errors import CliError, handle_errors

    @app.command()
    @handle_errors
    def my_command() -> None:
        raise CliError("the stack is not deployed: run ./ecsflow deploy first")

A failed external program (``subprocess.run(..., check=True)``) is reported with its name, exit
code and last line of error output. Exit codes: 1 for a failure (AWS said no, a task failed,
...), 2 for bad input (invalid config, nonsense arguments), like typer's own usage errors.
botocore is imported only when an error is being described, so importing this module stays cheap.
"""

from __future__ import annotations

import functools
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

import typer

P = ParamSpec("P")
R = TypeVar("R")

EXIT_FAILURE = 1
EXIT_USAGE = 2

# Error codes AWS services use for "you may not do this".
_ACCESS_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
    "AuthorizationError",
    "NotAuthorized",
}
_THROTTLED = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
}
_EXPIRED = {
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
}


class CliError(Exception):
    """A failure to report as one line (``ecsflow: <message>``) with an exit code, without a traceback."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class UsageError(CliError):
    """Bad input from the user (nonsense count, unknown service, ...): exit code 2."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_USAGE)


def describe(error: BaseException) -> tuple[list[str], int] | None:
    """Return the lines to print and the exit code for a known failure, or None for a bug."""
    from deploy_airflow_on_ecs_fargate.config import ConfigError

    if isinstance(error, CliError):
        return [error.message], error.exit_code
    if isinstance(error, ConfigError):
        return [f"invalid configuration in {error.source}:", *(f"  {p}" for p in error.problems)], EXIT_USAGE
    if type(error).__module__.startswith(("botocore", "boto3")):
        return [_describe_aws(error)], EXIT_FAILURE
    if isinstance(error, subprocess.CalledProcessError):
        program = Path(str(error.cmd[0] if isinstance(error.cmd, list | tuple) else error.cmd).split()[0]).name
        output = error.stderr or error.output
        if isinstance(output, bytes):
            output = output.decode(errors="replace")
        last_line = (str(output or "").strip().splitlines() or [""])[-1]
        detail = f": {last_line}" if last_line else ""
        return [f"{program} failed with exit code {error.returncode}{detail}"], EXIT_FAILURE
    return None


def _describe_aws(error: BaseException) -> str:
    from botocore import exceptions as bx

    if isinstance(error, bx.NoCredentialsError | bx.PartialCredentialsError):
        return (
            "no AWS credentials found: pass --profile, set AWS_PROFILE, or run `aws configure` "
            "(or `aws sso login --profile <name>`)"
        )
    if isinstance(error, bx.ProfileNotFound):
        return f"{error}: check the name with `aws configure list-profiles`"
    if isinstance(error, bx.NoRegionError):
        return "no AWS region: pass --region, set AWS_REGION, or set aws.region in ecsflow.yaml"
    if isinstance(error, bx.SSOError | bx.TokenRetrievalError | bx.UnauthorizedSSOTokenError):
        return f"the AWS SSO session is missing or expired: run `aws sso login` ({error})"
    if isinstance(error, bx.EndpointConnectionError | bx.ConnectTimeoutError | bx.ReadTimeoutError):
        return f"cannot reach AWS ({error}); check the network and the region"
    if isinstance(error, bx.WaiterError):
        return f"gave up waiting: {error}"
    if isinstance(error, bx.ClientError):
        details = error.response.get("Error", {})
        code = str(details.get("Code", "Unknown"))
        message = str(details.get("Message", "")).strip()
        action = error.operation_name
        if message.startswith("<"):
            message = ""  # an unparsed XML/HTML body (proxy, emulator): the code and status say enough
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        # A bare 403 whose body botocore could not parse is a denial too.
        if code in _ACCESS_DENIED or (code == "403" and status == 403):
            return f"access denied: your AWS identity may not call {action} ({message or code})"
        if code in _THROTTLED:
            return f"AWS throttled {action} even after retries: wait a minute and try again ({code})"
        if code in _EXPIRED:
            return f"AWS rejected the credentials while calling {action}: they are invalid or expired ({code})"
        return f"AWS error from {action}: {code}: {message}" if message else f"AWS error from {action}: {code}"
    return f"AWS SDK error: {error}"


def fail(error: BaseException) -> typer.Exit:
    """Print a known failure to stderr and return the typer.Exit to raise; re-raise unknown ones."""
    described = describe(error)
    if described is None:
        raise error
    lines, code = described
    for line in lines:
        print(f"ecsflow: {line}" if line is lines[0] else line, file=sys.stderr)  # noqa: T201 (no rich: keep it plain)
    return typer.Exit(code)


def handle_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Decorate a typer command so known failures end as one line on stderr and a non-zero exit."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as error:
            raise fail(error) from None

    return wrapper
