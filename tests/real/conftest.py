"""Fixtures of the tests against real components: a cluster-mode Redis with the MemoryDB user JuiceFS logs in as."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

import pytest
import redis

from ..templates import Synth
from .redis_server import cluster_mode_server


@dataclass(frozen=True)
class JuiceFsUser:
    """The ACL user made from the synthesized template's access string, on a server of its own."""

    admin: redis.Redis
    port: int
    name: str
    password: str
    access_string: str


@pytest.fixture(scope="session")
def juicefs_user(synth: Callable[[str], Synth], tmp_path_factory: pytest.TempPathFactory) -> Iterator[JuiceFsUser]:
    """A cluster-mode redis-server whose user ``juicefs`` has the access string of the ``juicefs`` configuration's
    ``AWS::MemoryDB::User``, read from the template (not from the Python constant). One per test process: each
    test that uses it starts by flushing what an earlier one left."""
    access_string = synth("juicefs").one("AWS::MemoryDB::User")["Properties"]["AccessString"]
    with cluster_mode_server(tmp_path_factory.mktemp("redis")) as admin:
        password = "a-test-password-of-16+"
        admin.execute_command("ACL", "SETUSER", "juicefs", "reset", *access_string.split(), f">{password}")
        admin.execute_command("ACL", "LOG", "RESET")
        yield JuiceFsUser(admin, admin.connection_pool.connection_kwargs["port"], "juicefs", password, access_string)
