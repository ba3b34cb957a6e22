"""A real redis-server (Debian's) in cluster mode on a free loopback port, from start to stop.

MemoryDB runs Redis OSS (7.x) or Valkey (7.2+) always in cluster mode; one node that owns all 16,384 slots is the
smallest such server. Every wait is bounded and the server is stopped on the way out, even when a test fails.
"""

from __future__ import annotations

import random
import socket
import subprocess
import time
from pathlib import Path
from typing import Callable

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


class ClusterModeServer:
    """A ``redis-server`` in cluster mode on 127.0.0.1 owning all slots, started by the constructor, which returns as
    soon as it answers; :meth:`ready` waits until it reports ``cluster_state:ok``. A fresh master does so only about
    2 s after it starts (measured here; redis's ``CLUSTER_WRITABLE_DELAY``), so a caller can start it early and use
    that time. :meth:`stop` stops it.

    Another process may take the chosen port between the check and the start: then the server exits at once and the
    start is tried again on other ports (three times at most)."""

    def __init__(self, directory: Path) -> None:
        for attempt in range(3):
            try:
                self.process, self.admin = _start(directory / str(attempt))
                self._deadline = time.monotonic() + START_TIMEOUT_S
                return
            except _PortTaken:
                continue
        raise RuntimeError("redis-server: the ports were taken three times")

    def ready(self) -> redis.Redis:
        """An administrator's connection once the cluster is up (bounded by :data:`START_TIMEOUT_S`)."""
        _until("cluster_state:ok", lambda: "cluster_state:ok" in self.admin.execute_command("CLUSTER", "INFO"),
               self._deadline)
        return self.admin

    def stop(self) -> None:
        """Stop the server (terminate, then kill after 5 s)."""
        _stop(self.process, self.admin)


class _PortTaken(Exception):
    pass


def _start(directory: Path) -> tuple[subprocess.Popen[bytes], redis.Redis]:
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

        _until("PING answer", answers, time.monotonic() + START_TIMEOUT_S)
        admin.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
        return process, admin
    except BaseException:
        _stop(process, admin)
        raise


def _stop(process: subprocess.Popen[bytes], admin: redis.Redis) -> None:
    admin.close()
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
