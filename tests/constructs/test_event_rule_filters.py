"""Each EventBridge rule's whole pattern, read from its own resource: a filter lost from one rule must fail here, not be
hidden by another rule whose pattern contains it (``has_resource_properties`` matches any rule that is a superset)."""

from __future__ import annotations

from typing import Any

import pytest

from mmbatch_cdk.monitoring import RUNNABLE_CANCEL_REASON_PREFIX

from ..templates import Synth
from .observability_app import Built, shared


@pytest.fixture(scope="module")
def built() -> Built:
    return shared(("mmbatch-checkpoint", "mmbatch-scratch"))


def pattern(built: Built, rule: str) -> dict[str, Any]:
    logical_id = built.stack.get_logical_id(built.monitoring.node.find_child(rule).node.default_child)  # type: ignore[arg-type]
    return dict(built.template["Resources"][logical_id]["Properties"]["EventPattern"])


def test_the_failed_jobs_rule_counts_failed_jobs_of_this_deployments_queues_and_nothing_else(built: Built) -> None:
    queue = {"Fn::GetAtt": [built.stack.get_logical_id(built.compute.job_queue.node.default_child), "JobQueueArn"]}
    assert pattern(built, "FailedJobsRule") == {
        "source": ["aws.batch"], "detail-type": ["Batch Job State Change"], "detail": {"status": ["FAILED"], "jobQueue": [queue]}}


def test_the_runnable_cancellations_rule_counts_only_the_time_limits_cancellations_on_these_queues(built: Built) -> None:
    queue = {"Fn::GetAtt": [built.stack.get_logical_id(built.compute.job_queue.node.default_child), "JobQueueArn"]}
    assert pattern(built, "RunnableCancellationsRule") == {
        "source": ["aws.batch"], "detail-type": ["Batch Job State Change"],
        "detail": {"status": ["FAILED"], "jobQueue": [queue], "statusReason": [{"prefix": RUNNABLE_CANCEL_REASON_PREFIX}]}}


def test_the_spot_interruptions_rule_is_the_regions_warnings_as_documented(built: Built) -> None:
    # EventBridge cannot filter Spot warnings by tag or Batch environment (the setting's help says so).
    assert pattern(built, "SpotInterruptionsRule") == {
        "source": ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"]}


def test_with_three_queues_the_job_rules_name_each_queue(synth: Any) -> None:
    s: Synth = synth("efs-multiqueue")
    queues = sorted(s.resources("AWS::Batch::JobQueue"))  # the head queue's too: a failed head job is a failed pipeline
    assert len(queues) == 4
    rules = [r["Properties"]["EventPattern"] for r in s.resources("AWS::Events::Rule").values()
             if r["Properties"]["EventPattern"].get("source") == ["aws.batch"]]
    assert len(rules) == 2
    for rule in rules:
        assert sorted(q["Fn::GetAtt"][0] for q in rule["detail"]["jobQueue"]) == queues
