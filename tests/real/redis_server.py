"""A real redis-server (Debian's) in cluster mode on a free loopback port, for as long as a ``with`` block runs.

MemoryDB runs Redis OSS (7.x) or Valkey (7.2+) always in cluster mode; one node that owns all 16,384 slots is the
smallest such server. Every wait is bounded and the server is stopped on the way out, even when a test fails.
"""

from __future__ import annotations

import contextlib
import random
import socket
import subprocess
import time
from pathlib import Path
from typing import Callable, Iterator

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

START_TIMEOUT_S = 10.0
"""How long the server may take to answer PING and then to report ``cluster_state:ok``."""


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _free_port() -> int:
    """A loopback port that is free, and whose cluster bus port (10,000 higher, at most 65,535) is free too."""
    for _ in range(100):
        port = random.randint(20000, 55535)
        if _bindable(port) and _bindable(port + 10000):
            return port
    raise RuntimeError("no free pair of loopback ports for redis-server and its cluster bus")


def _until(what: str, check: Callable[[], bool], deadline: float) -> None:
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"redis-server: no {what} within {START_TIMEOUT_S} s")
        time.sleep(0.02)


@contextlib.contextmanager
def cluster_mode_server(directory: Path) -> Iterator[redis.Redis]:
    """Start ``redis-server`` in cluster mode on 127.0.0.1, yield an administrator's connection, stop it.

    Another process may take the chosen port between the check and the start: then the server exits at once and
    the start is tried again on other ports (three times at most)."""
    for attempt in range(3):
        try:
            with _started(directory / str(attempt)) as admin:
                yield admin
                return
        except _PortTaken:
            continue
    raise RuntimeError("redis-server: the ports were taken three times")


class _PortTaken(Exception):
    pass


@contextlib.contextmanager
def _started(directory: Path) -> Iterator[redis.Redis]:
    directory.mkdir(parents=True)
    port = _free_port()
    process = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--protected-mode", "yes",
         "--cluster-enabled", "yes", "--cluster-config-file", str(directory / "nodes.conf"),
         "--dir", str(directory), "--save", "", "--appendonly", "no", "--daemonize", "no",
         "--logfile", str(directory / "redis.log")],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # No retries: a wait that fails is tried again by the bounded loop below, which also notices the server's exit.
    admin = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5, decode_responses=True, retry=Retry(NoBackoff(), 0))
    try:
        deadline = time.monotonic() + START_TIMEOUT_S

        def answers() -> bool:
            if process.poll() is not None:
                log = (directory / "redis.log").read_text()
                if "Address already in use" in log:
                    raise _PortTaken(log)
                raise RuntimeError(f"redis-server exited with {process.returncode}: {log}")
            try:
                return bool(admin.ping())
            except (redis.ConnectionError, redis.TimeoutError):  # not listening yet, or another process's port
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
