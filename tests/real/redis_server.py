"""A real redis-server (Debian's) in cluster mode on a free loopback port, for as long as a ``with`` block runs.

MemoryDB runs Redis OSS (7.x) or Valkey (7.2+) always in cluster mode; one node that owns all 16,384 slots is the
smallest such server. Every wait is bounded and the server is stopped on the way out, even when a test fails.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from pathlib import Path
from typing import Callable, Iterator

import redis

START_TIMEOUT_S = 10.0
"""How long the server may take to answer PING and then to report ``cluster_state:ok``."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _until(what: str, check: Callable[[], bool], deadline: float) -> None:
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"redis-server: no {what} within {START_TIMEOUT_S} s")
        time.sleep(0.02)


@contextlib.contextmanager
def cluster_mode_server(directory: Path) -> Iterator[redis.Redis]:
    """Start ``redis-server`` in cluster mode on 127.0.0.1, yield an administrator's connection, stop it."""
    port = _free_port()
    process = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--protected-mode", "yes",
         "--cluster-enabled", "yes", "--cluster-config-file", str(directory / "nodes.conf"),
         "--dir", str(directory), "--save", "", "--appendonly", "no", "--daemonize", "no",
         "--logfile", str(directory / "redis.log")],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    admin = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5, decode_responses=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S

        def answers() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {process.returncode}: {(directory / 'redis.log').read_text()}")
            try:
                return bool(admin.ping())
            except redis.ConnectionError:
                return False

        _until("PING answer", answers, deadline)
        admin.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
        _until("cluster_state:ok", lambda: "cluster_state:ok" in admin.execute_command("CLUSTER", "INFO"), deadline)
        yield admin
    finally:
        admin.close()
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
