"""Job containers cannot reach the MMAB API: the node's DOCKER-USER rule, added on every boot before ECS."""

from __future__ import annotations

from pathlib import Path

from mmbatch_cdk.user_data import render

from ..standins import Run, run_script
from .values import BOOT_LOG, FATAL, NODE, NODE_ABSENT, SHUTDOWN, storage_root

UNIT = "/etc/systemd/system/mmbatch-boot-check.service"
RULE = "DOCKER-USER -p tcp -d mmab.mmbatch.internal --dport 8080 -j REJECT --reject-with tcp-reset"


def _guard(tmp: Path, root: Path, **env: str) -> Run:
    """What mmbatch-boot-check.service runs on every boot, the checkpoint storage mounted."""
    return run_script("", tmp, {"STANDIN_MOUNTED": "/mmc-checkpoint", **env}, root=root,
                      path=root / "usr/local/sbin/mmbatch-node-bootstrap", args=("boot-check",))


def _node(tmp: Path, settings: dict = NODE) -> Path:
    root = storage_root(tmp)
    run = run_script(render("node_bootstrap.sh", settings), tmp / "boot", root=root)
    assert run.returncode == 0, run.stderr
    assert {"After=docker.service remote-fs.target", "Before=ecs.service"} <= set(run.file(UNIT).splitlines())
    return root


def test_every_boot_rejects_container_traffic_to_the_server_port_first_in_docker_user(tmp_path: Path) -> None:
    root = _node(tmp_path)
    run = _guard(tmp_path / "guard", root)
    assert run.returncode == 0, run.stderr
    assert [c for c in run.calls if c.startswith("iptables")] == [f"iptables -C {RULE}", f"iptables -I {RULE}"]
    assert "jobs cannot reach mmab.mmbatch.internal:8080" in run.file(BOOT_LOG)
    # The unit again in the same boot (the rule is there): nothing added twice.
    again = _guard(tmp_path / "guard", root)
    assert again.returncode == 0, again.stderr
    assert [c for c in again.calls[len(run.calls):] if c.startswith("iptables")] == [f"iptables -C {RULE}"]


def test_a_rule_that_cannot_be_added_is_a_fatal_boot_after_bounded_tries(tmp_path: Path) -> None:
    root = _node(tmp_path)
    run = _guard(tmp_path / "guard", root, STANDIN_NO_DOCKER_USER="1")
    assert run.returncode == 1
    assert run.calls.count(f"iptables -I {RULE}") == 5
    line = f"{FATAL}api-guard: could not keep jobs off mmab.mmbatch.internal:8080 (DOCKER-USER){SHUTDOWN}"
    assert run.calls[-1] == f"shutdown -h +1 {line}"
    assert run_script("", tmp_path / "gate", {"STANDIN_MOUNTED": "/mmc-checkpoint"}, root=root,
                      path=root / "usr/local/sbin/mmbatch-gate").returncode == 1, "ECS stays gated off"


def test_without_an_agent_there_is_no_api_to_guard(tmp_path: Path) -> None:
    root = _node(tmp_path, NODE_ABSENT)
    guard = _guard(tmp_path / "guard", root)
    assert guard.returncode == 0, guard.stderr
    assert not any(c.startswith("iptables") for c in guard.calls)
