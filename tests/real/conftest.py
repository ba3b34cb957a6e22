"""Fixtures of the tests against real components: a cluster-mode Redis with the MemoryDB user JuiceFS logs in as."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, Optional

import pytest
import redis

from .. import debian
from ..templates import Synth
from .redis_server import ClusterModeServer


@dataclass(frozen=True)
class JuiceFsUser:
    """The ACL user made from the synthesized template's access string, on a server of its own."""

    admin: redis.Redis
    port: int
    name: str
    password: str
    access_string: str


@pytest.fixture(scope="session", autouse=True)
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Optional[ClusterModeServer]]:
    """The cluster-mode redis-server of this process, started when the first test of this directory runs, so that its
    2 s to a usable cluster pass while the tests before the Redis ones run; None without Debian's redis-server."""
    if not debian.installed("redis-server"):
        yield None
        return
    server = ClusterModeServer(tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def juicefs_user(synth: Callable[[str], Synth], redis_cluster: Optional[ClusterModeServer]) -> JuiceFsUser:
    """The cluster-mode redis-server's user ``juicefs``, with the access string of the ``juicefs`` configuration's
    ``AWS::MemoryDB::User``, read from the template (not from the Python constant). One per test process: each
    test that uses it starts by flushing what an earlier one left."""
    assert redis_cluster is not None, "needs_deb('redis-server') skips or fails such a test before its fixtures"
    access_string = synth("juicefs").one("AWS::MemoryDB::User")["Properties"]["AccessString"]
    admin = redis_cluster.ready()
    password = "a-test-password-of-16+"
    admin.execute_command("ACL", "SETUSER", "juicefs", "reset", *access_string.split(), f">{password}")
    admin.execute_command("ACL", "LOG", "RESET")
    return JuiceFsUser(admin, admin.connection_pool.connection_kwargs["port"], "juicefs", password, access_string)
