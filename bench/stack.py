"""What every benchmark needs to reach a running stack (`make run`): addresses and the token."""

import argparse
import os
from pathlib import Path


def stack_arguments(description: str | None, *, concurrency: int) -> argparse.ArgumentParser:
    """A parser with the stack's addresses, the data dir, --leads, --concurrency and --rounds."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--api", default=f"http://127.0.0.1:{os.environ.get('LEADPIPE_API_PORT', '8000')}"
    )
    parser.add_argument(
        "--temporal",
        default=os.environ.get(
            "LEADPIPE_TEMPORAL_ADDRESS",
            f"127.0.0.1:{os.environ.get('LEADPIPE_TEMPORAL_PORT', '7233')}",
        ),
    )
    parser.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("LEADPIPE_DATA_DIR", ".leadpipe"))
    )
    parser.add_argument("--leads", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=concurrency)
    parser.add_argument(
        "--rounds", type=int, default=1, help="repeat the measurements; medians follow"
    )
    return parser


def admin_headers(data_dir: Path) -> dict[str, str]:
    """LEADPIPE_ADMIN_TOKEN, else the token `make run` keeps in the data dir."""
    token = os.environ.get("LEADPIPE_ADMIN_TOKEN") or (data_dir / "admin-token").read_text().strip()
    return {"Authorization": f"Bearer {token}"}
