"""QueueQuickstart: per-queue smoke test, engine parameters and drill, with outputs named after the queue."""

from __future__ import annotations

from typing import Any

import pytest

from mmbatch_cdk import BatchCompute
from mmbatch_cdk.quickstart import QueueQuickstart

from .jobs_fixture import Parts, build_parts


@pytest.fixture(scope="module")
def parts() -> Parts:
    parts = build_parts()
    arm = BatchCompute(parts.stack, "Arm", vpc=parts.vpc, storage=parts.stack.node.find_child("Storage"),  # type: ignore[arg-type]
                       agent=parts.stack.node.find_child("Server").agent_installer,  # type: ignore[attr-defined]
                       instance_types=["m7g.large"])
    QueueQuickstart(parts.stack, "Jq1Quickstart", compute=parts.compute, name="Jq1", drill=True)
    QueueQuickstart(parts.stack, "Jq2Quickstart", compute=arm, name="Jq2")
    return parts


def queue_ref(parts: Parts, compute: BatchCompute) -> dict[str, Any]:
    return {"Fn::GetAtt": [parts.stack.get_logical_id(compute.job_queue.node.default_child), "JobQueueArn"]}


def test_outputs_are_named_after_each_queue(parts: Parts) -> None:
    outputs = parts.template().to_json()["Outputs"]
    assert set(outputs) == {
        "SmokeTestSubmitCommandJq1", "NextflowConfigParameterJq1", "MiniwdlConfigParameterJq1", "CromwellConfigParameterJq1",
        "SpotDrillTemplateIdJq1", "SpotDrillStartCommandJq1",
        "SmokeTestSubmitCommandJq2", "NextflowConfigParameterJq2", "MiniwdlConfigParameterJq2", "CromwellConfigParameterJq2",
    }


def test_each_queues_parameters_name_that_queue_only(parts: Parts) -> None:
    arm = parts.stack.node.find_child("Arm")
    assert isinstance(arm, BatchCompute)
    parameters = parts.resources("AWS::SSM::Parameter")
    assert len(parameters) == 6
    for props in (p["Properties"] for p in parameters.values()):
        queue = "Jq1" if props["Name"].startswith("/Jobs/Jq1/") else "Jq2"
        assert props["Name"].split("/")[-1] in ("nextflow.config", "miniwdl.cfg", "cromwell.conf")
        assert props["Type"] == "String" and props["Tier"] == "Standard"
        pieces = props["Value"]["Fn::Join"][1]
        own, other = (parts.compute, arm) if queue == "Jq1" else (arm, parts.compute)
        assert queue_ref(parts, own) in pieces and queue_ref(parts, other) not in pieces


def test_the_drill_targets_the_queue_tag_and_only_where_asked(parts: Parts) -> None:
    (template,) = parts.resources("AWS::FIS::ExperimentTemplate").values()
    # The queue's tag and, as the nodes here are wired to no server, the stack-name default of the deployment tag.
    assert template["Properties"]["Targets"]["SpotInstances"]["ResourceTags"] == {"mmbatch:queue": "Jq1",
                                                                                  "mmbatch-stack": "Jobs"}


def test_smoke_test_runs_on_its_queue(parts: Parts) -> None:
    outputs = parts.template().to_json()["Outputs"]
    assert queue_ref(parts, parts.compute) in outputs["SmokeTestSubmitCommandJq1"]["Value"]["Fn::Join"][1]


def test_single_queue_parameters_default_path() -> None:
    parts = build_parts()
    QueueQuickstart(parts.stack, "Quickstart", compute=parts.compute)
    names = sorted(p["Properties"]["Name"] for p in parts.resources("AWS::SSM::Parameter").values())
    assert names == ["/Jobs/default/cromwell.conf", "/Jobs/default/miniwdl.cfg", "/Jobs/default/nextflow.config"]
    assert "SmokeTestSubmitCommand" in parts.template().to_json()["Outputs"]


def test_bad_name() -> None:
    parts = build_parts()
    with pytest.raises(ValueError, match="QueueQuickstart Q: name 'jq-1' is not accepted; expected letters and digits only"):
        QueueQuickstart(parts.stack, "Q", compute=parts.compute, name="jq-1")
