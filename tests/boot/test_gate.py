"""Nodes fail closed: the ECS gate, and what a fatal boot error does (node_lib.sh)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmbatch_cdk.user_data import render

from ..standins import run_script
from .values import BOOT_LOG, EFS, FATAL, NODE, NODE_ABSENT, SERVER, SHUTDOWN, run_gate, storage_root

DROPIN = "/etc/systemd/system/ecs.service.d/mmbatch.conf"


def _gate_root(tmp: Path, agent: str = "installed for MMAB 1.4.0-release\n") -> Path:
    """A root with the gate installed (by a node script that stops right after it) and the agent state given."""
    run = run_script(render("efs_mount.sh", {}), tmp / "install")
    assert (run.root / "usr/local/sbin/mmbatch-gate").exists()
    (run.root / "var/lib/mmbatch/boot-failed").unlink()  # that run's missing settings were recorded as fatal
    if agent:
        (run.root / "var/lib/mmbatch/agent-ready").write_text(agent)
    return run.root


def test_gate_opens_only_with_the_mount_and_the_agent(tmp_path: Path) -> None:
    root = _gate_root(tmp_path)
    opened = run_gate(tmp_path / "open", root)
    assert opened.returncode == 0, opened.stdout
    assert opened.stdout == "mmbatch-gate: open: /mmc-checkpoint mounted; agent: installed for MMAB 1.4.0-release\n"
    unmounted = run_gate(tmp_path / "unmounted", root, mounted=False)
    assert unmounted.returncode == 1
    assert "/mmc-checkpoint is not mounted" in unmounted.stdout


def test_gate_stays_closed_without_the_agent(tmp_path: Path) -> None:
    root = _gate_root(tmp_path, agent="")
    run = run_gate(tmp_path / "gate", root)
    assert run.returncode == 1
    assert run.stdout == "mmbatch-gate: closed: the MMBatch agent is not installed\n"


def test_gate_stays_closed_after_a_fatal_boot_error(tmp_path: Path) -> None:
    root = _gate_root(tmp_path)
    (root / "var/lib/mmbatch/boot-failed").write_text(f"{FATAL}efs-mount: could not mount{SHUTDOWN}\n")
    run = run_gate(tmp_path / "gate", root)
    assert run.returncode == 1
    assert run.stdout.startswith("mmbatch-gate: closed: mmbatch: FATAL efs-mount: could not mount")


def test_gate_is_an_ecs_drop_in_exec_start_pre(tmp_path: Path) -> None:
    run = run_script(render("efs_mount.sh", EFS), tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.file(DROPIN).splitlines() == ["[Service]", "ExecStartPre=/usr/local/sbin/mmbatch-gate"]
    assert (run.root / "usr/local/sbin/mmbatch-gate").stat().st_mode & 0o777 == 0o755
    assert run.calls.index("systemctl daemon-reload") < run.calls.index("mount /mmc-checkpoint"), "gate first, then mount"


@pytest.mark.parametrize("name", ["efs_mount.sh", "juicefs_mount.sh"])
def test_the_storage_part_installs_the_gate_before_anything_can_fail(tmp_path: Path, name: str) -> None:
    # No settings at all: the script fails at once, and still leaves the gate behind.
    run = run_script(render(name, {}), tmp_path)
    assert run.returncode != 0
    assert (run.root / DROPIN.lstrip("/")).exists() and (run.root / "usr/local/sbin/mmbatch-gate").exists()
    assert run.calls[0] == "systemctl daemon-reload"
    assert run.calls[-1].startswith(f"shutdown -h +0 {FATAL}"), "a missing setting is fatal, and shuts down at once"


def test_the_agent_part_refuses_to_run_without_the_gate(tmp_path: Path) -> None:
    run = run_script(render("node_bootstrap.sh", NODE), tmp_path)
    assert run.returncode == 1
    assert f"{FATAL}node-bootstrap: the ECS gate is missing: the storage part must run first{SHUTDOWN}" in run.stderr
    assert not (run.root / "etc/ecs/ecs.config").exists()


def test_the_agent_part_refuses_a_gate_that_systemd_could_not_execute(tmp_path: Path) -> None:
    """ExecStartPre fails on a file without its execute bits, so ECS would never start and the node would sit gated
    for good: a failed boot instead, which shuts down so AWS Batch replaces the node."""
    root = storage_root(tmp_path)
    (root / "usr/local/sbin/mmbatch-gate").chmod(0o644)
    run = run_script(render("node_bootstrap.sh", NODE), tmp_path / "node", root=root)
    assert run.returncode == 1
    assert f"{FATAL}node-bootstrap: the ECS gate is missing: the storage part must run first{SHUTDOWN}" in run.stderr
    assert not (run.root / "etc/ecs/ecs.config").exists()


def test_a_failed_mount_leaves_ecs_gated_and_asks_for_shutdown(tmp_path: Path) -> None:
    run = run_script(render("efs_mount.sh", EFS), tmp_path / "boot", {"STANDIN_MOUNT_FAILS": "99"})
    assert run.returncode == 1
    line = f"{FATAL}efs-mount: could not mount fs-0123456789abcdef0 at /mmc-checkpoint{SHUTDOWN}"
    assert run.calls.count("mount /mmc-checkpoint") == 12
    assert run.calls[-1] == f"shutdown -h +1 {line}"
    assert run.file("/dev/console") == line + "\n"
    assert run.file(BOOT_LOG).splitlines()[-1].endswith(" " + line)
    assert sum(FATAL in log_line for log_line in run.file(BOOT_LOG).splitlines()) == 1, "one clear line"
    assert run.file("/var/lib/mmbatch/boot-failed") == line + "\n"
    # The next part (the agent) succeeds, and still ECS stays off this node.
    agent = run_script(render("node_bootstrap.sh", NODE_ABSENT), tmp_path / "agent", root=run.root)
    assert agent.returncode == 0, agent.stderr
    gate = run_gate(tmp_path / "gate", run.root, mounted=False)
    assert gate.returncode == 1 and "could not mount" in gate.stdout


def test_an_unexpected_failure_is_fatal_too(tmp_path: Path) -> None:
    # A command failing under set -e (here: dnf, installing efs-utils), not through mmb_fail.
    run = run_script(render("efs_mount.sh", EFS), tmp_path, omit=("mount.efs", "dnf"))
    assert run.returncode != 0
    assert run.calls[-1].startswith(f"shutdown -h +1 {FATAL}efs-mount: exit status ")
    assert (run.root / "var/lib/mmbatch/boot-failed").exists()


def test_fatal_shutdown_can_be_turned_off_for_debugging(tmp_path: Path) -> None:
    run = run_script(render("efs_mount.sh", {**EFS, "FATAL_SHUTDOWN_MINUTES": "never"}), tmp_path,
                     {"STANDIN_MOUNT_FAILS": "99"})
    assert run.returncode == 1
    assert not any(c.startswith("shutdown") for c in run.calls)
    assert "FATAL_SHUTDOWN_MINUTES=never: this node stays up, and ECS stays gated off" in run.file(BOOT_LOG)
    assert run_gate(tmp_path / "gate", run.root).returncode == 1


def test_the_management_server_never_shuts_itself_down(tmp_path: Path) -> None:
    run = run_script(render("management_server.sh", {**SERVER, "MMAB_SOURCE": "ftp://example.com/mmab.deb"}), tmp_path)
    assert run.returncode == 1
    assert not any(c.startswith("shutdown") for c in run.calls)
    assert "FATAL" not in run.stderr


BOOT_CHECK_UNIT = "/etc/systemd/system/mmbatch-boot-check.service"
MOUNTED = {"STANDIN_MOUNTED": "/mmc-checkpoint"}


def _first_boot(tmp: Path, settings: dict = NODE_ABSENT, **env: str) -> Path:
    """A root after a first boot: the storage part (EFS) and the agent part have run."""
    storage = run_script(render("efs_mount.sh", EFS), tmp / "storage", {**MOUNTED, **env})
    boot = run_script(render("node_bootstrap.sh", settings), tmp / "boot", MOUNTED, root=storage.root)
    assert boot.returncode == 0, boot.stderr
    return storage.root


def _run_boot_check(tmp: Path, root: Path, env: dict[str, str]):
    """What mmbatch-boot-check.service runs on every boot: the node's copy of node_bootstrap.sh, with ``boot-check``."""
    return run_script("", tmp, env, root=root, path=root / "usr/local/sbin/mmbatch-node-bootstrap", args=("boot-check",))


@pytest.mark.parametrize("settings", [NODE, NODE_ABSENT])
def test_the_agent_part_installs_a_per_boot_check_before_ecs(tmp_path: Path, settings: dict) -> None:
    root = storage_root(tmp_path)
    run = run_script(render("node_bootstrap.sh", settings), tmp_path / "boot", root=root)
    assert run.returncode == 0, run.stderr
    unit = run.file(BOOT_CHECK_UNIT).splitlines()
    assert {"Before=ecs.service", "WantedBy=multi-user.target", "After=docker.service remote-fs.target",
            "ExecStart=/usr/local/sbin/mmbatch-node-bootstrap boot-check"} <= set(unit)
    assert "TimeoutStartSec=840" in unit, "the unit's own bound is longer than the check's deadline"
    # A oneshot holds ECS (Before=ecs.service) until the check exits; as Type=simple, ECS would start as soon as the
    # check had started. RemainAfterExit keeps it active for the rest of the boot once it has passed.
    assert {"Type=oneshot", "RemainAfterExit=yes"} <= set(unit)
    assert run.calls.index("systemctl enable mmbatch-boot-check.service") < run.calls.index(
        "systemctl start --no-block mmbatch-boot-check.service")
    assert (run.root / "usr/local/sbin/mmbatch-node-bootstrap").stat().st_mode & 0o777 == 0o700


def test_a_later_boot_with_the_mount_passes_the_check(tmp_path: Path) -> None:
    root = _first_boot(tmp_path)
    again = _run_boot_check(tmp_path / "again", root, MOUNTED)
    assert again.returncode == 0, again.stderr
    assert again.waited == 0 and not any(c.startswith(("shutdown", "mount ")) for c in again.calls)
    assert "/mmc-checkpoint is mounted" in again.file(BOOT_LOG)


def test_a_later_boot_without_the_mount_fails_once_and_shuts_down_within_the_deadline(tmp_path: Path) -> None:
    root = _first_boot(tmp_path)
    (root / "var/log/mmbatch/boot.log").unlink()
    again = _run_boot_check(tmp_path / "again", root, {"STANDIN_MOUNT_FAILS": "99"})
    assert again.returncode == 1
    line = f"{FATAL}boot-check: /mmc-checkpoint not mounted after 600s{SHUTDOWN}"
    assert again.calls[-1] == f"shutdown -h +1 {line}"
    assert sum(FATAL in log_line for log_line in again.file(BOOT_LOG).splitlines()) == 1, "one FATAL line"
    assert again.file("/dev/console") == line + "\n"
    # Checked every 10 s up to the deadline itself, and given up exactly at it.
    assert again.waited == 600, again.waited
    assert again.calls.count("mount /mmc-checkpoint") >= 50, "the fstab mount is tried again between checks"
    # each try bounded: a hard NFS mount to an unreachable target would otherwise hold the loop past its deadline
    assert again.calls.count("timeout -k 5 60 mount /mmc-checkpoint") == again.calls.count("mount /mmc-checkpoint")
    assert run_gate(tmp_path / "gate", root, mounted=False).returncode == 1


def test_a_mount_that_comes_back_within_the_deadline_passes(tmp_path: Path) -> None:
    root = _first_boot(tmp_path)
    # mountpoint says "not mounted" until the stand-in clock passes 30 s: a slow network at boot.
    again = _run_boot_check(tmp_path / "slow", root, {"STANDIN_MOUNTED_AFTER": "30"})
    assert again.returncode == 0, again.stderr
    assert 30 <= again.waited <= 40 and not any(c.startswith("shutdown") for c in again.calls)


def test_a_mount_that_appears_at_the_deadline_itself_passes(tmp_path: Path) -> None:
    """The bound is inclusive: the last check falls on the deadline (here 60 s, six 10 s steps, to keep it short)."""
    root = _first_boot(tmp_path, {**NODE_ABSENT, "BOOT_CHECK_SECONDS": 60})
    again = _run_boot_check(tmp_path / "slow", root, {"STANDIN_MOUNTED_AFTER": "60"})
    assert again.returncode == 0, again.stderr
    assert again.waited == 60 and "/mmc-checkpoint is mounted" in again.file(BOOT_LOG)


def test_a_node_whose_first_boot_failed_is_shut_down_at_once_on_a_reboot(tmp_path: Path) -> None:
    root = _first_boot(tmp_path)
    (root / "var/lib/mmbatch/boot-failed").write_text(f"{FATAL}efs-mount: could not mount{SHUTDOWN}\n")
    again = _run_boot_check(tmp_path / "again", root, MOUNTED)
    assert again.returncode == 1 and again.waited == 0
    assert again.calls[-1].startswith(f"shutdown -h +1 {FATAL}boot-check: an earlier boot failed")


def test_an_empty_boot_failed_file_from_an_earlier_boot_also_shuts_the_node_down(tmp_path: Path) -> None:
    # The gate keeps ECS closed on an empty file (a full disk can leave the FATAL line unwritten); the per-boot check
    # must read it the same way, or the node sits idle behind a closed gate with no FATAL line and no shutdown.
    root = _first_boot(tmp_path)
    (root / "var/lib/mmbatch/boot-failed").write_text("")
    again = _run_boot_check(tmp_path / "again", root, MOUNTED)
    assert again.returncode == 1 and again.waited == 0
    assert again.calls[-1].startswith(f"shutdown -h +1 {FATAL}boot-check: an earlier boot failed")
