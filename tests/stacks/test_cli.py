"""The real CDK CLI (pinned in package.json) runs app.py: the path a user takes."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ..conftest import REPO
from ..node import NODE_BIN, node_warnings, project_node_env

CDK = NODE_BIN / "cdk"


def cdk_synth(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = project_node_env(CDK_DISABLE_CLI_TELEMETRY="1")
    return subprocess.run(
        [str(CDK), "synth", "--quiet", "--output", str(tmp_path / "cdk.out"), *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )


def test_cli_synthesizes_the_default_deployment(tmp_path: Path) -> None:
    result = cdk_synth(tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "cdk.out" / "mmbatch-efs.template.json").exists()
    assert "CLI-Notices" not in result.stderr and "NOTICES" not in result.stderr  # "notices": false in cdk.json
    assert "feature flags are not configured" not in result.stderr  # cdk.json sets every flag the CLI asks about
    assert node_warnings(result.stderr) == []  # jsii runs on the pinned Node, and nothing mutes its warnings


def test_cli_reports_every_bad_setting_without_a_traceback(tmp_path: Path) -> None:
    result = cdk_synth(tmp_path, "-c", "maxvCpus=many", "-c", "backend=nfs", "-c", "adminCidr=0.0.0.0/0")
    assert result.returncode != 0
    assert "mmbatch-cdk: 3 settings not valid; nothing was synthesized." in result.stderr
    assert "  - maxvCpus: 'many' is not accepted; expected a whole number >= 1" in result.stderr
    assert "  - backend: 'nfs' is not accepted; expected one of: efs, juicefs" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "cdk.out" / "mmbatch-efs.template.json").exists()
