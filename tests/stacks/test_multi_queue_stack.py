"""Multi-queue: three compute environments with distinct priorities, one storage, one server."""

from __future__ import annotations

import json

import pytest

from ..templates import Synth


@pytest.fixture(scope="module", params=["efs-multiqueue", "juicefs-multiqueue"])
def mq(synth, request) -> Synth:
    return synth(request.param)


def _queue_of(s: Synth, ce_id: str) -> dict:
    return next(q["Properties"] for q in s.node_resources("AWS::Batch::JobQueue").values()
                if ce_id in json.dumps(q["Properties"]["ComputeEnvironmentOrder"][0]["ComputeEnvironment"]))


def test_three_queues_with_distinct_priorities_and_families(mq: Synth) -> None:
    environments = mq.node_resources("AWS::Batch::ComputeEnvironment")
    assert len(environments) == 3
    by_family = {}
    for ce_id, ce in environments.items():
        families = {t.split(".")[0] for t in ce["Properties"]["ComputeResources"]["InstanceTypes"]}
        assert len(families) == 1
        by_family[families.pop()[0]] = _queue_of(mq, ce_id)["Priority"]
    assert by_family["c"] == 30 and by_family["m"] == 20 and by_family["r"] == 10


def test_each_queue_has_its_own_launch_template_following_its_latest_version(mq: Synth) -> None:
    templates = {k for k in mq.resources("AWS::EC2::LaunchTemplate") if "LaunchTemplate" in k and k.startswith("Queues")}
    assert len(templates) == 3
    for ce in mq.node_resources("AWS::Batch::ComputeEnvironment").values():
        ref = ce["Properties"]["ComputeResources"]["LaunchTemplate"]
        assert ref["LaunchTemplateId"]["Ref"] in templates
        assert ref["Version"] == {"Fn::GetAtt": [ref["LaunchTemplateId"]["Ref"], "LatestVersionNumber"]}


def test_all_queues_share_one_storage_and_one_server(mq: Synth) -> None:
    assert len(mq.resources("AWS::EC2::Instance")) == 1
    storage_groups = [k for k in mq.resources("AWS::EC2::SecurityGroup") if k.startswith("CheckpointStorageSecurityGroup")]
    assert len(storage_groups) == 1
    sources = sorted(
        r["Properties"]["SourceSecurityGroupId"]["Fn::GetAtt"][0][:9]
        for r in mq.resources("AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [storage_groups[0], "GroupId"]}
    )
    assert sources.count("QueuesJq1") == sources.count("QueuesJq2") == sources.count("QueuesJq3") == 1
    node_roles = [k for k in mq.resources("AWS::IAM::Role") if k.startswith("Queues") and "InstanceRole" in k]
    granted = {p["Properties"]["Roles"][0]["Ref"] for p in mq.resources("AWS::IAM::Policy").values()}
    assert set(node_roles) <= granted and len(node_roles) == 3


def test_outputs_list_every_queue(mq: Synth) -> None:
    assert {"JobQueueArnJq1", "JobQueueArnJq2", "JobQueueArnJq3"} <= set(mq.template["Outputs"])
    assert "JobQueueArn" not in mq.template["Outputs"]


def test_per_queue_settings_reach_their_queue(synth) -> None:
    s = synth("juicefs-multiqueue")
    memory = next(ce["Properties"]["ComputeResources"] for ce in s.node_resources("AWS::Batch::ComputeEnvironment").values()
                  if ce["Properties"]["ComputeResources"]["InstanceTypes"][0].startswith("r7g"))
    assert memory["InstanceTypes"] == ["r7g.large", "r7g.xlarge"] and memory["MaxvCpus"] == 64
