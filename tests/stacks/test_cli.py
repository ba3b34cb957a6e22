"""The real CDK CLI (pinned in package.json) runs app.py: the path a user takes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import aws_cdk as cdk

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


ANNOTATIONS_FLAG = "@aws-cdk/core:annotationsInValidationReport"


def test_a_consumer_app_needs_the_annotations_flag_to_print_warnings_without_a_stray_location(tmp_path: Path) -> None:
    """docs/troubleshooting.md: without the flag the CLI renders a warning's trace itself and takes a frame of jsii's
    kernel (``.../lib/program.js:1:NNNN``) for the app's code; the flag, which our cdk.json files set, avoids it.

    A consumer app's assembly (synthesized here, with traces, as ``python app.py`` makes it) read by the CLI, which
    does the printing, as ``cdk synth --app <assembly>``."""
    runs = {}
    for flagged in (False, True):
        app = cdk.App(outdir=str(tmp_path / f"flag-{flagged}"), context={ANNOTATIONS_FLAG: flagged})
        stack = cdk.Stack(app, "Warned")
        cdk.CfnWaitConditionHandle(stack, "Handle")
        cdk.Annotations.of(stack).add_warning_v2("mmbatch:checkpointTime", "a construct warning")
        assembly = app.synth().directory
        runs[flagged] = subprocess.Popen([str(CDK), "synth", "--quiet", "--app", assembly], cwd=tmp_path, text=True,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         env=project_node_env(CDK_DISABLE_CLI_TELEMETRY="1"))
    (_, plain), (_, flagged_err) = (runs[False].communicate(timeout=120), runs[True].communicate(timeout=120))
    assert "a construct warning" in plain and "a construct warning" in flagged_err, (plain, flagged_err)
    assert "lib/program.js:1:" in plain  # the CLI's stray location: this test reproduces what users saw
    assert "program.js" not in flagged_err
    for cdk_json in (REPO / "cdk.json", REPO / "examples" / "team_vpc" / "cdk.json"):
        assert json.loads(cdk_json.read_text())["context"][ANNOTATIONS_FLAG] is True, cdk_json
