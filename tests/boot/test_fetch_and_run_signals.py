"""Cromwell's fetch-and-run script on every path a stop signal can take: before the task, during it, and with a task
that handles the signal itself. The job's exit status is what AWS Batch and Cromwell read, so each path pins it."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from .test_aws_cli import _container


def _wait_for(path: Path, text: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while text not in (path.read_text() if path.exists() else "") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert text in path.read_text(), f"never saw {text!r} in {path}"


def _slow_download(tmp_path: Path) -> None:
    """Make the stand-in CLI announce the download, then deliver the task script only once the test has sent its
    signal (or after 20 s), so the signal always arrives during the download however late the test runs."""
    cli = tmp_path / "aws-cli" / "aws"
    lines = cli.read_text().splitlines()
    wait = f"for _ in $(seq 200); do [[ -e {tmp_path}/signalled ]] && break; sleep 0.1; done"
    cli.write_text("\n".join([lines[0], f"echo downloading >>{tmp_path}/progress", wait, *lines[1:]]) + "\n")


def test_a_stop_before_the_task_starts_ends_the_job_with_143_and_never_runs_the_task(tmp_path: Path) -> None:
    script, environment = _container(tmp_path, f"#!/bin/bash\ntouch {tmp_path}/ran\n")
    _slow_download(tmp_path)
    job = subprocess.Popen([str(script)], env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(tmp_path / "progress", "downloading")
    job.send_signal(signal.SIGTERM)
    (tmp_path / "signalled").touch()
    assert job.wait(timeout=10) == 143, job.communicate()
    assert not (tmp_path / "ran").exists()


def test_a_task_that_handles_the_stop_is_waited_for_and_its_own_status_returned(tmp_path: Path) -> None:
    # The task cleans up for a while after the signal and exits 7: the job must end when the task does, with 7.
    task = ("#!/bin/bash\n"
            f"trap 'sleep 0.5; echo cleaned >>{tmp_path}/progress; exit 7' TERM\n"
            f"echo ready >>{tmp_path}/progress\n"
            "for _ in $(seq 600); do sleep 0.1; done\n")
    script, environment = _container(tmp_path, task)
    job = subprocess.Popen([str(script)], env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(tmp_path / "progress", "ready")
    job.send_signal(signal.SIGTERM)
    assert job.wait(timeout=10) == 7, job.communicate()
    assert (tmp_path / "progress").read_text().splitlines() == ["ready", "cleaned"]


def test_a_task_without_a_handler_ends_with_143_when_stopped(tmp_path: Path) -> None:
    task = f"#!/bin/bash\necho ready >>{tmp_path}/progress\nfor _ in $(seq 600); do sleep 0.1; done\necho finished >>{tmp_path}/progress\n"
    script, environment = _container(tmp_path, task)
    job = subprocess.Popen([str(script)], env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(tmp_path / "progress", "ready")
    job.send_signal(signal.SIGTERM)
    assert job.wait(timeout=10) == 143, job.communicate()
    time.sleep(0.3)
    assert "finished" not in (tmp_path / "progress").read_text()
    assert subprocess.run(["pgrep", "-f", str(tmp_path / "fetch_and_run")], capture_output=True).returncode == 1, \
        "the task is gone with the job"

