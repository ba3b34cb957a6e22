"""app.py registers CDK's CloudFormation template validation itself, first: same checks, earlier engine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from mmbatch_cdk import application, start_template_validation

from .conftest import CDK_JSON_CONTEXT


def _findings(tmp_path: Path, *, register: bool) -> list[tuple[str, str]]:
    """Synthesize a stack with one schema error, CDK's own registration off; the validation findings."""
    app = cdk.App(
        builtin_cloud_formation_validation=False,
        outdir=str(tmp_path),
        context={**CDK_JSON_CONTEXT, "@aws-cdk/core:failSynthOnValidationErrors": False},
    )
    if register:
        start_template_validation(app)
    stack = cdk.Stack(app, "Checked")
    cdk.CfnResource(stack, "Bucket", type="AWS::S3::Bucket", properties={"NoSuchProperty": "x"})
    app.synth()
    report_path = tmp_path / "validation-report.json"
    report: dict[str, Any] = json.loads(report_path.read_text()) if report_path.exists() else {"pluginReports": []}
    return [
        (plugin["pluginName"], violation["ruleName"])
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
    ]


def test_the_registered_plugin_checks_templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CDK_VALIDATION", raising=False)
    assert _findings(tmp_path / "off", register=False) == []  # control: nothing else validates here
    assert (cdk.CloudFormationValidatePlugin.PLUGIN_NAME, "F3002") in _findings(tmp_path / "on", register=True)


def test_no_validation_still_switches_it_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDK_VALIDATION", "false")  # what `cdk synth --no-validation` sets for the app
    assert _findings(tmp_path, register=True) == []


class _Stop(Exception):
    pass


def test_main_registers_it_after_the_settings_and_before_any_construct(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    app_class = cdk.App
    monkeypatch.setattr(cdk, "App", lambda: app_class(context=CDK_JSON_CONTEXT))

    def register(app: cdk.App) -> None:
        calls.append(f"validation with {len(app.node.children)} constructs")

    def build(app: cdk.App, **_: Any) -> None:
        calls.append("build")
        raise _Stop

    monkeypatch.setattr(application, "start_template_validation", register)
    monkeypatch.setattr(application, "build", build)
    with pytest.raises(_Stop):
        application.main()
    assert calls == ["validation with 0 constructs", "build"]


def test_main_reports_bad_settings_before_building_the_engine(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    app_class = cdk.App
    monkeypatch.setattr(cdk, "App", lambda: app_class(context={"backend": "nfs"}))
    monkeypatch.setattr(application, "start_template_validation", lambda app: pytest.fail("engine built"))
    assert application.main() == 1
    assert "backend: 'nfs' is not accepted" in capsys.readouterr().err
