"""A library user on a Node jsii does not support gets one line saying what to do, not jsii's 11-line banner."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mmbatch_cdk.node_version import JSII_NODE_MAJORS, node_problem

from ..conftest import REPO
from ..node import NODE_BIN, node_warnings


@pytest.mark.parametrize(("version", "supported"), [
    ("v20.20.2\n", False), ("v22.11.0\n", True), ("v24.21.0\n", True), ("v26.0.0\n", False), ("v18.20.0", False), ("", False),
])
def test_the_word_names_the_node_found_and_what_jsii_needs(version: str, supported: bool) -> None:
    line = node_problem(version, "/usr/bin/node")
    assert (line is None) == supported
    if line:
        assert "\n" not in line and line.startswith("mmbatch-cdk: jsii") and "Node 22 or 24" in line
        assert f"not {version.strip()} (/usr/bin/node)" in line if version else "not this (/usr/bin/node)" in line
    assert JSII_NODE_MAJORS == (22, 24)


def _unsupported_node(tmp_path: Path) -> tuple[Path, bool]:
    """A directory whose ``node`` jsii does not support: the machine's own when it is one (jsii then really prints its
    banner unless muted), else a stand-in that reports v20 to ``--version`` and runs the pinned Node otherwise."""
    for directory in os.environ["PATH"].split(os.pathsep):
        found = shutil.which("node", path=directory)
        if found and Path(directory).resolve() != NODE_BIN.resolve():
            version = subprocess.run([found, "--version"], capture_output=True, text=True).stdout
            if node_problem(version, found):
                return Path(directory), True
    stand_in = tmp_path / "bin" / "node"
    stand_in.parent.mkdir()
    stand_in.write_text(f'#!/bin/sh\n[ "$1" = --version ] && {{ echo v20.20.2; exit 0; }}\nexec {NODE_BIN / "node"} "$@"\n')
    stand_in.chmod(0o755)
    return stand_in.parent, False


def test_importing_the_library_on_an_unsupported_node_prints_one_line_and_no_banner(tmp_path: Path) -> None:
    directory, real = _unsupported_node(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JSII_")}
    env["PATH"] = os.pathsep.join([str(directory), str(Path(sys.executable).parent), "/usr/bin", "/bin"])
    env["PYTHONPATH"] = str(REPO)
    run = subprocess.run([sys.executable, "-c", "from mmbatch_cdk import BatchCompute; import aws_cdk; aws_cdk.App()"], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mmbatch-cdk: jsii, which runs aws-cdk-lib for Python, supports Node 22 or 24"), lines
    if real:
        assert node_warnings(run.stderr) == [], "jsii's banner was muted for this version"


def test_the_app_entry_checks_node_before_aws_cdk(tmp_path: Path) -> None:
    directory, _ = _unsupported_node(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JSII_")}
    env["PATH"] = os.pathsep.join([str(directory), str(Path(sys.executable).parent), "/usr/bin", "/bin"])
    env["PYTHONPATH"] = str(REPO)
    run = subprocess.run([sys.executable, "-c", "import mmbatch_cdk.application, aws_cdk; aws_cdk.App()"], env=env,
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert [line[:40] for line in run.stderr.splitlines()] == ["mmbatch-cdk: jsii, which runs aws-cdk-li"]
