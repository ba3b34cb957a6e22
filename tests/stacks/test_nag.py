"""cdk-nag in every synth: zero unacknowledged findings, and a finding fails synth.

AwsSolutions runs in every synth, HIPAA Security and NIST 800-53 R5 too with ``compliance=hipaa``. Without a
profile those two packs run here, over the construct tree each configuration's synth already built.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs

from mmbatch_cdk.application import build
from mmbatch_cdk.nag import ALL_PACKS, COMPLIANCE_PACKS, DEFAULT_PACKS, acknowledge_compliance, unacknowledged

from ..conftest import CDK_JSON_CONTEXT, COMPLIANCE_CONFIGS, CONFIGS

# Warnings the project raises on purpose (documented in docs/, each with its id); anything else is a finding.
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
def test_the_synth_ran_the_packs_of_its_profile(synth, name: str) -> None:
    plugins = {p["pluginName"] for p in synth(name).validation_report()["pluginReports"]} - {"Construct Annotations", "CloudFormation Validate"}
    assert plugins == set(ALL_PACKS if name in COMPLIANCE_CONFIGS else DEFAULT_PACKS)


@pytest.mark.parametrize("name", [n for n in CONFIGS if n not in COMPLIANCE_CONFIGS])
def test_without_a_profile_every_hipaa_and_nist_finding_is_acknowledged(synth, name: str) -> None:
    assert unacknowledged(synth(name).stack, COMPLIANCE_PACKS) == []


def test_unacknowledged_reads_acknowledgements_as_cdks_report_does() -> None:
    stack = cdk.Stack(cdk.App(), "Bare")
    plain, acknowledged_above, acknowledged_beside = (logs.LogGroup(stack, name) for name in ("Plain", "Above", "Beside"))
    acknowledge_compliance(acknowledged_above, "CloudWatchLogGroupEncrypted", "on the L2 construct, above its CfnLogGroup")
    cdk.Validations.of(stack.node.find_child("Beside")).acknowledge(
        cdk.Acknowledgment(id="HIPAA.Security::HIPAA.Security-CloudWatchLogGroupEncrypted", reason="one pack only"))
    assert sorted(unacknowledged(stack, COMPLIANCE_PACKS)) == [
        ("HIPAA.Security::HIPAA.Security-CloudWatchLogGroupEncrypted", "Bare/Plain/Resource"),
        ("NIST.800.53.R5::NIST.800.53.R5-CloudWatchLogGroupEncrypted", "Bare/Beside/Resource"),
        ("NIST.800.53.R5::NIST.800.53.R5-CloudWatchLogGroupEncrypted", "Bare/Plain/Resource"),
    ]
    assert plain.node.path == "Bare/Plain" and acknowledged_beside.node.path == "Bare/Beside"


@pytest.mark.parametrize("name", list(CONFIGS))
def test_every_acknowledgement_is_narrow_and_gives_a_specific_reason(synth, name: str) -> None:
    stack = synth(name).stack
    acknowledgements = [
        (path, rule, reason)
        for path, rules in synth(name).metadata(cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        for rule, reason in rules.items()
    ]
    ours = [a for a in acknowledgements if a[1].split("::")[0] in ALL_PACKS]
    assert len(ours) >= 7
    assert {rule.split("::")[0] for _, rule, _ in ours} == set(ALL_PACKS)
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
