"""shellcheck on every boot script as shipped and as rendered into the synthesized user data."""

from __future__ import annotations

import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from mmbatch_cdk.user_data import render, script_path

from ..templates import shell_parts, user_data_document
from ..conftest import BOOT_CONFIGS

BIN = Path(sys.executable).parent
SCRIPTS = sorted(p.name for p in resources.files("mmbatch_cdk.user_data").iterdir() if p.name.endswith(".sh"))
"""Every boot script the package ships."""


def shellcheck(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "shellcheck"), *args], capture_output=True, text=True)


@pytest.mark.parametrize("name", SCRIPTS)
def test_shipped_scripts_are_shellcheck_clean(name: str) -> None:
    result = shellcheck("--external-sources", "--source-path=SCRIPTDIR", "--severity=style", script_path(name))
    assert result.returncode == 0, result.stdout


def test_shellcheck_does_catch_problems(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sh"
    bad.write_text("#!/bin/bash\nrm -rf $1/*\n")
    assert shellcheck(str(bad)).returncode != 0


def test_synthesized_user_data_is_shellcheck_clean(synth, tmp_path: Path) -> None:
    scripts = []
    for name in BOOT_CONFIGS:
        s = synth(name)
        for logical_id, lt in s.resources("AWS::EC2::LaunchTemplate").items():
            data = lt["Properties"]["LaunchTemplateData"].get("UserData")
            if data and "multipart" in user_data_document(data):
                scripts += shell_parts(user_data_document(data))
        for instance in s.resources("AWS::EC2::Instance").values():
            scripts += shell_parts(user_data_document(instance["Properties"]["UserData"]))
    assert len(scripts) >= 3 * len(BOOT_CONFIGS)  # node: storage + bootstrap; server: MMAB (+ format)
    paths = []
    # Most parts are the same text in several configurations and queues: each distinct one is checked once.
    for i, script in enumerate(dict.fromkeys(scripts)):
        path = tmp_path / f"part{i}.sh"
        path.write_text(script)
        paths.append(str(path))
    result = shellcheck("--severity=style", *paths)
    assert result.returncode == 0, result.stdout


def test_rendering_quotes_values() -> None:
    script = render("efs_mount.sh", {"MOUNT_POINT": "/mnt/with space", "FILE_SYSTEM_ID": "fs-1"})
    assert "export MOUNT_POINT='/mnt/with space'\n" in script
