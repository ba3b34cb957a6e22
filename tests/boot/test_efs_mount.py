"""efs_mount.sh run for real: fstab, the mount and its retries, the efs-utils version check."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmbatch_cdk.user_data import render

from ..standins import run_script
from .values import BOOT_LOG, EFS

FSTAB_LINE = "fs-0123456789abcdef0:/ /mmc-checkpoint efs _netdev,noresvport,tls,iam,accesspoint=fsap-0123456789abcdef0 0 0"


def test_efs_mount_writes_fstab_once_and_mounts(tmp_path: Path) -> None:
    script = render("efs_mount.sh", EFS)
    first = run_script(script, tmp_path / "a")
    assert first.returncode == 0, first.stderr
    assert first.file("/etc/fstab") == FSTAB_LINE + "\n"
    assert "mount /mmc-checkpoint" in first.calls
    assert not any(c.startswith("dnf") for c in first.calls), "efs-utils present: nothing to install"
    assert (first.root / "mmc-checkpoint").is_dir()
    # A re-run (reboot, or cloud-init run again) adds no second line and does not mount twice.
    again = run_script(script, tmp_path / "b", {"STANDIN_MOUNTED": "/mmc-checkpoint"}, root=first.root)
    assert again.returncode == 0, again.stderr
    assert again.file("/etc/fstab") == FSTAB_LINE + "\n"
    assert "mount /mmc-checkpoint" not in again.calls


def test_efs_mount_installs_efs_utils_when_missing(tmp_path: Path) -> None:
    run = run_script(render("efs_mount.sh", EFS), tmp_path, omit=("mount.efs",))
    assert run.returncode == 0, run.stderr
    assert run.calls[1] == "dnf install -y amazon-efs-utils"


@pytest.mark.parametrize("version, line", [
    ("2.1.0", "amazon-efs-utils 2.1.0"),
    ("1.36.0", "WARNING: amazon-efs-utils 1.36.0 limits this node to 500 MiB/s on EFS"),
    ("", "WARNING: amazon-efs-utils of unknown version limits this node to 500 MiB/s on EFS"),
])
def test_efs_mount_logs_whether_efs_utils_allows_full_client_throughput(tmp_path: Path, version: str, line: str) -> None:
    result = run_script(render("efs_mount.sh", EFS), tmp_path, {"STANDIN_RPM_VERSION": version})
    assert result.returncode == 0, result.stderr
    assert line in result.file(BOOT_LOG)


def test_efs_mount_replaces_a_stale_entry_and_keeps_others(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    other = "UUID=abc / xfs defaults 0 0"
    (root / "etc/fstab").write_text(f"{other}\nfs-old:/ /mmc-checkpoint efs _netdev,tls 0 0\n")
    run = run_script(render("efs_mount.sh", EFS), tmp_path, root=root)
    assert run.returncode == 0, run.stderr
    assert run.file("/etc/fstab") == f"{other}\n{FSTAB_LINE}\n"


def test_efs_mount_adds_its_entry_when_only_a_commented_out_copy_is_there(tmp_path: Path) -> None:
    """Only a whole, uncommented line counts as present: a commented-out copy still gets the live entry after it."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/fstab").write_text(f"# {FSTAB_LINE}\n")
    run = run_script(render("efs_mount.sh", EFS), tmp_path, root=root)
    assert run.returncode == 0, run.stderr
    assert run.file("/etc/fstab") == f"# {FSTAB_LINE}\n{FSTAB_LINE}\n"
    assert not (root / "etc/fstab.mmbatch").exists(), "the rewrite leaves no working copy"


def test_efs_mount_retries_until_the_mount_target_resolves(tmp_path: Path) -> None:
    # A new mount target's DNS name can take a minute or two: the mount fails a few times, then works.
    run = run_script(render("efs_mount.sh", EFS), tmp_path, {"STANDIN_MOUNT_FAILS": "3"})
    assert run.returncode == 0, run.stderr
    assert run.calls.count("mount /mmc-checkpoint") == 4
    assert [c for c in run.calls if c.startswith("sleep")] == ["sleep 2", "sleep 4", "sleep 8"]
    assert not any(c.startswith("shutdown") for c in run.calls)


def test_efs_mount_gives_up_after_a_bounded_wait(tmp_path: Path) -> None:
    run = run_script(render("efs_mount.sh", EFS), tmp_path, {"STANDIN_MOUNT_FAILS": "99"})
    assert run.returncode == 1
    assert run.calls.count("mount /mmc-checkpoint") == 12
    assert run.calls.count("sleep 30") == 7  # 2, 4, 8, 16, then capped at 30
    assert run.waited == 240
    assert "FATAL efs-mount: could not mount fs-0123456789abcdef0 at /mmc-checkpoint" in run.stderr


def test_efs_mount_needs_its_settings(tmp_path: Path) -> None:
    run = run_script(render("efs_mount.sh", {"MOUNT_POINT": "/mmc-checkpoint", "FATAL_SHUTDOWN_MINUTES": 1}), tmp_path)
    assert run.returncode != 0
    assert "FILE_SYSTEM_ID" in run.stderr
