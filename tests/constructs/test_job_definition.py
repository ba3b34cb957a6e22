"""CheckpointedJobDefinition: the Spot retry rule, MMBatch's per-job environment, logs, tags, role, validation."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import assertions

from mmbatch_cdk import CheckpointedJobDefinition
from mmbatch_cdk.job_definition import checkpoint_environment

from .jobs_fixture import Parts, build_parts

SPOT_RETRY = [
    {"Action": "RETRY", "OnStatusReason": "Host EC2*"},
    {"Action": "EXIT", "OnReason": "*"},
]


@pytest.fixture(scope="module")
def parts() -> Parts:
    parts = build_parts()
    role = iam.Role(parts.stack, "JobRole", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
    CheckpointedJobDefinition(parts.stack, "Plain", compute=parts.compute, image="public.ecr.aws/docker/library/python:3.12-slim",
                              cpu=1, memory_mib=2048)
    CheckpointedJobDefinition(
        parts.stack, "Tuned", compute=parts.compute, image="public.ecr.aws/docker/library/python:3.12-slim", cpu=0.5,
        memory_mib=1024, command=["python3", "-c", "print(1)"], spot_attempts=10, checkpoint_mode="iterative",
        checkpoint_interval="20m", checkpoint_diagnosis=False, checkpoint_image_subpath="team-a/rnaseq",
        environment={"SAMPLE": "s1"}, job_role=role, timeout=cdk.Duration.hours(12),
    )
    return parts


@pytest.fixture(scope="module")
def definitions(parts: Parts) -> dict[str, dict[str, Any]]:
    found = parts.resources("AWS::Batch::JobDefinition")
    return {("Tuned" if k.startswith("Tuned") else "Plain"): v["Properties"] for k, v in found.items()}


def env_of(props: dict[str, Any]) -> dict[str, str]:
    return {e["Name"]: e["Value"] for e in props["ContainerProperties"].get("Environment", [])}


def test_retries_a_spot_reclaim_and_exits_on_anything_else_in_that_order(definitions) -> None:
    assert definitions["Plain"]["RetryStrategy"] == {"Attempts": 5, "EvaluateOnExit": SPOT_RETRY}
    assert definitions["Tuned"]["RetryStrategy"] == {"Attempts": 10, "EvaluateOnExit": SPOT_RETRY}


def test_checkpoint_environment_is_set_only_where_overridden(definitions) -> None:
    assert env_of(definitions["Plain"]) == {}
    assert env_of(definitions["Tuned"]) == {
        "SAMPLE": "s1",
        "MMC_CHECKPOINT_MODE": "iterative",
        "MMC_CHECKPOINT_INTERVAL": "20m",
        "MMC_CHECKPOINT_DIAGNOSIS": "false",
        "MMC_CHECKPOINT_IMAGE_PATH": "/mmc-checkpoint",
        "MMC_CHECKPOINT_IMAGE_SUBPATH": "team-a/rnaseq",
    }


def test_logs_go_to_the_compute_log_group_and_tags_propagate(parts: Parts, definitions) -> None:
    log_group_id = parts.stack.get_logical_id(parts.compute.job_log_group.node.default_child)
    for props in definitions.values():
        assert props["PropagateTags"] is True
        log = props["ContainerProperties"]["LogConfiguration"]
        assert log["LogDriver"] == "awslogs"
        assert log["Options"]["awslogs-group"] == {"Ref": log_group_id}
        assert log["Options"]["awslogs-stream-prefix"] == "mmbatch"


def test_job_role_only_when_given_and_resources_as_given(parts: Parts, definitions) -> None:
    assert "JobRoleArn" not in definitions["Plain"]["ContainerProperties"]
    tuned = definitions["Tuned"]["ContainerProperties"]
    role_id = next(k for k in parts.resources("AWS::IAM::Role") if k.startswith("JobRole"))
    assert tuned["JobRoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert {r["Type"]: r["Value"] for r in tuned["ResourceRequirements"]} == {"VCPU": "0.5", "MEMORY": "1024"}
    assert tuned["Command"] == ["python3", "-c", "print(1)"]
    assert definitions["Plain"]["Type"] == "container"
    assert definitions["Plain"]["PlatformCapabilities"] == ["EC2"]


def test_an_attempt_timeout_is_set_only_where_given(definitions) -> None:
    # AWS Batch ends an attempt that runs longer; without one given, a hung job runs until someone stops it.
    assert definitions["Tuned"]["Timeout"] == {"AttemptDurationSeconds": 12 * 3600}
    assert not definitions["Plain"].get("Timeout"), "aws-cdk-lib writes an empty Timeout without one"


def test_attributes(parts: Parts) -> None:
    jd = parts.stack.node.find_child("Tuned")
    assert isinstance(jd, CheckpointedJobDefinition)
    assert jd.job_definition_arn == jd.job_definition.job_definition_arn
    assert jd.spot_attempts == 10 and jd.checkpoint_environment["MMC_CHECKPOINT_MODE"] == "iterative"


@pytest.mark.parametrize(
    "props, message",
    [
        ({"spot_attempts": 1}, "spot_attempts 1 is not accepted; expected an integer from 2 to 10"),
        ({"spot_attempts": 11}, "spot_attempts 11 is not accepted; expected an integer from 2 to 10"),
        ({"spot_attempts": True}, "spot_attempts True is not accepted"),
        ({"checkpoint_mode": "always"}, "checkpoint_mode 'always' is not accepted; expected one of iterative, none"),
        ({"checkpoint_interval": "2m"}, "checkpoint_interval '2m' is not longer than the 120 s Spot interruption notice"),
        ({"checkpoint_interval": "fifteen"}, "checkpoint_interval 'fifteen' is not a duration; expected e.g. 15m"),
        ({"checkpoint_diagnosis": "yes"}, "checkpoint_diagnosis 'yes' is not accepted; expected True or False"),
        ({"checkpoint_image_subpath": "../etc"}, "checkpoint_image_subpath '../etc' is not accepted"),
        ({"checkpoint_image_subpath": "/abs"}, "checkpoint_image_subpath '/abs' is not accepted"),
        ({"environment": {"MMC_CHECKPOINT_MODE": "none"}}, "environment sets MMC_CHECKPOINT_MODE; use checkpoint_mode"),
        ({"cpu": 0}, "cpu 0 is not accepted; expected a positive number of vCPUs"),
        ({"memory_mib": 2}, "memory_mib 2 is not accepted; expected an integer of at least 4"),
        ({"image": "Busybox"}, "image 'Busybox' is not accepted; expected a container image such as"),
        ({"image": "registry.example.org/" + "a" * 235}, "is 256 characters; AWS Batch takes an image name of at most 255"),
    ],
)
def test_bad_props_name_the_prop_and_what_is_accepted(props: dict[str, Any], message: str) -> None:
    parts = _bare()
    kwargs: dict[str, Any] = {"compute": parts.compute, "image": "busybox", "cpu": 1, "memory_mib": 512, **props}
    with pytest.raises(ValueError) as caught:
        CheckpointedJobDefinition(parts.stack, "Bad", **kwargs)
    assert str(caught.value).startswith("CheckpointedJobDefinition Bad: ")
    assert message in str(caught.value)
    assert parts.stack.node.try_find_child("Bad") is None, "a rejected definition leaves nothing behind"


def test_a_three_minute_interval_is_accepted() -> None:
    parts = _bare()
    jd = CheckpointedJobDefinition(parts.stack, "Ok", compute=parts.compute, image="busybox", cpu=1, memory_mib=512,
                                   checkpoint_interval="2m1s", checkpoint_mode="none")
    assert jd.checkpoint_environment == {"MMC_CHECKPOINT_INTERVAL": "2m1s", "MMC_CHECKPOINT_MODE": "none"}


def test_four_mib_the_least_memory_aws_batch_takes_is_accepted() -> None:
    """AWS Batch's minimum is 4 MiB and the prop's message promises "at least 4": refusing 4 itself would turn
    away a value both AWS and the message accept."""
    parts = _bare()
    CheckpointedJobDefinition(parts.stack, "Tiny", compute=parts.compute, image="busybox", cpu=1, memory_mib=4)
    assert parts.stack.node.try_find_child("Tiny") is not None


def test_diagnosis_on_is_the_lowercase_true_mmbatch_reads() -> None:
    """MMC_CHECKPOINT_DIAGNOSIS overrides the server's boolean diagnosisMode: lowercase "true", spelled as the "false"
    of the other way (the fixture's Tuned job) and as JSON spells it; Python's str(True) would give "True"."""
    assert checkpoint_environment(diagnosis=True) == {"MMC_CHECKPOINT_DIAGNOSIS": "true"}
    assert checkpoint_environment(diagnosis=False) == {"MMC_CHECKPOINT_DIAGNOSIS": "false"}


_BARE: list[Parts] = []


def _bare() -> Parts:
    """One shared stack for the validation tests (nothing is synthesized)."""
    if not _BARE:
        _BARE.append(build_parts())
    return _BARE[0]


def test_template_has_no_privileged_container(parts: Parts) -> None:
    parts.template().has_resource_properties(
        "AWS::Batch::JobDefinition",
        {"ContainerProperties": assertions.Match.object_like({"Privileged": assertions.Match.absent()})},
    )
