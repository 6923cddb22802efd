"""`./ecsflow test`: prepares what the tests need, then lint, type-check and pytest.

Runs inside the project's virtualenv (the ecsflow launcher creates it). Every extra argument
goes to pytest, e.g. ``./ecsflow test -m "not e2e"`` or ``./ecsflow test tests/test_config.py``.
Prerequisites it installs when missing:
- Debian ``chromium`` (the UI end-to-end test drives a real headless browser), via apt-get when root;
- the pinned AWS CDK CLI from ``package-lock.json`` (``npm ci``), for ``cdk synth``;
- checkov in its own virtualenv (it pins an old boto3 that conflicts with Airflow's).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CHECKOV_VERSION = "3.3.30"
CHECKOV_VENV = ROOT / ".venv-checkov"


def step(title: str, command: list[str], **kwargs: object) -> None:
    print(f"\n=== {title}: {' '.join(command)}", flush=True)
    started = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, **kwargs)  # type: ignore[call-overload]
    print(f"=== {title}: exit {result.returncode} in {time.monotonic() - started:.1f}s", flush=True)
    if result.returncode != 0:
        raise SystemExit(result.returncode)


def ensure_chromium() -> None:
    if shutil.which("chromium"):
        return
    if os.name != "nt" and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        step("apt-get update", ["apt-get", "update", "-qq"], env=env)
        step("install chromium", ["apt-get", "install", "-y", "-qq", "chromium"], env=env)
    else:
        print("warning: chromium is not installed (apt-get install chromium); the UI test will fail", flush=True)


def ensure_cdk_cli() -> None:
    if (ROOT / "package-lock.json").exists() and not (ROOT / "node_modules" / ".bin" / "cdk").exists():
        step("install the CDK CLI", ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"])


def ensure_checkov() -> None:
    checkov = CHECKOV_VENV / "bin" / "checkov"
    if checkov.exists():
        return
    step("checkov virtualenv", [sys.executable, "-m", "venv", str(CHECKOV_VENV)])
    step(
        "install checkov",
        [str(CHECKOV_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", f"checkov=={CHECKOV_VERSION}"],
    )


def main(pytest_args: list[str]) -> None:
    ensure_chromium()
    ensure_cdk_cli()
    ensure_checkov()
    step("ruff", [str(BIN / "ruff"), "check", "."])
    step("ruff format", [str(BIN / "ruff"), "format", "--check", "."])
    step("mypy", [str(BIN / "mypy")])
    result = subprocess.run([str(BIN / "pytest"), *pytest_args], cwd=ROOT)
    # pytest exits 5 when no test was collected: that is a failure of the suite, not a pass.
    raise SystemExit(result.returncode)


if __name__ == "__main__":
    main(sys.argv[1:])
