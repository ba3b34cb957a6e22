"""Settings the boot-script tests render with, as the constructs pass them, and helpers to look at a run."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

from ..standins import Run, run_script

NODE_COMMON = {"FATAL_SHUTDOWN_MINUTES": 1}
EFS = {**NODE_COMMON, "FILE_SYSTEM_ID": "fs-0123456789abcdef0", "ACCESS_POINT_ID": "fsap-0123456789abcdef0",
       "MOUNT_POINT": "/mmc-checkpoint"}
NODE = {
    **NODE_COMMON,
    "AGENT_MODE": "required",
    "AGENT_WAIT_SECONDS": 900,
    "MMAB_ADDRESS": "mmab.mmbatch.internal",
    "MMAB_PORT": 8080,
    "MMAB_VERSION": "1.4.0-release",
    "BOOT_CHECK_SECONDS": 600,
    "ECS_STOP_TIMEOUT": "110s",
    "ECS_START_TIMEOUT": "16m",
    "ECS_CREATE_TIMEOUT": "15m",
}
NODE_ABSENT = {**NODE, "AGENT_MODE": "absent"}
SERVER = {"MMAB_VERSION": "1.4.0-release", "MMAB_PORT": 8080, "CKPT_INTERVAL": "15m", "MMAB_SHA256": ""}

JUICEFS_RELEASE = "https://github.com/juicedata/juicefs/releases/download/v{version}/juicefs-{version}-linux-{arch}.tar.gz"
JUICEFS_COMMON = {
    "JUICEFS_VERSION": "1.3.1",
    "JUICEFS_SOURCE": JUICEFS_RELEASE,
    "JUICEFS_SHA256": "",
    "AWS_REGION": "eu-west-1",
    "SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mmbatch-juicefs-AbCdEf",
    "META_USER": "mmbatch-juicefs",
    "META_DB": 1,
}
JUICEFS_MOUNT = {
    **NODE_COMMON,
    **JUICEFS_COMMON,
    "VOLUMES": "checkpoint:mmbatch-checkpoint:/mmc-checkpoint scratch:mmbatch-scratch:/mmc-scratch",
    "CACHE_DIR": "/var/jfsCache",
    "CACHE_SIZE_MIB": 51200,
    "MAX_UPLOADS": 40,
    "BUFFER_SIZE_MIB": 300,
    "FORMAT_WAIT_ATTEMPTS": 40,
}
JUICEFS_FORMAT = {
    **JUICEFS_COMMON,
    "VOLUMES": "checkpoint:mmbatch-checkpoint:mmbatch-checkpoint-bucket scratch:mmbatch-scratch:mmbatch-scratch-bucket",
    "BLOCK_SIZE_KIB": 4096,
    "CLUSTER_WAIT_ATTEMPTS": 45,
    "AWS_URL_SUFFIX": "amazonaws.com",
}
SECRET = "s3cr3t-Password-0123456789abcdef"

INSTALLER = 'echo "pagent installer ran" >>"$MMB_ROOT/installer.log"\n'
"""A stand-in pagent installer, served by the stand-in curl."""
BOOT_LOG = "/var/log/mmbatch/boot.log"
FATAL = "mmbatch: FATAL "
SHUTDOWN = "; shutting down so AWS Batch replaces this node"


def run_gate(tmp: Path, root: Path, mounted: bool = True) -> Run:
    """Run the installed ECS gate the way ecs.service's ExecStartPre would."""
    env = {"STANDIN_MOUNTED": "/mmc-checkpoint"} if mounted else {}
    return run_script("", tmp, env, root=root, path=root / "usr/local/sbin/mmbatch-gate")


def run_installed_agent_unit(tmp: Path, root: Path, env: dict[str, str]) -> Run:
    """Run what mmbatch-agent-install.service runs: the installed copy of node_bootstrap.sh."""
    return run_script("", tmp, env, root=root, path=root / "usr/local/sbin/mmbatch-node-bootstrap", args=("install-agent",))


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``root`` but the logs, with its content and mode: what a second run must not change."""
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mode)
            for p in sorted(root.rglob("*")) if p.is_file() and "var/log" not in str(p)}


def juicefs_release(tmp: Path, version: str = "1.3.1") -> tuple[Path, dict[str, str]]:
    """A stand-in JuiceFS release directory: a tarball per architecture and their checksums.txt."""
    directory = tmp / "release"
    directory.mkdir()
    digests = {}
    for arch in ("amd64", "arm64"):
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            data = f"#!/bin/sh\necho juicefs {arch}\n".encode()
            info = tarfile.TarInfo("juicefs")
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
        name = f"juicefs-{version}-linux-{arch}.tar.gz"
        (directory / name).write_bytes(buffer.getvalue())
        digests[arch] = hashlib.sha256(buffer.getvalue()).hexdigest()
    (directory / "checksums.txt").write_text(
        "".join(f"{digest}  juicefs-{version}-linux-{arch}.tar.gz\n" for arch, digest in digests.items())
    )
    return directory, digests



def storage_root(tmp: Path) -> Path:
    """A root where the storage part (EFS) has run: the gate is installed and /mmc-checkpoint mounted."""
    from mmbatch_cdk.user_data import render

    run = run_script(render("efs_mount.sh", EFS), tmp / "storage")
    assert run.returncode == 0, run.stderr
    return run.root
