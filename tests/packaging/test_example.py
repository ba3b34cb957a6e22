"""examples/team_vpc: a team's app composing the constructs differently from our stacks synthesizes cleanly."""

from __future__ import annotations

import importlib.util
import json
from types import ModuleType
from typing import Any

import aws_cdk as cdk
import pytest

from ..templates import shell_parts, user_data_document
from ..conftest import CDK_JSON_CONTEXT, REPO
from ..lint import cfn_lint

EXAMPLE = REPO / "examples" / "team_vpc" / "app.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("team_vpc_app", EXAMPLE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    outdir = tmp_path_factory.mktemp("example")
    flags = json.loads((EXAMPLE.parent / "cdk.json").read_text())["context"]  # as the CLI reads them from cdk.json
    app = cdk.App(outdir=str(outdir), context={**flags, "aws:cdk:disable-stack-trace": True, "aws:cdk:enable-path-metadata": True, "@aws-cdk/core:failSynthOnValidationErrors": False})
    stack = load_example().build(app)
    assembly = app.synth()
    template = assembly.get_stack_by_name(stack.stack_name).template
    report_path = outdir / "validation-report.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else {"pluginReports": []}
    warnings = {c.node.path: str(e.data) for c in stack.node.find_all() for e in c.node.metadata
                if e.type == "aws:cdk:warning"}
    return {"template": template, "report": report, "dir": outdir, "warnings": warnings,
            "path": outdir / f"{stack.artifact_id}.template.json"}


def of_type(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def test_one_storage_one_server_no_vpc_created(example) -> None:
    t = example["template"]
    assert len(of_type(t, "AWS::EFS::FileSystem")) == 1
    assert len(of_type(t, "AWS::EC2::Instance")) == 1
    assert of_type(t, "AWS::EC2::VPC") == {} and of_type(t, "AWS::EC2::Subnet") == {}
    (server,) = of_type(t, "AWS::EC2::Instance").values()
    assert server["Properties"]["SubnetId"] == "subnet-0123456789abcdef1"
    assert "AvailabilityZone" not in server["Properties"]  # the subnet decides; no zone name in the template


def test_two_queues_with_their_own_instance_types_priorities_and_disks(example) -> None:
    t = example["template"]
    environments = {k: v["Properties"] for k, v in of_type(t, "AWS::Batch::ComputeEnvironment").items()}
    by_types = {tuple(p["ComputeResources"]["InstanceTypes"]): p for p in environments.values()}
    assert set(by_types) == {("c7i.2xlarge", "c7i.4xlarge", "c6i.4xlarge"), ("r7i.8xlarge", "r7i.16xlarge")}
    for props in environments.values():
        assert props["ComputeResources"]["Subnets"] == ["subnet-0123456789abcdef1", "subnet-0123456789abcdef2"]
        assert props["ComputeResources"]["Type"] == "SPOT"
    assert sorted(q["Properties"]["Priority"] for q in of_type(t, "AWS::Batch::JobQueue").values()) == [10, 20]
    disks = sorted(
        lt["Properties"]["LaunchTemplateData"]["BlockDeviceMappings"][0]["Ebs"]["VolumeSize"]
        for lt in of_type(t, "AWS::EC2::LaunchTemplate").values()
        if "BlockDeviceMappings" in lt["Properties"]["LaunchTemplateData"]
    )
    assert disks == [30, 100]


def test_both_queues_reach_the_one_storage_and_server_and_share_a_log_group(example) -> None:
    t = example["template"]
    ingress = [r["Properties"] for r in of_type(t, "AWS::EC2::SecurityGroupIngress").values()]
    nfs_sources = {json.dumps(p["SourceSecurityGroupId"]) for p in ingress if p["FromPort"] == 2049}
    mmab_sources = {json.dumps(p["SourceSecurityGroupId"]) for p in ingress if p["FromPort"] == 8080}
    assert len(nfs_sources) == 2 and nfs_sources == mmab_sources
    assert len(of_type(t, "AWS::Logs::LogGroup")) == 1
    assert len(of_type(t, "AWS::EFS::MountTarget")) == 2


def test_cdk_nag_has_no_findings(example) -> None:
    # cdk.json's @aws-cdk/core:annotationsInValidationReport lists warnings too; this one is expected (last test).
    violations = [v["ruleName"] for p in example["report"]["pluginReports"] for v in p["violations"]
                  if v["ruleName"] != "Annotation::mmbatch:checkpointTime"]
    assert example["report"]["pluginReports"], "cdk-nag did not run"
    assert violations == []


def test_cfn_lint_clean(example) -> None:
    assert cfn_lint(example["path"]) == []


def test_server_settings_reach_its_user_data(example) -> None:
    (server,) = of_type(example["template"], "AWS::EC2::Instance").values()
    script = "".join(shell_parts(user_data_document(server["Properties"]["UserData"])))
    assert "export CKPT_INTERVAL=20m\n" in script
    assert "export MMAB_SOURCE='s3://genomics-artifacts/mmab/mmab-{version}.deb'\n" in script


def test_the_big_memory_queue_is_warned_about_in_the_teams_app_too(example) -> None:
    warnings = {path: text for path, text in example["warnings"].items() if "checkpointTime" in text}
    assert list(warnings) == ["GenomicsBatch/BigMemory"]
    assert warnings["GenomicsBatch/BigMemory"].startswith("r7i.8xlarge (~176 s), r7i.16xlarge (~350 s): ")


def test_the_example_configures_the_same_feature_flags_as_our_app() -> None:
    """Else the CLI prints "N feature flags are not configured" for the example (tests/test_cli.py checks ours)."""
    assert json.loads((EXAMPLE.parent / "cdk.json").read_text())["context"] == CDK_JSON_CONTEXT
