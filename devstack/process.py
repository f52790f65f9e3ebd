"""Child processes of the dev stack: started apart from the terminal, stopped in order."""

import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

PR_SET_PDEATHSIG = 1
ROOT = Path(__file__).resolve().parent.parent


def _parent_death_hook() -> Callable[[], None] | None:
    # Linux only: the kernel sends SIGTERM to the child when the stack process dies, even by
    # SIGKILL, so no server is left holding a port. Resolved here, before any fork, so the
    # child runs nothing but the call itself.
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    prctl = ctypes.CDLL(name, use_errno=True).prctl
    parent = os.getpid()

    def hook() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return hook


_HOOK = _parent_death_hook()


def spawn(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stdout: IO[bytes] | int | None = None,
) -> "subprocess.Popen[bytes]":
    """Start a child in its own session, so a terminal Ctrl-C reaches only the stack process,
    which then stops the children in dependency order; the child dies with its parent."""
    return subprocess.Popen(
        list(args),
        env=dict(env) if env is not None else None,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.STDOUT if stdout is not None else None,
        start_new_session=True,
        preexec_fn=_HOOK,
    )


def stop(
    process: "subprocess.Popen[bytes]",
    timeout: float,
    *,
    hurry: Callable[[], bool] = lambda: False,
) -> int:
    """SIGTERM, wait up to `timeout` seconds (less once `hurry()` turns true), then SIGKILL.

    Returns the exit code.
    """
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while process.poll() is None and time.monotonic() < deadline and not hurry():
            time.sleep(0.1)
        if process.poll() is None:
            process.kill()
    return process.wait()


def worker_command() -> list[str]:
    """`python worker.py`: run it with ROOT as the working directory."""
    return [sys.executable, str(ROOT / "worker.py")]


def api_command(host: str, port: int) -> list[str]:
    """The API under uvicorn: run it with ROOT as the working directory."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "api.app:create_app",
        "--factory",
        "--host",
        host,
        "--port",
        str(port),
    ]
