"""The MemoryDB user's access string against a real cluster-mode Redis: what JuiceFS 1.3.1 (go-redis 9.7.3) sends
is allowed, what it must not have is refused.

The commands are replayed from the sources, not taken from the access string, so a command missing from it fails
here: go-redis ``redis.go`` (``baseClient.initConn``) and ``osscluster.go`` for the connection; JuiceFS
``pkg/meta/redis.go`` (``newRedisMeta``, ``doInit``, ``doLoad``, ``doNewSession``, ``doRefreshSession``,
``doFindStaleSessions``, ``doCleanStaleSession``, the WATCH/MULTI/EXEC ``txn`` of each metadata update,
``ListSlices``/``scanAllChunks`` and ``doDeleteSlice`` for gc), ``redis_lock.go`` (flock/plock) and
``redis_bak.go`` (dump: ``DBSIZE`` and ``SCAN`` over every key type). tests/real/test_juicefs_client.py runs the
real client as well.
"""

from __future__ import annotations

from typing import Any

import pytest
import redis

from .conftest import JuiceFsUser

pytestmark = pytest.mark.needs_deb("redis-server")

P = "{1}"
"""The key prefix JuiceFS uses on a cluster-mode server for a volume URL ending in /1 (redis.go newRedisMeta)."""

REPLAY: dict[str, list[tuple[Any, ...]]] = {
    # juicefs format: doLoad reads the setting, doInit writes it, the root inode and the counters.
    "format": [
        ("INFO",), ("PING",), ("GET", f"{P}setting"), ("SETNX", f"{P}setting", "{}"), ("SET", f"{P}setting", "{}"),
        ("SET", f"{P}i1", "attr"), ("INCRBY", f"{P}nextinode", 2), ("INCRBY", f"{P}nextchunk", 1),
        ("MSET", f"{P}usedSpace", 0, f"{P}totalInodes", 0), ("DBSIZE",),
    ],
    # juicefs mount: a new session (id counter, heartbeat score, session info), scripts loaded, counters read.
    "mount": [
        ("INCR", f"{P}nextsession"), ("ZADD", f"{P}allSessions", 1700000000, 7),
        ("HSET", f"{P}sessionInfos", 7, "{}"), ("SCRIPT", "LOAD", "return 1"),
        ("MGET", f"{P}usedSpace", f"{P}totalInodes"), ("HGETALL", f"{P}dirQuota"), ("ZADD", f"{P}allSessions", "XX", 1700000012, 7),
        ("COMMAND", "COUNT"),
    ],
    # Normal file I/O: every update is WATCH ... MULTI ... EXEC on the inode, entry, chunk and counter keys.
    "file I/O": [
        ("WATCH", f"{P}i1", f"{P}d1"), ("GET", f"{P}i1"), ("HGET", f"{P}d1", "a"), ("HEXISTS", f"{P}d1", "a"),
        ("MULTI",), ("SET", f"{P}i2", "attr"), ("HSET", f"{P}d1", "a", "entry"), ("HSETNX", f"{P}d1", "b", "entry"),
        ("INCRBY", f"{P}usedSpace", 4096), ("INCR", f"{P}totalInodes"), ("EXEC",),
        ("RPUSH", f"{P}c2_0", "slice"), ("RPUSHX", f"{P}c2_0", "slice"), ("LPUSH", f"{P}c2_0", "slice"),
        ("LRANGE", f"{P}c2_0", 0, -1), ("LLEN", f"{P}c2_0"), ("LTRIM", f"{P}c2_0", 0, 1),
        ("HMSET", f"{P}x2", "user.a", "b"), ("HMGET", f"{P}x2", "user.a"), ("HKEYS", f"{P}x2"), ("HLEN", f"{P}d1"),
        ("HSCAN", f"{P}d1", 0, "COUNT", 100), ("HINCRBY", f"{P}sliceRef", "k1_4096", 1),
        ("HINCRBY", f"{P}dirUsedSpace", 1, 4096), ("DECRBY", f"{P}usedSpace", 4096), ("DECR", f"{P}totalInodes"),
        ("HSET", f"{P}lockf2", "7_1", "W"), ("SADD", f"{P}locked7", f"{P}lockf2"), ("SMEMBERS", f"{P}locked7"),
        ("WATCH", f"{P}i2"), ("UNWATCH",), ("MULTI",), ("DISCARD",),
        ("ZADD", f"{P}delfiles", 1700000000, "2:4096"), ("ZSCORE", f"{P}delfiles", "2:4096"),
        ("ZRANGEBYSCORE", f"{P}delfiles", "-inf", "+inf", "LIMIT", 0, 10), ("ZREM", f"{P}delfiles", "2:4096"),
        ("HDEL", f"{P}d1", "b"), ("DEL", f"{P}i2"), ("EXISTS", f"{P}i1"),
    ],
    # A stale session's cleanup: found by its heartbeat score, locks released, sustained inodes, info removed.
    "session cleanup": [
        ("ZRANGEBYSCORE", f"{P}allSessions", "-inf", 1700000100, "LIMIT", 0, 1000), ("HGET", f"{P}sessionInfos", 7),
        ("SMEMBERS", f"{P}locked7"), ("HKEYS", f"{P}lockf2"), ("HDEL", f"{P}lockf2", "7_1"),
        ("SREM", f"{P}locked7", f"{P}lockf2"), ("SMEMBERS", f"{P}session7"), ("HDEL", f"{P}sessionInfos", 7),
        ("ZREM", f"{P}allSessions", 7),
    ],
    # juicefs gc: every chunk and the slices pending deletion, leaked ones deleted.
    "gc": [
        ("SCAN", 0, "MATCH", f"{P}c*", "COUNT", 10000), ("ZRANGE", f"{P}delSlices", 0, -1),
        ("HSCAN", f"{P}sliceRef", 0, "COUNT", 10000), ("HDEL", f"{P}sliceRef", "k1_4096"), ("DEL", f"{P}c2_0"),
    ],
    # juicefs dump: the key count, then every key by type.
    "dump": [
        ("DBSIZE",), ("SCAN", 0, "MATCH", f"{P}*", "COUNT", 10000), ("MGET", f"{P}i1", f"{P}setting"),
        ("HGETALL", f"{P}x2"), ("HSCAN", f"{P}d1", 0, "COUNT", 10000), ("ZRANGE", f"{P}allSessions", 0, -1, "WITHSCORES"),
        ("CLUSTER", "SLOTS"), ("INFO",),
    ],
}

REFUSED: list[tuple[Any, ...]] = [
    ("FLUSHDB",), ("FLUSHALL",), ("KEYS", "*"), ("CONFIG", "GET", "maxmemory-policy"), ("EVAL", "return 1", 0),
    ("EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", 0), ("SUBSCRIBE", "ch"), ("PUBLISH", "ch", "x"),
    ("PSUBSCRIBE", "*"), ("ACL", "LIST"), ("SHUTDOWN",), ("CLUSTER", "RESET"),
]


def _connect(user: JuiceFsUser) -> redis.Connection:
    """go-redis's connect: HELLO 3 with AUTH (redis-py's on_connect for protocol 3)."""
    connection = redis.Connection(host="127.0.0.1", port=user.port, username=user.name, password=user.password,
                                  protocol=3, socket_timeout=5)
    connection.connect()
    return connection


def _run(connection: redis.Connection, command: tuple[Any, ...]) -> Any:
    connection.send_command(*command)
    return connection.read_response()


def test_go_redis_connects_and_the_select_error_puts_juicefs_in_cluster_mode(juicefs_user: JuiceFsUser) -> None:
    connection = _connect(juicefs_user)
    try:
        # initConn pipelines SELECT 1 for a URL ending in /1; newRedisMeta takes an error containing "cluster mode"
        # as the sign to use the cluster client (which never selects) with the {1} key prefix.
        with pytest.raises(redis.ResponseError) as error:
            _run(connection, ("SELECT", 1))
        assert "cluster mode" in str(error.value), str(error.value)
        slots = _run(connection, ("CLUSTER", "SLOTS"))
        assert slots and slots[0][:2] == [0, 16383], slots
    finally:
        connection.disconnect()


@pytest.mark.parametrize("phase", list(REPLAY))
def test_each_command_juicefs_sends_is_allowed(juicefs_user: JuiceFsUser, phase: str) -> None:
    juicefs_user.admin.flushall()
    juicefs_user.admin.execute_command("ACL", "LOG", "RESET")
    connection = _connect(juicefs_user)
    try:
        for command in REPLAY[phase]:
            try:
                _run(connection, command)
            except redis.ResponseError as error:
                if str(error).startswith("NOPERM") or "no permissions" in str(error):
                    pytest.fail(f"{phase}: {' '.join(map(str, command))} -> {error}")
                raise
    finally:
        connection.disconnect()
    denied = juicefs_user.admin.execute_command("ACL", "LOG")
    assert not denied, denied


@pytest.mark.parametrize("command", REFUSED, ids=lambda c: " ".join(map(str, c[:2])))
def test_what_juicefs_must_not_have_is_refused(juicefs_user: JuiceFsUser, command: tuple[Any, ...]) -> None:
    connection = _connect(juicefs_user)
    try:
        with pytest.raises(redis.ResponseError, match="^NOPERM|no permissions"):
            _run(connection, command)
    finally:
        connection.disconnect()
    juicefs_user.admin.execute_command("ACL", "LOG", "RESET")
