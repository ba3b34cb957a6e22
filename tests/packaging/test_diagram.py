"""The architecture diagrams, drawn by tools/diagram.py from the default template: current, valid Mermaid.

The README carries the overview (one box per top-level construct), docs/architecture.md the detailed diagram.
"""

from __future__ import annotations

import importlib.util
import subprocess
from types import ModuleType
from typing import Any

import pytest

from ..conftest import REPO
from ..node import NODE_BIN


def load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("diagram", REPO / "tools" / "diagram.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


diagram = load_tool()


@pytest.fixture(scope="module")
def drawn(synth) -> str:
    return str(diagram.from_assembly(synth("efs").template_path))


@pytest.fixture(scope="module")
def overview(synth) -> str:
    return str(diagram.from_assembly(synth("efs").template_path, detailed=False))


def test_readme_shows_the_current_overview(overview: str) -> None:
    readme = (REPO / "README.md").read_text()
    assert diagram.replace_block(readme, overview) == readme, "the README's diagram is stale: run `make diagram`"


def test_the_architecture_page_shows_the_current_diagram(drawn: str) -> None:
    page = (REPO / "docs" / "architecture.md").read_text()
    assert diagram.replace_block(page, drawn) == page, "docs/architecture.md's diagram is stale: run `make diagram`"


@pytest.mark.parametrize("which", ["drawn", "overview"])
def test_mermaid_parses_it(which: str, request: pytest.FixtureRequest) -> None:
    """Mermaid's own parser (what GitHub renders with), run headless with jsdom: tools/mermaid_parse.mjs."""
    result = subprocess.run([str(NODE_BIN / "node"), str(REPO / "tools" / "mermaid_parse.mjs")],
                            input=request.getfixturevalue(which), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "flowchart-v2"


def test_one_box_per_top_level_construct_and_the_links_between_them(drawn: str) -> None:
    boxes = [line.split("[", 1)[1].rstrip("]") for line in drawn.splitlines() if line.startswith("  subgraph ")]
    assert boxes == ["Network", "CheckpointStorage", "LogShipping", "ManagementServer", "Compute", "Workspace", "Quickstart",
                     "HeadQueue", "Monitoring"]
    assert "-->|tcp 2049| CheckpointStorageSecurityGroup" in drawn  # compute nodes reach NFS
    assert "-->|tcp 8080| ManagementServerSecurityGroup" in drawn  # and the MMAB API
    assert "RouteTable" not in drawn and "CDKMetadata" not in drawn


def test_the_overview_folds_each_construct_into_one_box(overview: str) -> None:
    boxes = [line.split("[", 1)[0].strip() for line in overview.splitlines() if "[" in line and "-->" not in line]
    assert boxes == ["Network", "CheckpointStorage", "LogShipping", "ManagementServer", "Compute", "Workspace", "Quickstart",
                     "HeadQueue", "Monitoring"]
    assert "  Compute -->|tcp 2049| CheckpointStorage" in overview.splitlines()
    assert "  Compute -->|tcp 8080| ManagementServer" in overview.splitlines()
    assert not any(line.split("-->")[0].strip() == line.rsplit(" ", 1)[-1] for line in overview.splitlines() if "-->" in line)


TEMPLATE: dict[str, Any] = {"Resources": {
    "Vpc": {"Type": "AWS::EC2::VPC"},
    "Table": {"Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": {"Ref": "Vpc"}}},
    "Fs": {"Type": "AWS::EFS::FileSystem"},
    "NodeSg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"VpcId": {"Ref": "Vpc"}}},
    "FsSg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"VpcId": {"Ref": "Vpc"}}},
    "Nfs": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {
        "IpProtocol": "tcp", "FromPort": 2049, "ToPort": 2049,
        "GroupId": {"Fn::GetAtt": ["FsSg", "GroupId"]}, "SourceSecurityGroupId": {"Fn::GetAtt": ["NodeSg", "GroupId"]}}},
    "Role": {"Type": "AWS::IAM::Role"},
    "Policy": {"Type": "AWS::IAM::Policy", "Properties": {
        "Roles": [{"Ref": "Role"}], "PolicyDocument": {"Statement": [{"Resource": {"Fn::GetAtt": ["Fs", "Arn"]}}]}}},
    "Profile": {"Type": "AWS::IAM::InstanceProfile", "Properties": {"Roles": [{"Ref": "Role"}]}},
    "Template": {"Type": "AWS::EC2::LaunchTemplate", "Properties": {"LaunchTemplateData": {
        "IamInstanceProfile": {"Arn": {"Fn::GetAtt": ["Profile", "Arn"]}},
        "UserData": {"Fn::Base64": {"Fn::Sub": "mount ${Fs}:/ /mnt"}}}}},
    "Provider": {"Type": "AWS::Lambda::Function"},
}}
PLACES = {name: ("Storage" if name.startswith("Fs") else "Net" if name in ("Vpc", "Table") else "Compute", name)
          for name in TEMPLATE["Resources"] if name != "Provider"}


def test_folding_rules() -> None:
    drawn = diagram.diagram(TEMPLATE, PLACES)
    arrows = {line.strip() for line in drawn.splitlines() if "-->" in line}
    assert arrows == {
        "NodeSg -->|tcp 2049| FsSg",  # an ingress rule: from the source group to the group it opens
        "Role --> Fs",  # a policy: from its role to what it grants
        "Template --> Role",  # the instance profile stands for its role
        "Template --> Fs",  # Fn::Sub in user data
    }
    boxes = {line.split("[", 1)[0].strip() for line in drawn.splitlines() if '["' in line}
    assert boxes == {"Vpc", "Fs", "NodeSg", "FsSg", "Role", "Template"}  # no route table, policy, profile, rule
    # ... and nothing outside a top-level construct (CDK's providers): "Provider" has no place


def test_make_diagram_rewrites_only_the_block() -> None:
    readme = "intro\n<!-- diagram:start -->\nold\n<!-- diagram:end -->\nrest\n"
    assert diagram.replace_block(readme, "flowchart LR\n") == (
        "intro\n<!-- diagram:start -->\n```mermaid\nflowchart LR\n```\n<!-- diagram:end -->\nrest\n")
    with pytest.raises(ValueError, match="no <!-- diagram:start -->"):
        diagram.replace_block("no block", "flowchart LR\n")


def test_overview_of_the_folding_example() -> None:
    drawn = diagram.overview(TEMPLATE, PLACES)
    assert drawn.splitlines()[1:] == [
        "  Net[Net]", "  Storage[Storage]", "  Compute[Compute]",  # in the order the template first names them
        "  Compute -->|tcp 2049| Storage",  # the ingress rule and the policy and user data's Fn::Sub: one arrow
    ]
