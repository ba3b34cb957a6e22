"""Workspace and HeadJobQueue props: what they accept, and what they refuse before building anything."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2

from mmbatch_cdk import HeadJobQueue, Workspace
from mmbatch_cdk.workspace import InputLocation, bucket_name_problem, parse_input_location


@pytest.mark.parametrize(("text", "location"), [
    ("refs", InputLocation("refs")),
    ("refs/hg38", InputLocation("refs", "hg38")),
    ("s3://refs/hg38/", InputLocation("refs", "hg38")),
    ("team.data-1/a/b_c(1)", InputLocation("team.data-1", "a/b_c(1)")),
])
def test_input_locations_are_a_bucket_and_an_optional_prefix(text: str, location: InputLocation) -> None:
    assert parse_input_location(text) == location


@pytest.mark.parametrize("name", ["ab", "Refs", "refs_", "-refs", "re..fs", "10.0.0.1", "xn--refs", "refs-s3alias", "a" * 64])
def test_bucket_names_follow_s3s_rules(name: str) -> None:
    assert bucket_name_problem(name)


def test_good_bucket_names_pass() -> None:
    assert [bucket_name_problem(n) for n in ("abc", "team-work.2026", "a" * 63)] == [None, None, None]


@pytest.mark.parametrize(("props", "message"), [
    ({"bucket_name": "Bad_Name"}, "'Bad_Name' is not an S3 bucket name"),
    ({"input_locations": ["refs/hg38/*"]}, "the prefix 'hg38/*' is not accepted"),
    ({"input_locations": ["refs/a//b"]}, "the prefix 'a//b' is not accepted"),
    ({"work_expiry_days": 0}, "work_expiry_days 0 is not accepted"),
    ({"work_expiry_days": True}, "work_expiry_days True is not accepted"),
])
def test_workspace_refuses_bad_props_naming_itself(props: dict, message: str) -> None:
    stack = cdk.Stack(cdk.App())
    with pytest.raises(ValueError, match=r"^Workspace W: .*" + message.replace("(", r"\(").replace("*", r"\*")):
        Workspace(stack, "W", **props)


@pytest.mark.parametrize("prop", ["nextflow_image", "cromwell_image"])
def test_head_queue_refuses_an_image_aws_batch_would_not_take_in_the_settings_words(prop: str) -> None:
    """container_image.container_image_problem behind HeadJobQueue's images and the *HeadImage settings."""
    from mmbatch_cdk.config import ConfigError, MmBatchConfig

    image = "registry.example.org/" + "a" * 234 + ":1"  # 257 characters; 255 is AWS Batch's limit
    key = {"nextflow_image": "nextflowHeadImage", "cromwell_image": "cromwellHeadImage"}[prop]
    with pytest.raises(ConfigError) as setting:
        MmBatchConfig.from_mapping({"workspace": "true", "headQueue": "true", key: image})
    (found,) = [p for p in setting.value.problems if p.startswith(f"{key}: ")]
    stack = cdk.Stack(cdk.App())
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0, restrict_default_security_group=False)
    with pytest.raises(ValueError) as construct:
        HeadJobQueue(stack, "H", vpc=vpc, workspace=Workspace(stack, "W"), **{prop: image})
    assert str(construct.value) == f"HeadJobQueue H: {prop} {found.partition(': ')[2]}"
    assert "is 257 characters; AWS Batch takes an image name of at most 255" in found
    assert MmBatchConfig.from_mapping({"workspace": "true", "headQueue": "true", key: image[:253]})


def test_an_image_name_of_255_characters_is_taken_and_one_of_256_is_not() -> None:
    """AWS Batch's own limit, to the character: a 256-character name passes synth and fails RegisterJobDefinition."""
    from mmbatch_cdk.container_image import IMAGE_MAX_LENGTH, container_image_problem

    image = "registry.example.org/" + "a" * 232 + ":1"
    assert (IMAGE_MAX_LENGTH, len(image)) == (255, 255) and container_image_problem(image) is None
    assert container_image_problem(image + "2") == (
        "'registry.example.org/aaaaaaaaaaaaaaaaaaa'... is 256 characters; AWS Batch takes an image name of at most 255")


def test_head_queue_refuses_a_bad_vcpu_limit() -> None:
    stack = cdk.Stack(cdk.App())
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0, restrict_default_security_group=False)
    with pytest.raises(ValueError, match="HeadJobQueue H: max_vcpus 0 is not accepted"):
        HeadJobQueue(stack, "H", vpc=vpc, workspace=Workspace(stack, "W"), max_vcpus=0)
