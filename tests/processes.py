"""The hub as a separate process, for tests that run it the way a user does."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx


def serve_command(config: Path, port: int, *, workers: int = 1) -> list[str]:
    """``expediter serve`` on loopback, warnings only (the installed entry point may be absent)."""
    command = [sys.executable, "-c", "from expediter.cli import main; main()", "serve", str(config)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    return [*command, "--log-level", "warning"]


def wait_healthy(base: str, process: subprocess.Popen[bytes], *, timeout: float = 30.0) -> None:
    """Poll ``/healthz`` until the server answers; fail if it exits or takes over ``timeout``."""
    deadline = time.monotonic() + timeout
    while process.poll() is None:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"the server did not answer within {timeout:.0f} s")
        time.sleep(0.05)  # polling for readiness, not hiding a race
    raise AssertionError(f"the server exited with {process.returncode}")
