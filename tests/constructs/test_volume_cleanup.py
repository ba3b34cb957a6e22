"""N7: the opt-in cleanup of MMAB's per-job EBS volumes on stack deletion. The handler's logic against botocore's
Stubber (pages, only available and tagged volumes deleted, errors, the bounded wait), and the stack's wiring: least
privilege, deleted after the server and compute environments, cdk-nag clean under every pack."""

from __future__ import annotations

from typing import Any, Iterator

import boto3
import pytest
from botocore.stub import Stubber

from mmbatch_cdk.config import ConfigError, MmBatchConfig
from mmbatch_cdk.handlers import volume_cleanup as handler
from mmbatch_cdk.nag import ALL_PACKS, unacknowledged

from ..conftest import synthesize
from ..templates import Synth
from ..lint import cfn_lint

KEY, VALUE = "mmbatch-stack", "mmbatch-efs"
FILTERS = [{"Name": f"tag:{KEY}", "Values": [VALUE]}]


def _volume(volume_id: str, state: str, value: str = VALUE) -> dict[str, Any]:
    return {"VolumeId": volume_id, "State": state, "Size": 100, "AvailabilityZone": "us-east-1a",
            "Tags": [{"Key": "Name", "Value": "job"}, {"Key": KEY, "Value": value}]}


@pytest.fixture
def ec2() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("ec2", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _describe(stubber: Stubber, volumes: list[dict[str, Any]], *, token: str | None = None, next_token: str | None = None) -> None:
    expected: dict[str, Any] = {"Filters": FILTERS, "MaxResults": handler.PAGE_SIZE}
    if token:
        expected["NextToken"] = token
    stubber.add_response("describe_volumes", {"Volumes": volumes, **({"NextToken": next_token} if next_token else {})},
                         expected)


def _never_wait() -> bool:
    return False


def test_every_page_is_read_and_only_available_volumes_with_the_tag_are_deleted(ec2: Any) -> None:
    client, stubber = ec2
    _describe(stubber, [_volume("vol-1", "available"), _volume("vol-2", "deleting")], next_token="page2")
    # The API's filter is trusted no further than the tag: a volume of another deployment is never deleted.
    _describe(stubber, [_volume("vol-3", "available", value="other-stack"), _volume("vol-4", "available")], token="page2")
    stubber.add_response("delete_volume", {}, {"VolumeId": "vol-1"})
    stubber.add_response("delete_volume", {}, {"VolumeId": "vol-4"})
    assert handler.delete_available(client, KEY, VALUE, time_left=_never_wait, sleep=pytest.fail) == []


def test_attached_volumes_are_waited_for_then_deleted(ec2: Any) -> None:
    client, stubber = ec2
    slept: list[float] = []
    _describe(stubber, [_volume("vol-1", "in-use")])
    _describe(stubber, [_volume("vol-1", "available")])
    stubber.add_response("delete_volume", {}, {"VolumeId": "vol-1"})
    assert handler.delete_available(client, KEY, VALUE, time_left=lambda: True, sleep=slept.append) == []
    assert slept == [handler.POLL_SECONDS]


def test_the_wait_ends_when_time_is_up_and_names_what_is_still_attached(ec2: Any) -> None:
    client, stubber = ec2
    _describe(stubber, [_volume("vol-1", "in-use"), _volume("vol-2", "creating")])
    assert handler.delete_available(client, KEY, VALUE, time_left=_never_wait, sleep=pytest.fail) == ["vol-1", "vol-2"]


def test_a_volume_gone_meanwhile_is_fine_a_busy_one_waits_and_a_refusal_fails(ec2: Any) -> None:
    client, stubber = ec2
    _describe(stubber, [_volume("vol-1", "available"), _volume("vol-2", "available")])
    stubber.add_client_error("delete_volume", "InvalidVolume.NotFound", expected_params={"VolumeId": "vol-1"})
    stubber.add_client_error("delete_volume", "VolumeInUse", expected_params={"VolumeId": "vol-2"})
    assert handler.delete_available(client, KEY, VALUE, time_left=_never_wait, sleep=pytest.fail) == ["vol-2"]
    _describe(stubber, [_volume("vol-3", "available")])
    stubber.add_client_error("delete_volume", "UnauthorizedOperation", expected_params={"VolumeId": "vol-3"})
    with pytest.raises(Exception, match="UnauthorizedOperation"):
        handler.delete_available(client, KEY, VALUE, time_left=_never_wait, sleep=pytest.fail)


def test_a_volume_changing_state_when_deleted_is_waited_for_not_a_failure(ec2: Any) -> None:
    """IncorrectState (the volume is attaching or detaching again) is a volume not free yet, as VolumeInUse is."""
    client, stubber = ec2
    _describe(stubber, [_volume("vol-1", "available")])
    stubber.add_client_error("delete_volume", "IncorrectState", expected_params={"VolumeId": "vol-1"})
    assert handler.delete_available(client, KEY, VALUE, time_left=_never_wait, sleep=pytest.fail) == ["vol-1"]


class _Context:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/mmbatch-efs/1"


def _event(request: str, physical_id: str | None = None) -> dict[str, Any]:
    return {"RequestType": request, "StackId": STACK_ID,
            "ResourceProperties": {"ServiceToken": "arn", "TagKey": KEY, "TagValue": VALUE},
            **({"PhysicalResourceId": physical_id} if physical_id else {})}


@pytest.fixture
def cloudformation() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("cloudformation", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _stack_status(stubber: Stubber, status: str) -> None:
    stubber.add_response("describe_stacks", {"Stacks": [{"StackName": "mmbatch-efs", "StackStatus": status,
                                                         "CreationTime": "2026-01-01T00:00:00Z"}]},
                         {"StackName": STACK_ID})


def test_create_and_update_touch_nothing_and_keep_one_physical_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handler.boto3, "client", lambda *a, **k: pytest.fail("no AWS call on Create or Update"))
    created = handler.on_event(_event("Create"), _Context(900_000))
    assert created == {"PhysicalResourceId": f"ebs-cleanup-{VALUE}"}
    assert handler.on_event(_event("Update", created["PhysicalResourceId"]), _Context(900_000)) == created


@pytest.mark.parametrize("status", ["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"])
def test_a_delete_outside_the_stacks_deletion_keeps_every_volume(cloudformation: Any, monkeypatch: pytest.MonkeyPatch,
                                                                 status: str) -> None:
    client, stubber = cloudformation
    monkeypatch.setattr(handler.boto3, "client", lambda service, **k: client if service == "cloudformation" else None)
    _stack_status(stubber, status)  # and no EC2 call: the EC2 "client" above is None
    assert handler.on_event(_event("Delete", f"ebs-cleanup-{VALUE}"), _Context(900_000)) == {
        "PhysicalResourceId": f"ebs-cleanup-{VALUE}"}


def test_a_delete_that_leaves_attached_volumes_fails_naming_them(ec2: Any, cloudformation: Any,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    clients = {"ec2": ec2[0], "cloudformation": cloudformation[0]}
    monkeypatch.setattr(handler.boto3, "client", lambda service, **k: clients[service])
    _stack_status(cloudformation[1], "DELETE_IN_PROGRESS")
    _describe(ec2[1], [_volume("vol-9", "in-use")])
    # Less than the margin left: no wait, and the error names the volume.
    with pytest.raises(RuntimeError, match="vol-9.*delete the stack again"):
        handler.on_event(_event("Delete", f"ebs-cleanup-{VALUE}"), _Context(handler.MARGIN_MS - 1))


def test_a_delete_that_leaves_no_volume_succeeds(ec2: Any, cloudformation: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The usual stack deletion: every tagged volume deleted, nothing left attached, so the deletion must go on, not fail
    with "0 volume(s) still attached" (which would leave the stack DELETE_FAILED after a complete cleanup)."""
    clients = {"ec2": ec2[0], "cloudformation": cloudformation[0]}
    monkeypatch.setattr(handler.boto3, "client", lambda service, **k: clients[service])
    _stack_status(cloudformation[1], "DELETE_IN_PROGRESS")
    _describe(ec2[1], [_volume("vol-1", "available")])
    ec2[1].add_response("delete_volume", {}, {"VolumeId": "vol-1"})
    assert handler.on_event(_event("Delete", f"ebs-cleanup-{VALUE}"), _Context(900_000)) == {
        "PhysicalResourceId": f"ebs-cleanup-{VALUE}"}


def test_an_update_keeps_the_physical_id_it_was_given_even_when_the_tag_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new physical id on Update is a replacement to CloudFormation, which then sends the old resource a Delete:
    the id CloudFormation gave is answered back whatever the properties now say."""
    monkeypatch.setattr(handler.boto3, "client", lambda *a, **k: pytest.fail("no AWS call on Update"))
    event = _event("Update", "ebs-cleanup-earlier-value")
    assert handler.on_event(event, _Context(900_000)) == {"PhysicalResourceId": "ebs-cleanup-earlier-value"}


# ----------------------------------------------------------------------------- the stack


@pytest.fixture(scope="module")
def cleanup_synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize({"ebsCleanupOnDelete": "true"}, tmp_path_factory.mktemp("cleanup"))


def test_off_by_default(synth: Any) -> None:
    assert not synth("efs").resources("Custom::EbsVolumeCleanup")


def test_the_cleanup_is_deleted_after_the_server_and_every_compute_environment(cleanup_synth: Synth) -> None:
    resources = cleanup_synth.template["Resources"]
    (cleanup_id, cleanup), = cleanup_synth.resources("Custom::EbsVolumeCleanup").items()
    assert (cleanup["Properties"]["TagKey"], cleanup["Properties"]["TagValue"]) == (KEY, "mmbatch-efs")
    # The node queues' compute environments (the head queue's are Fargate: no EBS volumes) and the server.
    after = [*cleanup_synth.node_resources("AWS::Batch::ComputeEnvironment"), *cleanup_synth.resources("AWS::EC2::Instance")]
    assert len(after) >= 2
    for name in after:
        assert cleanup_id in resources[name].get("DependsOn", []), name


def test_the_handler_may_delete_only_volumes_with_the_tag(cleanup_synth: Synth) -> None:
    (function_id, _), = [(n, f) for n, f in cleanup_synth.resources("AWS::Lambda::Function").items()
                         if f["Properties"].get("Handler") == "volume_cleanup.on_event"]
    role = cleanup_synth.template["Resources"][function_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = [s for p in cleanup_synth.resources("AWS::IAM::Policy").values()
                  if {"Ref": role} in p["Properties"]["Roles"] for s in p["Properties"]["PolicyDocument"]["Statement"]]
    by_sid = {s.get("Sid"): s for s in statements}
    assert (by_sid["ListVolumes"]["Action"], by_sid["ListVolumes"]["Resource"]) == ("ec2:DescribeVolumes", "*")
    assert by_sid["DeleteOwnVolumes"]["Action"] == "ec2:DeleteVolume"
    assert by_sid["DeleteOwnVolumes"]["Condition"] == {"StringEquals": {f"aws:ResourceTag/{KEY}": "mmbatch-efs"}}
    assert by_sid["ReadOwnStackStatus"]["Resource"] == {"Ref": "AWS::StackId"}
    assert {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
            if not a.startswith("logs:")} == {"ec2:DescribeVolumes", "ec2:DeleteVolume", "cloudformation:DescribeStacks"}


def test_the_handler_asset_is_the_handler_file_alone(cleanup_synth: Synth) -> None:
    (function,) = [f for f in cleanup_synth.resources("AWS::Lambda::Function").values()
                   if f["Properties"].get("Handler") == "volume_cleanup.on_event"]
    asset_hash = cleanup_synth.stack.resolve(function["Properties"]["Code"]["S3Key"]).removesuffix(".zip")
    assert sorted(p.name for p in (cleanup_synth.directory / f"asset.{asset_hash}").iterdir()) == ["volume_cleanup.py"]
    assert function["Properties"]["Timeout"] * 1000 > handler.MARGIN_MS


def test_the_handler_times_out_before_the_provider_framework_that_waits_for_it(cleanup_synth: Synth) -> None:
    """The provider framework's function (aws-cdk-lib: 15 min) invokes the handler synchronously: a handler allowed as
    long would be cut off with it, and CloudFormation would hear nothing until the custom resource's service timeout,
    instead of the handler's error naming the volumes still attached."""
    functions = cleanup_synth.resources("AWS::Lambda::Function").values()
    (cleanup,) = [f for f in functions if f["Properties"].get("Handler") == "volume_cleanup.on_event"]
    (framework,) = [f for f in functions if f["Properties"].get("Handler") == "framework.onEvent"]
    assert cleanup["Properties"]["Timeout"] < framework["Properties"]["Timeout"]


def test_cdk_nag_finds_nothing_under_any_pack(cleanup_synth: Synth) -> None:
    report = cleanup_synth.validation_report()
    assert [v["ruleName"] for p in report["pluginReports"] for v in p["violations"]
            if not v["ruleName"].startswith("Annotation::mmbatch:")] == []
    assert unacknowledged(cleanup_synth.stack, ALL_PACKS) == []


def test_cfn_lint_passes(cleanup_synth: Synth) -> None:
    assert cfn_lint(cleanup_synth.template_path) == []


def test_it_is_refused_where_volumes_are_not_tagged() -> None:
    with pytest.raises(ConfigError) as caught:
        MmBatchConfig.from_mapping({"ebsCleanupOnDelete": "true", "ebsScoping": "account"})
    assert any(p.startswith("ebsCleanupOnDelete: ") and "ebsScoping=tag" in p for p in caught.value.problems)


@pytest.fixture(scope="module")
def alone() -> tuple[Any, Any, dict[str, Any]]:
    """The construct alone in a bare stack, with the compliance profile's props only: (stack, profile, its log group)."""
    import aws_cdk as cdk

    from mmbatch_cdk.compliance import ComplianceProfile
    from mmbatch_cdk.volume_cleanup import VolumeCleanup

    stack = cdk.Stack(cdk.App(), "Profile")
    profile = ComplianceProfile(stack, "Compliance")
    VolumeCleanup(stack, "Cleanup", tag=(KEY, VALUE), **profile.props("cleanup"))
    (logs,) = cdk.assertions.Template.from_stack(stack).find_resources("AWS::Logs::LogGroup").values()
    return stack, profile, logs


def test_the_compliance_profile_encrypts_the_cleanup_logs_with_its_key(alone: tuple[Any, Any, dict[str, Any]]) -> None:
    stack, profile, logs = alone
    assert logs["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [stack.get_logical_id(profile.key.node.default_child), "Arn"]}


def test_the_construct_keeps_its_logs_a_month_by_default_and_after_the_stack(alone: tuple[Any, Any, dict[str, Any]]) -> None:
    """A team's own app that gives no log_retention gets the documented default (ONE_MONTH), as the app's logRetentionDays."""
    _, _, logs = alone
    assert logs["Properties"]["RetentionInDays"] == 30
    assert (logs["DeletionPolicy"], logs["UpdateReplacePolicy"]) == ("RetainExceptOnCreate", "Retain")
