"""What the composed stacks let a user see without a shell: shipped logs, alarms to an address, a dashboard, jobs
stuck in RUNNABLE cancelled with their reason, cost tags on everything AWS Batch launches, and a budget."""

from __future__ import annotations

import json

import pytest

from ..templates import Synth


@pytest.mark.parametrize("name", ["efs", "juicefs-multiqueue"])
def test_outputs_name_the_dashboard_the_topic_and_every_log_group(synth, name: str) -> None:
    outputs = synth(name).template["Outputs"]
    for key in ("DashboardUrl", "AlarmTopicArn", "NodeBootLogGroupName", "NodeLogGroupName", "ServerLogGroupName", "JobLogGroupName"):
        assert key in outputs, key
    assert "#dashboards:name=" in json.dumps(outputs["DashboardUrl"]["Value"])


def test_the_event_topic_output_names_the_topic_the_event_rules_publish_to(synth) -> None:
    """EventTopicArn is what a user subscribes to, to see each failed job, RUNNABLE cancellation and Spot warning; it must
    be there under that name and be the rules' topic, not the alarm topic (which carries only alarm state changes)."""
    s = synth("efs")
    published_to = {t["Arn"]["Ref"] for r in s.resources("AWS::Events::Rule").values()
                    for t in r["Properties"].get("Targets", []) if isinstance(t["Arn"], dict) and "Ref" in t["Arn"]}
    (topic,) = published_to & set(s.resources("AWS::SNS::Topic"))
    outputs = s.template["Outputs"]
    assert outputs["EventTopicArn"]["Value"] == {"Ref": topic}
    assert outputs["AlarmTopicArn"]["Value"] != {"Ref": topic}


def test_every_queue_cancels_jobs_stuck_in_runnable_with_the_reason(synth) -> None:
    for queue in synth("juicefs-multiqueue").node_resources("AWS::Batch::JobQueue").values():
        actions = queue["Properties"]["JobStateTimeLimitActions"]
        assert {(a["Action"], a["State"]) for a in actions} == {("CANCEL", "RUNNABLE")}
        assert {a["MaxTimeSeconds"] for a in actions} == {4 * 3600, 600}
        assert any(a["Reason"].startswith("CAPACITY:") for a in actions)


def test_an_address_gets_the_alarms_and_the_budget(synth) -> None:
    s = synth("efs-existing-vpc")
    subscription = s.one("AWS::SNS::Subscription")["Properties"]
    assert (subscription["Protocol"], subscription["Endpoint"]) == ("email", "ops@example.org")
    budget = s.one("AWS::Budgets::Budget")["Properties"]
    assert budget["Budget"]["BudgetLimit"] == {"Amount": 500, "Unit": "USD"}
    assert budget["Budget"]["CostFilters"] == {"TagKeyValue": ["user:mmbatch:prefix$mmbatch"]}
    assert synth("efs").resources("AWS::Budgets::Budget") == {} and synth("efs").resources("AWS::SNS::Subscription") == {}


def test_storage_alarms_follow_the_backend(synth) -> None:
    def metrics(s: Synth) -> set[str]:
        return {a["Properties"].get("MetricName", "") or json.dumps(a["Properties"].get("Metrics", ""))
                for a in s.resources("AWS::CloudWatch::Alarm").values()}

    assert not any("MemoryDB" in m for m in metrics(synth("efs")))
    assert sum("AWS/MemoryDB" in m for m in metrics(synth("juicefs"))) == 3
    # Provisioned throughput (efs-existing-vpc): PercentIOLimit applies; burst credits do not.
    assert "PercentIOLimit" in metrics(synth("efs-existing-vpc")) and "BurstCreditBalance" not in metrics(synth("efs-existing-vpc"))


def test_user_tags_reach_what_batch_launches_and_the_logs_keep_what_was_asked(synth) -> None:
    s = synth("efs-existing-vpc")
    environment = s.node_one("AWS::Batch::ComputeEnvironment")["Properties"]["ComputeResources"]["Tags"]
    assert {"team": "genomics", "costCenter": "cc-1234", "mmbatch:prefix": "mmbatch"}.items() <= environment.items()
    for spec in s.node_launch_template()[1]["Properties"]["LaunchTemplateData"]["TagSpecifications"]:
        tags = {t["Key"]: t["Value"] for t in spec["Tags"]}
        assert tags["team"] == "genomics" and tags["mmbatch:prefix"] == "mmbatch", spec["ResourceType"]
    assert {g["Properties"]["RetentionInDays"] for g in s.resources("AWS::Logs::LogGroup").values()} == {90}
