"""Re-lock the dependencies after editing pyproject.toml: `python3 scripts/lock.py`.

uv resolves one universal lock; we export it as hash-pinned requirements files (with no
download addresses in them), which is what the launcher and the production image install.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    uv = shutil.which("uv") or str(next((Path.home() / ".cache" / "ecsflow").glob("uv-*/bin/uv")))
    export = [uv, "export", "--no-emit-project", "--no-header", "--quiet"]
    try:
        subprocess.run([uv, "lock", "--quiet"], cwd=ROOT, check=True)
        subprocess.run([*export, "--all-groups", "-o", "requirements/dev.lock"], cwd=ROOT, check=True)
        subprocess.run([*export, "--no-default-groups", "-o", "requirements/runtime.lock"], cwd=ROOT, check=True)
    finally:
        (ROOT / "uv.lock").unlink(missing_ok=True)
    print("requirements/dev.lock and requirements/runtime.lock updated")


if __name__ == "__main__":
    main()
