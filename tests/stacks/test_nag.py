"""cdk-nag AwsSolutions runs in every synth: zero unacknowledged findings, and a finding fails synth."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2

from mmbatch_cdk.application import build

from ..conftest import CDK_JSON_CONTEXT, CONFIGS

# Warnings the project raises on purpose (documented in the README, each with its id); anything else is a finding.
OUR_WARNINGS = "Annotation::mmbatch:"


@pytest.mark.parametrize("name", list(CONFIGS))
def test_no_unacknowledged_findings(synth, name: str) -> None:
    report = synth(name).validation_report()
    findings = [
        (v["ruleName"], [c["constructPath"] for c in v["violatingConstructs"]])
        for plugin in report["pluginReports"]
        for v in plugin["violations"]
        if not v["ruleName"].startswith(OUR_WARNINGS)
    ]
    assert findings == []


@pytest.mark.parametrize("name", list(CONFIGS))
def test_every_acknowledgement_is_narrow_and_gives_a_specific_reason(synth, name: str) -> None:
    stack = synth(name).stack
    acknowledgements = [
        (construct.node.path, rule, reason)
        for construct in stack.node.find_all()
        for entry in construct.node.metadata
        if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for rule, reason in entry.data.items()
    ]
    ours = [a for a in acknowledgements if "AwsSolutions" in a[1]]
    assert len(ours) >= 7
    for path, rule, reason in ours:
        assert len(reason) > 60, (path, rule, reason)
        assert path != stack.node.path and path.count("/") >= 2, f"{rule} acknowledged on {path}: too broad"
        if re.search(r"-IAM[45]", rule):
            assert "[" in rule, f"{rule}: acknowledge one finding (policy or resource), not the whole rule"


def test_a_finding_fails_synth(tmp_path: Path) -> None:
    app = cdk.App(context=CDK_JSON_CONTEXT, outdir=str(tmp_path))
    stack = build(app)
    open_group = ec2.SecurityGroup(stack, "Open", vpc=stack.network.vpc)
    open_group.add_ingress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(22))
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    rules = {v["ruleName"] for p in report["pluginReports"] for v in p["violations"]}
    assert any("AwsSolutions-EC23" in rule for rule in rules), rules
