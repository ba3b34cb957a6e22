"""The smoke-test job: a public image, a counter that runs here for real, and its submit-job command."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import aws_cdk as cdk
import pytest

from mmbatch_cdk.smoke_test import SMOKE_TEST_IMAGE, SMOKE_TEST_SCRIPT, SmokeTestJobDefinition

from .jobs_fixture import Parts, build_parts


@pytest.fixture(scope="module")
def parts() -> Parts:
    parts = build_parts()
    smoke = SmokeTestJobDefinition(parts.stack, "Smoke", compute=parts.compute, allocate_mib=512, report_seconds=10)
    cdk.CfnOutput(parts.stack, "SmokeTestSubmit", value=smoke.submit_command())
    return parts


def definition(parts: Parts) -> dict[str, Any]:
    (props,) = [v["Properties"] for v in parts.resources("AWS::Batch::JobDefinition").values()]
    return props


def test_public_image_memory_with_headroom_and_the_counter_command(parts: Parts) -> None:
    container = definition(parts)["ContainerProperties"]
    assert container["Image"] == SMOKE_TEST_IMAGE and container["Image"].startswith("public.ecr.aws/")
    assert {r["Type"]: r["Value"] for r in container["ResourceRequirements"]} == {"VCPU": "1", "MEMORY": "768"}
    assert container["Command"] == ["python3", "-u", "-c", SMOKE_TEST_SCRIPT, "512", "10", "120"]
    assert definition(parts)["RetryStrategy"]["EvaluateOnExit"][0] == {"Action": "RETRY", "OnStatusReason": "Host EC2*"}


def test_the_counter_runs_and_prints_numbered_lines() -> None:
    # No pause between lines (the job's own interval is a prop, checked below): the counter, not the clock, is tested.
    result = subprocess.run([sys.executable, "-u", "-c", SMOKE_TEST_SCRIPT, "4", "0", "3"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "smoke-test started: 4 MiB resident, one line every 0 s, 3 lines"
    assert [line.split()[1] for line in lines[1:4]] == ["count=1/3", "count=2/3", "count=3/3"]
    assert lines[-1] == "smoke-test finished"


def test_submit_command_names_region_queue_and_definition(parts: Parts) -> None:
    output = parts.template().to_json()["Outputs"]["SmokeTestSubmit"]["Value"]
    parts_of = output["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else f"<{next(iter(p))}:{list(p.values())[0]}>" for p in parts_of)
    queue_id = parts.stack.get_logical_id(parts.compute.job_queue.node.default_child)
    assert text.startswith("aws batch submit-job --region <Ref:AWS::Region> --job-name mmbatch-smoke-test ")
    assert f"--job-queue <Fn::GetAtt:['{queue_id}', 'JobQueueArn']>" in text
    assert "--job-definition <Ref:Smoke" in text


@pytest.mark.parametrize("props, message", [
    ({"allocate_mib": -1}, "allocate_mib -1 is not accepted; expected an integer of at least 0"),
    ({"report_seconds": 0}, "report_seconds 0 is not accepted"),
    ({"reports": "many"}, "reports 'many' is not accepted"),
])
def test_bad_props(props: dict[str, Any], message: str) -> None:
    parts = build_parts()
    with pytest.raises(ValueError, match=message):
        SmokeTestJobDefinition(parts.stack, "Bad", compute=parts.compute, **props)
