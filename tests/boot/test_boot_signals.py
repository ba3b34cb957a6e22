"""A node's boot script stopped by a signal (systemd's TERM when a unit's start timeout passes, a console INT) fails
the boot like any other error: one FATAL line, the gate closed, a shutdown so AWS Batch replaces the node. Before,
bash ran the EXIT handler with the status of the last command (0), so a stopped script recorded nothing and the node
stayed up, gated off, for good."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from mmbatch_cdk.user_data import render

from ..standins import CLOCK_START, make_root
from .values import EFS, FATAL, SHUTDOWN


@pytest.mark.parametrize(("sent", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGHUP, 129)])
def test_a_signal_during_the_boot_is_a_fatal_error(tmp_path: Path, sent: signal.Signals, status: int) -> None:
    root, bin_dir = make_root(tmp_path)
    (root / "dev").mkdir()
    # A slow mount: it returns only once the test has sent the signal (or after 20 s), so the signal always arrives
    # while the script waits for it, however late the test runs (a fixed 0.5 s left a window a slow run could miss).
    (bin_dir / "mount").write_text(
        f"#!/bin/bash\ntouch {tmp_path}/mounting\n"
        f"for _ in $(seq 200); do [[ -e {tmp_path}/signalled ]] && exit 0; /bin/sleep 0.1; done\n"
    )
    clock = tmp_path / "clock"
    clock.write_text(f"{CLOCK_START}\n")
    script = tmp_path / "script.sh"
    script.write_text(render("efs_mount.sh", EFS))
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path), "MMB_ROOT": str(root),
           "STANDIN_LOG": str(tmp_path / "calls.log"), "STANDIN_CLOCK": str(clock)}
    # systemd starts cloud-init's units with every signal at its default (execute.c, reset_all_signal_handlers). A
    # shell cannot trap a signal ignored when it starts (bash(1), SIGNALS), and a test run under `nohup` or in the
    # background inherits HUP or INT ignored: so the script starts as on a node, with the three at their defaults
    # (GNU env's --default-signal).
    boot = subprocess.Popen(["/usr/bin/env", "--default-signal=HUP,INT,TERM", "bash", str(script)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while not (tmp_path / "mounting").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    boot.send_signal(sent)
    (tmp_path / "signalled").touch()
    assert boot.wait(timeout=20) == status, boot.communicate()
    line = f"{FATAL}efs-mount: exit status {status}, see /var/log/mmbatch/boot.log{SHUTDOWN}"
    assert (root / "var/lib/mmbatch/boot-failed").read_text() == line + "\n"
    assert (tmp_path / "calls.log").read_text().splitlines()[-1] == f"shutdown -h +1 {line}"
