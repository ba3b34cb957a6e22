"""app.py registers CDK's CloudFormation template validation itself, first: same checks, earlier engine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from mmbatch_cdk import MmBatchConfig, application, register_template_validation

from ..conftest import CDK_JSON_CONTEXT, REPO


def _findings(tmp_path: Path, *, builtin: bool, registrations: int) -> list[tuple[str, str, str]]:
    """Synthesize a stack with one schema error; the validation findings (plugin, rule, construct path)."""
    app = cdk.App(
        builtin_cloud_formation_validation=builtin,
        outdir=str(tmp_path),
        context={**CDK_JSON_CONTEXT, "@aws-cdk/core:failSynthOnValidationErrors": False},
    )
    for _ in range(registrations):
        register_template_validation(app)
    stack = cdk.Stack(app, "Checked")
    cdk.CfnResource(stack, "Bucket", type="AWS::S3::Bucket", properties={"NoSuchProperty": "x"})
    app.synth()
    report_path = tmp_path / "validation-report.json"
    report: dict[str, Any] = json.loads(report_path.read_text()) if report_path.exists() else {"pluginReports": []}
    return [
        (plugin["pluginName"], violation["ruleName"], construct["constructPath"])
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    ]


def test_registered_early_it_finds_what_cdks_own_registration_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CDK_VALIDATION", raising=False)
    assert _findings(tmp_path / "none", builtin=False, registrations=0) == []  # control: nothing else checks
    cdks_own = _findings(tmp_path / "cdk", builtin=True, registrations=0)
    ours = _findings(tmp_path / "ours", builtin=False, registrations=2)  # the second call changes nothing
    assert ours == cdks_own
    assert (cdk.CloudFormationValidatePlugin.PLUGIN_NAME, "F3002", "Checked/Bucket") in ours


def test_no_validation_still_switches_it_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `cdk synth --no-validation` sets this for the app's process. Only the Python side reads it here:
    # the jsii Node process of this test session was started before, with its own environment.
    monkeypatch.setenv("CDK_VALIDATION", "false")
    assert _findings(tmp_path, builtin=False, registrations=1) == []


class _Stop(Exception):
    pass


def test_main_registers_it_before_any_construct(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    app_class = cdk.App
    monkeypatch.setattr(cdk, "App", lambda: app_class(context=CDK_JSON_CONTEXT))

    def register(app: cdk.App) -> None:
        calls.append(f"validation with {len(app.node.children)} constructs")

    def build(app: cdk.App, *, config: MmBatchConfig) -> None:
        calls.append(f"build {config.backend}")
        raise _Stop

    monkeypatch.setattr(application, "register_template_validation", register)
    monkeypatch.setattr(application, "build", build)
    with pytest.raises(_Stop):
        application.main()
    assert calls == ["validation with 0 constructs", "build efs"]


def test_main_reports_bad_settings_before_building_any_construct(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    app_class = cdk.App
    monkeypatch.setattr(cdk, "App", lambda: app_class(context={"backend": "nfs"}))
    monkeypatch.setattr(application, "register_template_validation", lambda app: None)
    monkeypatch.setattr(application, "build", lambda app, config: pytest.fail("built"))
    assert application.main() == 1
    assert "backend: 'nfs' is not accepted" in capsys.readouterr().err


MAIN_WITH_A_WAITING_ENGINE = """
import sys, time
import mmbatch_cdk.application as application
def register(app):  # stands in for the engine: returns once the constructs' modules have loaded meanwhile
    deadline = time.monotonic() + 20
    while getattr(sys.modules.get("mmbatch_cdk.stacks"), "MmBatchStack", None) is None:
        if time.monotonic() > deadline:
            sys.exit("the constructs' modules did not load while the engine was being built")
        time.sleep(0.01)
    print("loaded while the engine was being built")
def build(app, config):
    sys.exit(7)
application.register_template_validation = register
application.build = build
application.main()
"""


def test_main_imports_the_constructs_while_the_engine_is_built() -> None:
    """While jsii's Node builds the engine, the constructs' modules load on a second thread."""
    run = subprocess.run([sys.executable, "-c", MAIN_WITH_A_WAITING_ENGINE], cwd=REPO, capture_output=True, text=True,
                         timeout=120)
    assert run.stdout.strip() == "loaded while the engine was being built", run.stderr
    assert run.returncode == 7  # then main went on to build
