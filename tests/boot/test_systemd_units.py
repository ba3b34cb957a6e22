"""Every systemd unit and drop-in the boot scripts write, read by systemd itself (``systemd-analyze verify``).

A misspelt key or a value systemd cannot parse is only a warning at boot ("Unknown key ..., ignoring") and the unit
runs without it: a mount unit without ``Restart=``, say, or an agent install without its start timeout. verify
prints the same warnings, so each unit the scripts write must give none.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from mmbatch_cdk.user_data import render

from ..standins import run_script
from .values import INSTALLER, JUICEFS_MOUNT, NODE, SECRET, juicefs_release, storage_root

pytestmark = pytest.mark.needs_deb("systemd")

INSTALLED_ON_THE_NODE = {"/usr/local/bin/juicefs", "/usr/local/sbin/mmbatch-node-bootstrap",
                         "/usr/local/sbin/mmbatch-gate"}
"""Commands the units run that the boot scripts themselves install, under the node's root: absent on this machine."""
NOT_HERE = re.compile(r"Command (\S+) is not executable")
ECS_STAND_IN = "[Unit]\nDescription=stand-in for the ECS agent's unit\n\n[Service]\nExecStart=/bin/true\n"
"""The unit the gate's drop-in extends (``ecs.service`` of the ECS-optimized AMI), only so systemd loads the drop-in."""


def _complaints(unit: Path) -> list[str]:
    """What systemd says of ``unit`` (and drop-ins in ``<unit>.d/`` beside it), less the node's own commands.

    verify also loads the units this one names (docker.service, network-online.target, ...) from this machine, and
    warns about those too: only lines naming ``unit`` (by path, name or drop-in directory) count.
    """
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", str(unit)], capture_output=True, text=True,
                            timeout=60)
    lines = [line for line in (result.stdout + result.stderr).splitlines() if unit.name in line]
    return [line for line in lines
            if not ((found := NOT_HERE.search(line)) and found.group(1) in INSTALLED_ON_THE_NODE)]


def _node_units(tmp: Path) -> Path:
    """The units directory of a node root where node_bootstrap.sh (EFS) has run."""
    run = run_script(render("node_bootstrap.sh", NODE), tmp, {"STANDIN_CURL_BODY": INSTALLER}, root=storage_root(tmp))
    assert run.returncode == 0, run.stderr
    return run.root / "etc/systemd/system"


def _juicefs_units(tmp: Path) -> Path:
    """The units directory of a node root where juicefs_mount.sh has run."""
    tmp.mkdir(exist_ok=True)
    release, _ = juicefs_release(tmp)
    run = run_script(render("juicefs_mount.sh", JUICEFS_MOUNT), tmp / "run",
                     {"STANDIN_CURL_DIR": str(release), "STANDIN_SECRET": SECRET})
    assert run.returncode == 0, run.stderr
    return run.root / "etc/systemd/system"


def test_systemd_accepts_every_unit_and_drop_in_the_node_scripts_write(tmp_path: Path) -> None:
    roots = {"node": _node_units(tmp_path / "node"), "juicefs": _juicefs_units(tmp_path / "juicefs")}
    written = {name: sorted(str(p.relative_to(units)) for p in units.rglob("*") if p.is_file())
               for name, units in roots.items()}
    assert written == {
        "node": ["ecs.service.d/mmbatch.conf", "mmbatch-agent-install.service", "mmbatch-boot-check.service"],
        "juicefs": ["ecs.service.d/mmbatch.conf", "juicefs-checkpoint.service", "juicefs-scratch.service"],
    }
    for units in roots.values():
        (units / "ecs.service").write_text(ECS_STAND_IN)
        for unit in units.glob("*.service"):
            assert _complaints(unit) == [], unit.name


def test_systemd_names_a_misspelt_key_and_a_value_it_cannot_parse(tmp_path: Path) -> None:
    """The check above can fail: the same unit, broken the two ways systemd only warns about, is reported twice."""
    units = _juicefs_units(tmp_path)
    unit = units / "juicefs-checkpoint.service"
    text = unit.read_text()
    assert "Restart=on-failure" in text and "TimeoutStopSec=300" in text
    unit.write_text(text.replace("Restart=on-failure", "Restrat=on-failure")
                    .replace("TimeoutStopSec=300", "TimeoutStopSec=300 s3c"))
    complaints = _complaints(unit)
    # Only what each line names: systemd's wording of these warnings differs between versions.
    assert len(complaints) == 2, complaints
    assert any("Restrat" in line for line in complaints), complaints
    assert any("300 s3c" in line for line in complaints), complaints


def test_only_the_commands_the_scripts_install_are_excused(tmp_path: Path) -> None:
    unit = tmp_path / "example.service"
    unit.write_text("[Service]\nType=oneshot\nExecStart=/usr/local/sbin/mmbatch-gate\n"
                    "ExecStartPost=/opt/absent/tool\n")
    complaints = _complaints(unit)
    assert len(complaints) == 1 and "Command /opt/absent/tool is not executable" in complaints[0], complaints
