"""The one stack class, composed from the settings: what reaches every queue, what the user accepted, and errors a
construct raises while being built from the settings."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest

from mmbatch_cdk import application, stacks
from mmbatch_cdk.application import build, main
from mmbatch_cdk.config import ConfigError

from ..conftest import CDK_JSON_CONTEXT, synthesize
from ..templates import Synth


def test_on_demand_reaches_every_queue(tmp_path: Path) -> None:
    s = synthesize({"multiQueue": "true", "spot": "false"}, tmp_path)
    resources = [ce["Properties"]["ComputeResources"] for ce in s.node_resources("AWS::Batch::ComputeEnvironment").values()]
    assert [(r["Type"], r["AllocationStrategy"]) for r in resources] == [("EC2", "BEST_FIT_PROGRESSIVE")] * 3


def test_the_stack_is_named_by_prefix_and_backend_and_described_by_its_backend(synth) -> None:
    """docs/getting-started.md: each run makes one stack, named <prefix>-<backend>. cdk deploy, cdk destroy and verify
    --stack are given that name, and an efs and a juicefs deployment of one prefix are two stacks: named by the prefix
    alone, the second would replace the first."""
    for backend in ("efs", "juicefs"):
        s = synth(backend)
        assert s.stack.stack_name == f"mmbatch-{backend}"
        assert s.template["Description"] == f"Memory Machine Batch with {backend.upper()} checkpoint storage (mmbatch-cdk)"


def _warnings(s: Synth) -> set[str]:
    return {v["ruleName"] for p in s.validation_report()["pluginReports"] for v in p["violations"]}


def test_an_acknowledged_construct_warning_is_silenced(synth) -> None:
    assert "Annotation::mmbatch:mmabSourceMissing" in _warnings(synth("juicefs"))
    assert "Annotation::mmbatch:mmabSourceMissing" not in _warnings(synth("juicefs-multiqueue"))  # acknowledge=mmabSourceMissing


def test_a_construct_error_names_the_settings_it_was_built_from(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("Error: Malformed instance type identifier\n    at new InstanceType (/tmp/jsii/...)")

    monkeypatch.setattr(stacks, "ManagementServer", broken)
    app = cdk.App(context={**CDK_JSON_CONTEXT, "keyName": "ops", "adminCidr": "203.0.113.0/24"}, outdir=str(tmp_path))
    with pytest.raises(ConfigError) as caught:
        build(app)
    assert caught.value.problems == [
        "keyName, adminCidr: rejected while building server: Error: Malformed instance type identifier"
    ]


def test_main_reports_a_construct_error_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("mmbatch-efs/Network: something a setting caused")

    monkeypatch.setattr(stacks, "Network", broken)
    app = cdk.App(context={**CDK_JSON_CONTEXT, "privateOnly": True}, outdir=str(tmp_path))
    monkeypatch.setattr(application.cdk, "App", lambda: app)  # the CLI would pass this context through the environment
    monkeypatch.setenv("CDK_VALIDATION", "false")
    assert main() == 1
    err = capsys.readouterr().err
    assert "privateOnly: rejected while building network: mmbatch-efs/Network: something a setting caused" in err
    assert "Traceback" not in err
