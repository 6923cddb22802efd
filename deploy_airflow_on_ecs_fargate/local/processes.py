"""Starting and stopping processes by PID: one process group per component, PID files, log files."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psutil


def start(command: list[str], env: dict[str, str], log_file: Path, pid_file: Path) -> subprocess.Popen[bytes]:
    """Start ``command`` in its own session (so its children can be stopped with it), output to ``log_file``."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting: {' '.join(command)}\n".encode())
        log.flush()
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file.write_text(str(process.pid), encoding="utf-8")
    return process


def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None


def alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def stop_groups(pids: list[int], timeout_seconds: float) -> None:
    """SIGTERM the process groups led by ``pids`` at once; SIGKILL what is left after the timeout."""
    members = [member for pid in pids for member in _group_members(pid)]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)
    _, survivors = psutil.wait_procs(members, timeout=timeout_seconds)
    for pid in pids:
        if survivors or alive(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
    for process in survivors:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(survivors, timeout=5)


def stop_group(pid: int, timeout_seconds: float) -> None:
    stop_groups([pid], timeout_seconds)


def _group_members(pid: int) -> list[psutil.Process]:
    members = []
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if os.getpgid(process.pid) == pid:
                members.append(process)
    return members


def marked_processes(variable: str, value: str) -> Iterator[psutil.Process]:
    """Processes whose environment holds ``variable=value`` (children that left their group included)."""
    own = os.getpid()
    for process in psutil.process_iter():
        if process.pid == own:
            continue
        with contextlib.suppress(psutil.Error, OSError):
            if process.environ().get(variable) == value:
                yield process


def kill_all(processes: list[psutil.Process], timeout_seconds: float) -> None:
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.terminate()
    _, survivors = psutil.wait_procs(processes, timeout=timeout_seconds)
    for process in survivors:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(survivors, timeout=5)


def write_pid(pid_file: Path, pid: int) -> None:
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file.write_text(str(pid), encoding="utf-8")
