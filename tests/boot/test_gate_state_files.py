"""The ECS gate reads two state files: each is judged by its content, not by its existence alone."""

from __future__ import annotations

from pathlib import Path

from .test_gate import _gate_root
from .values import run_gate


def test_an_empty_agent_ready_file_keeps_the_gate_closed(tmp_path: Path) -> None:
    # node_bootstrap.sh writes what it installed into agent-ready; an empty file is an install that did not finish.
    root = _gate_root(tmp_path, agent="")
    (root / "var/lib/mmbatch/agent-ready").write_text("")
    run = run_gate(tmp_path / "gate", root)
    assert run.returncode == 1
    assert run.stdout == "mmbatch-gate: closed: the MMBatch agent is not installed\n"


def test_an_empty_boot_failed_file_keeps_the_gate_closed(tmp_path: Path) -> None:
    # A fatal error whose line could not be written (a full disk) still leaves the file: the node failed.
    root = _gate_root(tmp_path)
    (root / "var/lib/mmbatch/boot-failed").write_text("")
    run = run_gate(tmp_path / "gate", root)
    assert run.returncode == 1
    assert run.stdout == "mmbatch-gate: closed: a boot step failed (see /var/log/mmbatch/boot.log)\n"
