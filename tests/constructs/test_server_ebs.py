"""F14: the server's EBS permissions for what MMAB's per-job volumes need only if used: a customer managed default
EBS key, and snapshots, still limited to this deployment's tag."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2

from mmbatch_cdk import ManagementServer
from mmbatch_cdk.config import ConfigError, MmBatchConfig

KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _statements(**props: Any) -> dict[str, dict[str, Any]]:
    stack = cdk.Stack(cdk.App(), "Server", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0, restrict_default_security_group=False)
    ManagementServer(stack, "Server", vpc=vpc, **props)
    policies = cdk.assertions.Template.from_stack(stack).find_resources("AWS::IAM::Policy")
    return {st.get("Sid", ""): _plain(st) for p in policies.values() for st in p["Properties"]["PolicyDocument"]["Statement"]}


def _plain(value: Any) -> Any:
    """``value`` with the partition's and URL suffix's references of a commercial region filled in."""
    pseudo = {"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}
    if isinstance(value, dict) and set(value) == {"Fn::Join"}:
        return "".join(_plain(part) for part in value["Fn::Join"][1])
    if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in pseudo:
        return pseudo[value["Ref"]]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def test_by_default_nothing_for_keys_or_snapshots() -> None:
    text = json.dumps(_statements())
    assert "kms:" not in text and "Snapshot" not in text


def test_a_customer_managed_default_key_is_usable_through_ec2_only_with_grants_for_aws_resources() -> None:
    statements = _statements(ebs_kms_key_arn=KEY)
    grant = statements["DefaultEbsKeyGrantsForEc2"]
    assert (grant["Action"], grant["Resource"]) == ("kms:CreateGrant", KEY)
    assert grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"},
                                  "StringEquals": {"kms:ViaService": "ec2.eu-west-1.amazonaws.com"}}
    use = statements["DefaultEbsKeyThroughEc2"]
    assert use["Action"] == ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom",
                     "kms:ReEncryptTo"]
    assert use["Resource"] == KEY and use["Condition"] == {"StringEquals": {"kms:ViaService": "ec2.eu-west-1.amazonaws.com"}}


def test_snapshots_are_opt_in_and_limited_to_the_deployment_tag() -> None:
    statements = _statements(ebs_snapshots=True, deployment_tag_value="prod")
    tag = {"StringEquals": {"aws:ResourceTag/mmbatch-stack": "prod"}}
    snapshots = "arn:aws:ec2:eu-west-1::snapshot/*"
    assert statements["SnapshotOwnVolumes"]["Condition"] == tag
    assert statements["SnapshotOwnVolumes"]["Resource"] == "arn:aws:ec2:eu-west-1:123456789012:volume/*"
    assert statements["CreateTaggedSnapshots"]["Resource"] == snapshots
    assert statements["CreateTaggedSnapshots"]["Condition"] == {"StringEquals": {"aws:RequestTag/mmbatch-stack": "prod"}}
    assert statements["TagSnapshotsAtCreationOnly"]["Condition"] == {"StringEquals": {"ec2:CreateAction": "CreateSnapshot"}}
    restore = statements["RestoreAndDeleteOwnSnapshots"]
    assert (restore["Action"], restore["Resource"], restore["Condition"]) == (
        ["ec2:CreateVolume", "ec2:DeleteSnapshot"], snapshots, tag)


def test_the_settings_reach_the_server_and_a_bad_key_is_refused() -> None:
    config = MmBatchConfig.from_mapping({"ebsKmsKeyArn": KEY, "ebsSnapshots": "true"})
    assert (config.props("server")["ebs_kms_key_arn"], config.props("server")["ebs_snapshots"]) == (KEY, True)
    with pytest.raises(ConfigError, match="ebsKmsKeyArn: 'alias/aws/ebs' is not accepted; expected a KMS key ARN"):
        MmBatchConfig.from_mapping({"ebsKmsKeyArn": "alias/aws/ebs"})
