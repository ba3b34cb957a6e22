"""jsii and the CDK CLI run on the Node pinned in package.json (npm package ``node``), not on the machine's."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import aws_cdk as cdk

from ..node import NODE_BIN, PINNED, node_warnings, project_node_env


def jsii_kernels() -> list[Path]:
    """Executables of this process's children that run jsii's kernel (started by ``import aws_cdk``)."""
    children = [pid for task in Path("/proc/self/task").iterdir()
                for pid in (task / "children").read_text().split()]
    return [Path(os.readlink(f"/proc/{pid}/exe")) for pid in children
            if b"jsii" in Path(f"/proc/{pid}/cmdline").read_bytes()]


def test_the_pinned_node_is_installed() -> None:
    version = subprocess.run([str(NODE_BIN / "node"), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == f"v{PINNED}"


def test_node_warnings_are_recognised() -> None:
    """Lines as jsii printed them under Node 20 (through the example app: Python bytes)."""
    banner = ("b'!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\\n'\n"
              "b'!!  Node 20 is end-of-life and not supported anymore by this software since 2026-10-30.  !!\\n'\n")
    assert len(node_warnings(banner)) == 2
    assert node_warnings("!!  This software has not been tested with node v26.1.0.  !!") != []
    assert node_warnings("WARNING r7i.8xlarge (~176 s): a checkpoint ...") == []


def test_jsii_kernel_of_the_tests_runs_on_the_pinned_node() -> None:
    assert cdk.App() is not None  # the kernel is up
    kernels = jsii_kernels()
    assert kernels, "no jsii kernel among this process's children"
    assert set(kernels) == {(NODE_BIN / "node").resolve()}


def test_what_the_cli_and_the_app_run_on() -> None:
    """The CLI's shebang (``#!/usr/bin/env node``) and the app's jsii both find ``node`` on PATH."""
    env = project_node_env()
    node = subprocess.run(["node", "-p", "process.version"], env=env, capture_output=True, text=True, check=True)
    assert node.stdout.strip() == f"v{PINNED}"
    assert (NODE_BIN / "cdk").read_text().startswith("#!/usr/bin/env node")
