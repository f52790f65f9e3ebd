"""The deployed processes, for tests that kill and restart them: API, worker, Temporal.

Each runs as its own process (started as `make run` starts them), its output in a file per
start, so a failing test can show what a process said before it died.
"""

import asyncio
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

import httpx
from temporalio.client import Client

from devstack import process
from devstack.temporal import LOG_FILE, register_search_attributes, start_dev_server
from devstack.temporal import wait_for_temporal as _wait_for_temporal
from services.orchestrator import connect


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stack_env(
    database_url: str, temporal_address: str, task_queue: str, data_dir: Path
) -> dict[str, str]:
    """The environment of an API or worker process of one test's stack."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "LEADPIPE_TEMPORAL_ADDRESS": temporal_address,
        "LEADPIPE_TASK_QUEUE": task_queue,
        "LEADPIPE_DATA_DIR": str(data_dir),
        "LEADPIPE_LOG_JSON": "false",
    }


class Service:
    """One deployed process: started, killed and started again under the same name."""

    def __init__(self, name: str, args: list[str], env: Mapping[str, str], log_dir: Path) -> None:
        self.name = name
        self._args = args
        self._env = dict(env)
        self._log_dir = log_dir
        self.starts = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log = log_dir / f"{name}-0.log"

    @property
    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, extra_env: Mapping[str, str] | None = None) -> None:
        """Start it; `extra_env` holds for this start only."""
        assert not self.is_running, f"{self.name} is already running"
        self.starts += 1
        self.log = self._log_dir / f"{self.name}-{self.starts}.log"
        env = {**self._env, **(extra_env or {})}
        with self.log.open("wb") as out:
            self.process = process.spawn(self._args, env=env, cwd=process.ROOT, stdout=out)

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind, as when a machine or container dies."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is not None:
            process.stop(self.process, timeout)

    def output(self) -> str:
        """What this start of the process said."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def all_output(self) -> str:
        """What every start of it said, oldest first."""
        logs = (self._log_dir / f"{self.name}-{n}.log" for n in range(1, self.starts + 1))
        return "".join(log.read_text(errors="replace") for log in logs if log.exists())

    async def ready(self, timeout: float = 30.0) -> None:
        """Until the process serves."""
        raise NotImplementedError

    def check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(
                f"{self.name} exited with {self.process.returncode}:\n{self.output()[-4000:]}"
            )


class ApiProcess(Service):
    def __init__(self, name: str, env: Mapping[str, str], log_dir: Path, port: int) -> None:
        super().__init__(name, process.api_command("127.0.0.1", port), env, log_dir)
        self.url = f"http://127.0.0.1:{port}"

    async def ready(self, timeout: float = 30.0) -> None:
        """Until it answers /healthz (it serves whether or not its dependencies are up)."""
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.url, timeout=2.0) as http:
            while time.monotonic() < deadline:
                self.check_alive()
                try:
                    if (await http.get("/v1/healthz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError(f"{self.name} did not answer in {timeout:.0f}s:\n{self.output()}")


class WorkerProcess(Service):
    def __init__(self, name: str, env: Mapping[str, str], log_dir: Path) -> None:
        super().__init__(name, process.worker_command(), env, log_dir)

    def says(self, text: str) -> bool:
        return text in self.output()

    async def ready(self, timeout: float = 30.0) -> None:
        """Until this start of it says it polls its queue."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            if self.says("worker started"):
                return
            await asyncio.sleep(0.2)
        raise AssertionError(f"{self.name} did not start in {timeout:.0f}s:\n{self.output()}")


class TemporalServer:
    """`temporal server start-dev` with its state in a file, so a restart keeps every workflow."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.ui_port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = start_dev_server(self.data_dir, self.port, self.ui_port)

    async def ready(self, timeout: float = 60.0) -> Client:
        """Until it answers; returns a client of its own, as the API and the worker make them."""
        plain = await _wait_for_temporal(
            self.address, timeout=timeout, process=self.process, log_file=self.data_dir / LOG_FILE
        )
        await register_search_attributes(plain, plain.namespace)
        return await connect(self.address, plain.namespace)

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is not None:
            process.stop(self.process, timeout)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
