"""Instructions the API spends per posted activity, counted by callgrind: a figure that the load
of a shared machine does not move, where CPU seconds per activity vary by half from one run to
the next.

    .venv/bin/python -m bench.api_instructions --stack-pid <devstack pid> [--posts 100]

Against a running stack (`make run`): starts a second API process under
`valgrind --tool=callgrind`, with the environment of the stack's own API (its database and
Temporal), on a free port. It makes 4 leads, warms the process with 40 posts (prepared
statements, pools), dumps and so zeroes the counters, posts `--posts` `email_sent` activities
to the leads 4 at a time, dumps again, and prints the instructions per activity: everything
the process ran meanwhile, the request path and its delivery to the lead's workflow. Needs
valgrind (Debian's package `valgrind`); the process runs about 50 times slower under it.
"""

import argparse
import asyncio
import os
import socket
import subprocess
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.stack import admin_headers
from devstack.process import ROOT, api_command

LEADS = 4
WARM_POSTS = 40
AT_ONCE = 4


def api_environment(stack_pid: int) -> dict[str, str]:
    """The environment of the stack's API process (a child of the devstack process)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if int(stat.rpartition(")")[2].split()[1]) == stack_pid and "uvicorn" in cmdline:
                pairs = (entry / "environ").read_bytes().split(b"\0")
                return dict(p.decode().partition("=")[::2] for p in pairs if b"=" in p)
        except (OSError, ValueError):
            continue
    raise SystemExit(f"no API process under the devstack process {stack_pid}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dumped_instructions(pid: int, out_dir: Path) -> int:
    """Dump the process's counters (which zeroes them) -> the instructions since the last dump."""
    before = set(out_dir.iterdir())
    subprocess.run(["callgrind_control", "--dump", str(pid)], check=True, capture_output=True)
    (dump,) = set(out_dir.iterdir()) - before
    for line in dump.read_text().splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])
    raise RuntimeError(f"no totals in {dump}")


async def post_activities(api: httpx.AsyncClient, leads: list[int], count: int) -> None:
    sem = asyncio.Semaphore(AT_ONCE)

    async def post(i: int) -> None:
        async with sem:
            response = await api.post(
                "/v1/activities",
                json={
                    "event_id": f"instructions-{uuid.uuid4().hex}",
                    "type": "email_sent",
                    "occurred_at": datetime.now(UTC).isoformat(),
                    "lead_id": leads[i % len(leads)],
                },
            )
            response.raise_for_status()

    await asyncio.gather(*(post(i) for i in range(count)))


async def measure(
    base_url: str, headers: dict[str, str], pid: int, out_dir: Path, posts: int
) -> float:
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=600) as api:
        for _ in range(600):
            try:
                if (await api.get("/v1/readyz")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            await asyncio.sleep(1)
        leads = []
        for i in range(LEADS):
            contact = await api.post(
                "/v1/contacts",
                json={
                    "first_name": f"Count{i}",
                    "email": f"count-{uuid.uuid4().hex[:8]}@example.com",
                },
            )
            lead = await api.post("/v1/leads", json={"contact_id": contact.json()["id"]})
            leads.append(lead.json()["id"])
        await post_activities(api, leads, WARM_POSTS)
        dumped_instructions(pid, out_dir)
        await post_activities(api, leads, posts)
        return dumped_instructions(pid, out_dir) / posts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stack-pid", type=int, required=True, help="the devstack process")
    parser.add_argument("--posts", type=int, default=100)
    parser.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("LEADPIPE_DATA_DIR", ".leadpipe"))
    )
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as out:
        out_dir = Path(out)
        process = subprocess.Popen(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out_dir}/callgrind.out",
                *api_command("127.0.0.1", port),
            ],
            env={**os.environ, **api_environment(args.stack_pid)},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            per_post = asyncio.run(
                measure(
                    f"http://127.0.0.1:{port}",
                    admin_headers(args.data_dir),
                    process.pid,
                    out_dir,
                    args.posts,
                )
            )
        finally:
            process.terminate()
            process.wait()
    print(f"API instructions per activity  {per_post / 1e6:8.2f} M  ({args.posts} posts)")


if __name__ == "__main__":
    main()
