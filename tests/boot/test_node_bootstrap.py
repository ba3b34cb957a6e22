"""node_bootstrap.sh run for real: ECS settings, the agent install unit, AGENT_MODE, bounded waits, reboots."""

from __future__ import annotations

import re
from pathlib import Path

from mmbatch_cdk.user_data import render

from ..standins import run_script
from .values import (BOOT_LOG, EFS, FATAL, INSTALLER, NODE, NODE_ABSENT, SHUTDOWN, run_gate, run_installed_agent_unit,
                     snapshot, storage_root)

UNIT = "/etc/systemd/system/mmbatch-agent-install.service"
URL = "https://mmab.mmbatch.internal:8080/api/v1/scripts/install-pagent"
MOUNTED = {"STANDIN_MOUNTED": "/mmc-checkpoint"}


def test_node_bootstrap_writes_ecs_config(tmp_path: Path) -> None:
    run = run_script(render("node_bootstrap.sh", NODE), tmp_path, root=storage_root(tmp_path))
    assert run.returncode == 0, run.stderr
    assert run.file("/etc/ecs/ecs.config").splitlines() == [
        "ECS_ENABLE_SPOT_INSTANCE_DRAINING=true",
        "ECS_CONTAINER_STOP_TIMEOUT=110s",
        "ECS_CONTAINER_START_TIMEOUT=16m",
        "ECS_CONTAINER_CREATE_TIMEOUT=15m",
        "ECS_IMAGE_PULL_BEHAVIOR=prefer-cached",
    ]


def test_user_data_only_queues_the_agent_install(tmp_path: Path) -> None:
    run = run_script(render("node_bootstrap.sh", NODE), tmp_path, {"STANDIN_CURL_BODY": INSTALLER},
                     root=storage_root(tmp_path))
    assert run.returncode == 0, run.stderr
    assert not any(c.startswith("curl") for c in run.calls), "user data never contacts the server itself"
    assert run.calls[-3:] == [
        "systemctl daemon-reload",
        "systemctl enable mmbatch-agent-install.service",
        "systemctl start --no-block mmbatch-agent-install.service",
    ]
    assert not (run.root / "var/lib/mmbatch/agent-ready").exists()
    assert (run.root / "usr/local/sbin/mmbatch-node-bootstrap").stat().st_mode & 0o777 == 0o700


def test_agent_install_unit_runs_after_docker_outside_cloud_init_with_a_bounded_start(tmp_path: Path) -> None:
    run = run_script(render("node_bootstrap.sh", NODE), tmp_path, root=storage_root(tmp_path))
    unit = run.file(UNIT).splitlines()
    assert "After=network-online.target docker.service" in unit
    # Not ordered against ecs.service (an installer restarting ECS would wait on its own unit) nor cloud-init.
    assert not [line for line in unit if re.search(r"ecs\.service|cloud-", line)]
    assert "Type=oneshot" in unit and "WantedBy=multi-user.target" in unit
    # Active after the installer returns, so systemd does not stop the unit and end what the installer left running.
    assert "RemainAfterExit=yes" in unit
    assert "ExecStart=/usr/local/sbin/mmbatch-node-bootstrap install-agent" in unit
    # Longer than its own waits: 900 s for the server, 600 s for the installer, a curl try and margin.
    assert "TimeoutStartSec=1680" in unit


def test_the_unit_installs_the_agent_and_opens_the_gate(tmp_path: Path) -> None:
    boot = run_script(render("node_bootstrap.sh", NODE), tmp_path / "boot", root=storage_root(tmp_path))
    assert run_gate(tmp_path / "before", boot.root).returncode == 1, "gated while the install is pending"
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    unit = run_installed_agent_unit(tmp_path / "unit", boot.root,
                                    {"STANDIN_CURL_BODY": INSTALLER, "STANDIN_CURL_FAILS": "3", "TMPDIR": str(scratch)})
    assert unit.returncode == 0, unit.stderr
    assert sum(c.startswith("curl") for c in unit.calls) == 4
    assert [c for c in unit.calls if c.startswith("sleep")] == ["sleep 2", "sleep 4", "sleep 8"]
    assert unit.calls[0] == f"curl -fsSk --connect-timeout 5 --max-time 60 -o {unit.calls[0].split(' -o ')[1].split()[0]} {URL}"
    assert unit.file("installer.log") == "pagent installer ran\n"
    assert [c.split(" /")[0] for c in unit.calls if c.startswith("timeout ")] == ["timeout 600 bash"], "the installer's run is bounded"
    assert unit.file("/var/lib/mmbatch/agent-ready") == "installed for MMAB 1.4.0-release\n"
    assert f" -o {scratch}/" in unit.calls[0] and list(scratch.iterdir()) == [], "the fetched installer is removed"
    gate = run_gate(tmp_path / "after", boot.root)
    assert gate.returncode == 0, gate.stdout


def test_an_unreachable_server_ends_in_bounded_time_and_fails_closed(tmp_path: Path) -> None:
    boot = run_script(render("node_bootstrap.sh", NODE), tmp_path / "boot", root=storage_root(tmp_path))
    unit = run_installed_agent_unit(tmp_path / "unit", boot.root, {"STANDIN_CURL_FAILS": "9999"})
    assert unit.returncode == 1
    assert 840 <= unit.waited <= 900, "gives up within AGENT_WAIT_SECONDS, not after a count of tries"
    line = (f"{FATAL}agent-install: management server mmab.mmbatch.internal:8080 did not serve the agent installer"
            f" within 900s{SHUTDOWN}")
    assert unit.calls[-1] == f"shutdown -h +1 {line}"
    assert unit.file("/dev/console") == line + "\n"
    assert not (boot.root / "var/lib/mmbatch/agent-ready").exists()
    gate = run_gate(tmp_path / "gate", boot.root)
    assert gate.returncode == 1 and "did not serve the agent installer" in gate.stdout


def test_the_wait_for_the_server_is_a_setting(tmp_path: Path) -> None:
    boot = run_script(render("node_bootstrap.sh", {**NODE, "AGENT_WAIT_SECONDS": 120}), tmp_path / "boot",
                      root=storage_root(tmp_path))
    assert "TimeoutStartSec=900" in boot.file(UNIT)
    unit = run_installed_agent_unit(tmp_path / "unit", boot.root, {"STANDIN_CURL_FAILS": "9999"})
    assert unit.returncode == 1 and unit.waited <= 120
    assert "within 120s" in unit.stderr


def test_a_failing_installer_fails_closed(tmp_path: Path) -> None:
    boot = run_script(render("node_bootstrap.sh", NODE), tmp_path / "boot", root=storage_root(tmp_path))
    unit = run_installed_agent_unit(tmp_path / "unit", boot.root, {"STANDIN_CURL_BODY": "exit 3\n"})
    assert unit.returncode == 1
    assert f"{FATAL}agent-install: the pagent installer from {URL} failed (or ran over 600s){SHUTDOWN}" in unit.stderr
    assert unit.calls[-1].startswith("shutdown -h +1 ")
    assert run_gate(tmp_path / "gate", boot.root).returncode == 1


def test_without_an_install_source_jobs_run_unprotected_at_once(tmp_path: Path) -> None:
    run = run_script(render("node_bootstrap.sh", NODE_ABSENT), tmp_path / "boot", {"STANDIN_CURL_FAILS": "9999"},
                     root=storage_root(tmp_path))
    assert run.returncode == 0, run.stderr
    assert run.waited == 0, "no wait for a server that is not there"
    started = [c for c in run.calls if c.startswith(("curl", "shutdown", "systemctl enable", "systemctl start"))]
    assert started == ["systemctl enable mmbatch-boot-check.service", "systemctl start --no-block mmbatch-boot-check.service"]
    assert not (run.root / UNIT.lstrip("/")).exists()
    assert ("WARNING: checkpointing is OFF: this deployment has no MMAB install source (mmabSource)"
            in run.file(BOOT_LOG))
    gate = run_gate(tmp_path / "gate", run.root)
    assert gate.returncode == 0 and "agent: absent: checkpointing is OFF" in gate.stdout


def test_absent_mode_needs_no_server_settings(tmp_path: Path) -> None:
    settings = {k: v for k, v in NODE_ABSENT.items() if k not in ("MMAB_ADDRESS", "MMAB_PORT", "AGENT_WAIT_SECONDS")}
    run = run_script(render("node_bootstrap.sh", settings), tmp_path, root=storage_root(tmp_path))
    assert run.returncode == 0, run.stderr


def test_an_unknown_agent_mode_is_fatal(tmp_path: Path) -> None:
    run = run_script(render("node_bootstrap.sh", {**NODE, "AGENT_MODE": "optional"}), tmp_path, root=storage_root(tmp_path))
    assert run.returncode == 1
    assert f"{FATAL}node-bootstrap: AGENT_MODE is 'optional'; expected required or absent{SHUTDOWN}" in run.stderr


def test_a_whole_node_boot_then_a_second_run_after_a_reboot_changes_nothing(tmp_path: Path) -> None:
    env = {"STANDIN_CURL_BODY": INSTALLER}
    mount = run_script(render("efs_mount.sh", EFS), tmp_path / "p0", env)
    boot = run_script(render("node_bootstrap.sh", NODE), tmp_path / "p1", env, root=mount.root)
    unit = run_installed_agent_unit(tmp_path / "unit", mount.root, env)
    assert mount.returncode == boot.returncode == unit.returncode == 0, mount.stderr + boot.stderr + unit.stderr
    assert run_gate(tmp_path / "gate", mount.root).returncode == 0
    before = snapshot(mount.root)
    # After a reboot: the mount is back (fstab), the enabled unit runs again, and user data if run again.
    unit_again = run_installed_agent_unit(tmp_path / "unit2", mount.root, {**env, **MOUNTED})
    mount_again = run_script(render("efs_mount.sh", EFS), tmp_path / "p0b", {**env, **MOUNTED}, root=mount.root)
    boot_again = run_script(render("node_bootstrap.sh", NODE), tmp_path / "p1b", {**env, **MOUNTED}, root=mount.root)
    assert unit_again.returncode == mount_again.returncode == boot_again.returncode == 0
    assert snapshot(mount.root) == before
    again = unit_again.calls + mount_again.calls + boot_again.calls
    assert not any(c.startswith(("curl", "mount ", "shutdown", "systemctl enable", "systemctl start")) for c in again), again
    assert mount.root.joinpath("installer.log").read_text() == "pagent installer ran\n", "installed once"
    assert run_gate(tmp_path / "gate2", mount.root).returncode == 0


def test_node_bootstrap_keeps_batch_settings(tmp_path: Path) -> None:
    root = storage_root(tmp_path)
    (root / "etc/ecs").mkdir(parents=True)
    (root / "etc/ecs/ecs.config").write_text("ECS_CLUSTER=AWSBatch-abc\nECS_CONTAINER_STOP_TIMEOUT=30s\n")
    run = run_script(render("node_bootstrap.sh", NODE), tmp_path, root=root)
    assert run.returncode == 0, run.stderr
    lines = run.file("/etc/ecs/ecs.config").splitlines()
    assert lines[0] == "ECS_CLUSTER=AWSBatch-abc"
    assert [line for line in lines if line.startswith("ECS_CONTAINER_STOP_TIMEOUT=")] == ["ECS_CONTAINER_STOP_TIMEOUT=110s"]
    assert len(lines) == 6
