"""QueueQuickstart: per-queue smoke test, engine parameters and drill, with outputs named after the queue."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mmbatch_cdk import BatchCompute
from mmbatch_cdk.job_definition import checkpoint_environment
from mmbatch_cdk.quickstart import QueueQuickstart

from .jobs_fixture import Parts, build_parts

MMC = checkpoint_environment(mode="iterative", interval="20m")


@pytest.fixture(scope="module")
def parts() -> Parts:
    parts = build_parts()
    arm = BatchCompute(parts.stack, "Arm", vpc=parts.vpc, storage=parts.stack.node.find_child("Storage"),  # type: ignore[arg-type]
                       agent=parts.stack.node.find_child("Server").agent_installer,  # type: ignore[attr-defined]
                       instance_types=["m7g.large"])
    QueueQuickstart(parts.stack, "Jq1Quickstart", compute=parts.compute, name="Jq1", drill=True)
    # Jq2 with every per-queue setting given, Jq1 with the defaults.
    QueueQuickstart(parts.stack, "Jq2Quickstart", compute=arm, name="Jq2", spot_attempts=3, environment=MMC,
                    efs_access_point_id="fsap-0123456789abcdef0", efs_file_system_id="fs-0123456789abcdef0")
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


def _texts(parts: Parts, queue: str) -> dict[str, str]:
    """The queue's parameter values by file name, with their CloudFormation references left as JSON."""
    return {p["Properties"]["Name"].rsplit("/", 1)[1]: json.dumps(p["Properties"]["Value"])
            for p in parts.resources("AWS::SSM::Parameter").values() if p["Properties"]["Name"].startswith(f"/Jobs/{queue}/")}


def test_spot_attempts_reach_the_smoke_test_and_every_engine_of_that_queue(parts: Parts) -> None:
    attempts = {("Jq1" if k.startswith("Jq1") else "Jq2"): v["Properties"]["RetryStrategy"]["Attempts"]
                for k, v in parts.resources("AWS::Batch::JobDefinition").items()}
    assert attempts == {"Jq1": 5, "Jq2": 3}
    for queue, count in (("Jq1", 5), ("Jq2", 3)):
        texts = _texts(parts, queue)
        assert f"maxSpotAttempts = {count}" in texts["nextflow.config"], queue
        assert f"awsBatchRetryAttempts = {count}" in texts["cromwell.conf"], queue
        assert f'\\"preemptible\\": {count - 1}' in texts["miniwdl.cfg"], queue


def test_checkpoint_overrides_and_the_efs_ids_reach_the_engine_configurations(parts: Parts) -> None:
    texts = _texts(parts, "Jq2")
    assert "--env MMC_CHECKPOINT_MODE=iterative --env MMC_CHECKPOINT_INTERVAL=20m" in texts["nextflow.config"]
    assert "MMC_CHECKPOINT_INTERVAL" in texts["miniwdl.cfg"]
    assert "fsap = fsap-0123456789abcdef0" in texts["miniwdl.cfg"] and "fs = fs-0123456789abcdef0" in texts["miniwdl.cfg"]
    assert not [t for t in _texts(parts, "Jq1").values() if "MMC_" in t or "fsap-0" in t], "Jq1 was given none"
