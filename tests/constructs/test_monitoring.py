"""Monitoring, LogShipping's IAM and the RUNNABLE time limits on a bare stack: each alarm's metric, statistic, threshold."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Match

from mmbatch_cdk.monitoring import (
    FATAL_MARKER,
    REASON_STRINGS,
    Monitoring,
    apply_runnable_time_limits,
    runnable_time_limit_actions,
)

from ..lint import cfn_lint
from .observability_app import Built, shared

MEMORYDB = ["mmbatch-checkpoint", "mmbatch-scratch"]


@pytest.fixture(scope="module")
def bursting() -> Built:
    """EFS Bursting (both EFS alarms apply), two MemoryDB clusters, an email; cdk-nag on."""
    return shared(tuple(MEMORYDB))


@pytest.fixture(scope="module")
def elastic() -> tuple[Monitoring, assertions.Template]:
    """Monitoring alone on an imported queue and EFS Elastic file system (no EFS alarm applies), no email."""
    stack = cdk.Stack(cdk.App(), "Elastic")
    queue = batch.JobQueue.from_job_queue_arn(stack, "Queue", "arn:aws:batch:eu-west-1:111122223333:job-queue/q")
    fs = efs.FileSystem.from_file_system_attributes(stack, "Fs", file_system_id="fs-0123456789abcdef0",
                                                    security_group=ec2.SecurityGroup.from_security_group_id(stack, "Sg", "sg-0123"))
    monitoring = Monitoring(stack, "Monitoring", job_queues=[queue], efs_file_system=fs, efs_throughput_mode=efs.ThroughputMode.ELASTIC)
    return monitoring, assertions.Template.from_stack(stack)


def alarm(built: Built, name: str) -> dict[str, Any]:
    logical_id = built.stack.get_logical_id(built.monitoring.alarms[name].node.default_child)  # type: ignore[arg-type]
    return built.template["Resources"][logical_id]["Properties"]


def ref(built: Built, construct: Any) -> dict[str, str]:
    return {"Ref": built.stack.get_logical_id(construct.node.default_child)}


def test_every_alarm_notifies_the_topic(bursting: Built) -> None:
    topic = ref(bursting, bursting.monitoring.topic)
    memorydb = {f"MemoryDb{m}" for m in ("CPUUtilization", "EngineCPUUtilization", "DatabaseMemoryUsagePercentage")}
    assert set(bursting.monitoring.alarms) == {"FailedJobs", "RunnableCancellations", "SpotInterruptions", "NodeBootFailures", "ServerBootFailures",
                                               "FailedJobsDelivery", "RunnableCancellationsDelivery", "SpotInterruptionsDelivery",
                                               "ServerSystemCheck", "ServerInstanceCheck", "EfsIoLimit", "EfsBurstCredits", *memorydb}
    for name in bursting.monitoring.alarms:
        assert topic in alarm(bursting, name)["AlarmActions"], name


@pytest.mark.parametrize("name, rule, threshold, period", [
    ("FailedJobs", "FailedJobsRule", 1, 300),
    ("RunnableCancellations", "RunnableCancellationsRule", 1, 300),
    ("SpotInterruptions", "SpotInterruptionsRule", 20, 3600),
])
def test_event_count_alarms_count_their_rules_invocations(bursting: Built, name: str, rule: str, threshold: int, period: int) -> None:
    props = alarm(bursting, name)
    assert (props["Namespace"], props["MetricName"], props["Statistic"], props["Period"]) == ("AWS/Events", "Invocations", "Sum", period)
    rule_construct = bursting.monitoring.node.find_child(rule)
    assert props["Dimensions"] == [{"Name": "RuleName", "Value": ref(bursting, rule_construct)}]
    assert (props["Threshold"], props["ComparisonOperator"], props["EvaluationPeriods"]) == (
        threshold, "GreaterThanOrEqualToThreshold", 1)
    assert props["TreatMissingData"] == "notBreaching"


def test_failed_jobs_rule_matches_failed_jobs_of_this_deployments_queues_only(bursting: Built) -> None:
    queue_arn = {"Fn::GetAtt": [bursting.stack.get_logical_id(bursting.compute.job_queue.node.default_child), "JobQueueArn"]}
    bursting.assertions.has_resource_properties("AWS::Events::Rule", {
        "EventPattern": {"source": ["aws.batch"], "detail-type": ["Batch Job State Change"],
                         "detail": {"status": ["FAILED"], "jobQueue": [queue_arn]}},
        "State": "ENABLED",
    })
    bursting.assertions.has_resource_properties("AWS::Events::Rule", {
        "EventPattern": {"detail": {"status": ["FAILED"], "jobQueue": [queue_arn],
                                    "statusReason": [{"prefix": "Canceled by JobStateTimeLimit action"}]}},
    })
    bursting.assertions.has_resource_properties("AWS::Events::Rule", {
        "EventPattern": {"source": ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"]},
    })
    topic = ref(bursting, bursting.monitoring.event_topic)
    role = {"Fn::GetAtt": [bursting.stack.get_logical_id(
        bursting.monitoring.node.find_child("EventPublisher").node.default_child), "Arn"]}
    for rule in bursting.resources("AWS::Events::Rule").values():
        # One target each, so Invocations counts the rule's matches; the event topic, published to with our role.
        assert [(t["Arn"], t["RoleArn"]) for t in rule["Properties"]["Targets"]] == [(topic, role)]


def test_eventbridge_publishes_to_the_encrypted_event_topic_with_a_role_and_may_without_one(bursting: Built) -> None:
    topics = bursting.resources("AWS::SNS::Topic")
    topic = topics[bursting.stack.get_logical_id(bursting.monitoring.event_topic.node.default_child)]
    key = topic["Properties"]["KmsMasterKeyId"]
    assert key == topics[bursting.stack.get_logical_id(bursting.monitoring.topic.node.default_child)]["Properties"]["KmsMasterKeyId"]
    publisher = bursting.stack.get_logical_id(bursting.monitoring.node.find_child("EventPublisher").node.default_child)
    role = bursting.resources("AWS::IAM::Role")[publisher]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}}]
    policy = next(p["Properties"] for p in bursting.resources("AWS::IAM::Policy").values() if p["Properties"]["Roles"] == [{"Ref": publisher}])
    assert {(json.dumps(s["Action"]), json.dumps(s["Resource"])) for s in policy["PolicyDocument"]["Statement"]} == {
        ('"sns:Publish"', json.dumps(ref(bursting, bursting.monitoring.event_topic))),
        ('["kms:Decrypt", "kms:GenerateDataKey*"]', json.dumps(key)),
    }
    # Either way EventBridge publishes: the topic also admits the EventBridge principal, for this stack's rules only.
    topic_policy = next(p["Properties"] for p in bursting.resources("AWS::SNS::TopicPolicy").values()
                        if p["Properties"]["Topics"] == [ref(bursting, bursting.monitoring.event_topic)])
    statements = topic_policy["PolicyDocument"]["Statement"]
    assert [(s["Effect"], s["Condition"]) for s in statements if s["Effect"] == "Deny"] == [
        ("Deny", {"Bool": {"aws:SecureTransport": "false"}})]
    (admit,) = [s for s in statements if s["Effect"] == "Allow"]
    assert admit["Principal"] == {"Service": "events.amazonaws.com"} and admit["Action"] == "sns:Publish"
    assert admit["Resource"] == ref(bursting, bursting.monitoring.event_topic)
    rules = sorted(bursting.resources("AWS::Events::Rule"))
    assert sorted(a["Fn::GetAtt"][0] for a in admit["Condition"]["ArnEquals"]["aws:SourceArn"]) == rules
    assert all(a["Fn::GetAtt"][1] == "Arn" for a in admit["Condition"]["ArnEquals"]["aws:SourceArn"])
    key_id = key["Fn::GetAtt"][0]
    key_statements = bursting.resources("AWS::KMS::Key")[key_id]["Properties"]["KeyPolicy"]["Statement"]
    (events_key,) = [s for s in key_statements if s["Principal"] == {"Service": "events.amazonaws.com"}]
    assert events_key["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"] and events_key["Resource"] == "*"
    assert "cloudwatch.amazonaws.com" in json.dumps([s["Principal"] for s in key_statements])


@pytest.mark.parametrize("name, rule", [
    ("FailedJobsDelivery", "FailedJobsRule"),
    ("RunnableCancellationsDelivery", "RunnableCancellationsRule"),
    ("SpotInterruptionsDelivery", "SpotInterruptionsRule"),
])
def test_events_a_rule_cannot_deliver_raise_its_alarm(bursting: Built, name: str, rule: str) -> None:
    props = alarm(bursting, name)
    assert (props["Namespace"], props["MetricName"], props["Statistic"], props["Period"]) == ("AWS/Events", "FailedInvocations", "Sum", 300)
    assert props["Dimensions"] == [{"Name": "RuleName", "Value": ref(bursting, bursting.monitoring.node.find_child(rule))}]
    assert (props["Threshold"], props["ComparisonOperator"], props["TreatMissingData"]) == (1, "GreaterThanOrEqualToThreshold", "notBreaching")


def test_boot_failures_are_counted_by_a_metric_filter_on_the_boot_log_group(bursting: Built) -> None:
    bursting.assertions.has_resource_properties("AWS::Logs::MetricFilter", {
        "FilterPattern": '"mmbatch: FATAL"',
        "LogGroupName": ref(bursting, bursting.shipping.node_boot_log_group),
        "MetricTransformations": [{"MetricName": "NodeBootFailures", "MetricNamespace": "MMBatch/Observed", "MetricValue": "1"}],
    })
    props = alarm(bursting, "NodeBootFailures")
    assert (props["Namespace"], props["MetricName"], props["Statistic"], props["Period"], props["Threshold"]) == (
        "MMBatch/Observed", "NodeBootFailures", "Sum", 300, 1)
    assert FATAL_MARKER == "mmbatch: FATAL"


def test_a_server_that_cannot_configure_mmab_raises_an_alarm(bursting: Built) -> None:
    bursting.assertions.has_resource_properties("AWS::Logs::MetricFilter", {
        "FilterPattern": '"mmbatch: FATAL"',
        "LogGroupName": ref(bursting, bursting.shipping.server_log_group),
        "MetricTransformations": [{"MetricName": "ServerBootFailures", "MetricNamespace": "MMBatch/Observed", "MetricValue": "1"}],
    })
    props = alarm(bursting, "ServerBootFailures")
    assert (props["MetricName"], props["Statistic"], props["Period"], props["Threshold"]) == ("ServerBootFailures", "Sum", 300, 1)
    assert props["AlarmActions"] == [ref(bursting, bursting.monitoring.topic)]



ALARM_SEMANTICS = {
    # name: (comparison, evaluation periods, missing data). Counts of events fire on the first period that has any
    # and read no data as nothing happened; gauges (status checks, EFS, MemoryDB) need their periods in a row and show
    # a metric that stopped reporting as INSUFFICIENT_DATA rather than OK.
    **{name: ("GreaterThanOrEqualToThreshold", 1, "notBreaching") for name in (
        "FailedJobs", "RunnableCancellations", "SpotInterruptions", "NodeBootFailures", "ServerBootFailures",
        "FailedJobsDelivery", "RunnableCancellationsDelivery", "SpotInterruptionsDelivery")},
    "ServerSystemCheck": ("GreaterThanOrEqualToThreshold", 2, "missing"),
    "ServerInstanceCheck": ("GreaterThanOrEqualToThreshold", 3, "missing"),
    "EfsIoLimit": ("GreaterThanOrEqualToThreshold", 3, "missing"),
    "EfsBurstCredits": ("LessThanThreshold", 3, "missing"),  # credits running out: below the floor
    **{f"MemoryDb{m}": ("GreaterThanOrEqualToThreshold", 3, "missing")
       for m in ("CPUUtilization", "EngineCPUUtilization", "DatabaseMemoryUsagePercentage")},
}


def test_each_alarm_fires_in_its_direction_after_its_periods_and_reads_missing_data_as_it_should(bursting: Built) -> None:
    assert set(ALARM_SEMANTICS) == set(bursting.monitoring.alarms)
    for name, expected in ALARM_SEMANTICS.items():
        props = alarm(bursting, name)
        assert (props["ComparisonOperator"], props["EvaluationPeriods"], props["TreatMissingData"]) == expected, name


def test_server_system_check_recovers_the_instance_and_instance_check_notifies(bursting: Built) -> None:
    [instance_id] = bursting.resources("AWS::EC2::Instance")
    server = {"Ref": instance_id}
    system, instance = alarm(bursting, "ServerSystemCheck"), alarm(bursting, "ServerInstanceCheck")
    for props, metric, periods in ((system, "StatusCheckFailed_System", 2), (instance, "StatusCheckFailed_Instance", 3)):
        assert (props["Namespace"], props["MetricName"], props["Statistic"], props["Period"]) == ("AWS/EC2", metric, "Maximum", 60)
        assert props["Dimensions"] == [{"Name": "InstanceId", "Value": server}]
        assert (props["Threshold"], props["ComparisonOperator"], props["EvaluationPeriods"]) == (1, "GreaterThanOrEqualToThreshold", periods)
    recover = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":automate:", {"Ref": "AWS::Region"}, ":ec2:recover"]]}
    assert recover in system["AlarmActions"]
    assert recover not in instance["AlarmActions"]


def test_efs_alarms_only_where_they_apply(bursting: Built, elastic: tuple[Monitoring, assertions.Template]) -> None:
    io, credits = alarm(bursting, "EfsIoLimit"), alarm(bursting, "EfsBurstCredits")
    assert (io["Namespace"], io["MetricName"], io["Statistic"], io["Threshold"], io["ComparisonOperator"]) == (
        "AWS/EFS", "PercentIOLimit", "Average", 90, "GreaterThanOrEqualToThreshold")
    assert (credits["MetricName"], credits["Statistic"], credits["Threshold"], credits["ComparisonOperator"]) == (
        "BurstCreditBalance", "Minimum", 360 * 2**30, "LessThanThreshold")
    assert (io["Period"], io["EvaluationPeriods"]) == (300, 3)
    fs = ref(bursting, bursting.stack.node.find_child("Storage").file_system)
    assert io["Dimensions"] == credits["Dimensions"] == [{"Name": "FileSystemId", "Value": fs}]
    assert set(elastic[0].alarms) == {"FailedJobs", "RunnableCancellations", "SpotInterruptions", "FailedJobsDelivery",
                                      "RunnableCancellationsDelivery", "SpotInterruptionsDelivery"}


def test_memorydb_alarms_take_the_busiest_node_of_the_clusters(bursting: Built) -> None:
    for metric, threshold in (("CPUUtilization", 80), ("EngineCPUUtilization", 90), ("DatabaseMemoryUsagePercentage", 80)):
        props = alarm(bursting, f"MemoryDb{metric}")
        [query] = props["Metrics"]
        assert query["Expression"] == (f"SELECT MAX({metric}) FROM \"AWS/MemoryDB\" "
                                       "WHERE ClusterName = 'mmbatch-checkpoint' OR ClusterName = 'mmbatch-scratch'")
        assert (query["Period"], props["Threshold"], props["EvaluationPeriods"]) == (300, threshold, 3)


def test_topic_is_encrypted_with_a_rotated_key_cloudwatch_may_use_ssl_only_and_mails_the_address(
    bursting: Built, elastic: tuple[Monitoring, assertions.Template]
) -> None:
    key = ref(bursting, bursting.stack.node.find_child("Monitoring").node.find_child("TopicKey"))
    bursting.assertions.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": {"Fn::GetAtt": [key["Ref"], "Arn"]}})
    bursting.assertions.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True, "KeyPolicy": {"Statement": Match.array_with([
        Match.object_like({"Sid": "CloudWatchAlarmsPublish", "Principal": {"Service": "cloudwatch.amazonaws.com"},
                           "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                           # this account's alarms only (a confused-deputy guard): both keys, nothing else
                           "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                                         "ArnLike": {"aws:SourceArn": {"Fn::Join": ["", [
                                             "arn:", {"Ref": "AWS::Partition"}, ":cloudwatch:", {"Ref": "AWS::Region"}, ":",
                                             {"Ref": "AWS::AccountId"}, ":alarm:*"]]}}}})])}})
    bursting.assertions.has_resource_properties("AWS::SNS::TopicPolicy", {"PolicyDocument": {"Statement": Match.array_with([
        Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})])}})
    bursting.assertions.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.com"})
    elastic[1].resource_count_is("AWS::SNS::Subscription", 0)


def test_one_dashboard_with_every_alarm_and_its_url(bursting: Built) -> None:
    [dashboard] = bursting.resources("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for name in bursting.monitoring.alarms:
        assert bursting.stack.get_logical_id(bursting.monitoring.alarms[name].node.default_child) in body, name
    url = bursting.template["Outputs"]["DashboardUrl"]["Value"]["Fn::Join"][1]
    assert url[0] == "https://" and url[1]["Fn::FindInMap"][1] == {"Ref": "AWS::Partition"}
    assert url[2:5] == ["/cloudwatch/home?region=", {"Ref": "AWS::Region"}, "#dashboards:name="]
    [mapping] = bursting.template["Mappings"].values()
    assert mapping == {"aws": {"Host": "console.aws.amazon.com"}, "aws-cn": {"Host": "console.amazonaws.cn"},
                       "aws-us-gov": {"Host": "console.amazonaws-us-gov.com"}}


def graphs(built: Built) -> dict[str, list[list[Any]]]:
    """The dashboard's graph widgets, by title: each metric as written in the body (a reference as ``<LogicalId>``)."""
    [dashboard] = built.resources("AWS::CloudWatch::Dashboard").values()
    parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]
    body = json.loads("".join(p if isinstance(p, str) else f"<{p.get('Ref') or p['Fn::GetAtt'][0]}>" for p in parts))
    return {w["properties"]["title"]: w["properties"]["metrics"] for w in body["widgets"] if w["type"] == "metric"}


def test_the_dashboard_graphs_failed_and_cancelled_jobs_side_by_side_and_the_nodes_boot_failures(bursting: Built) -> None:
    # The graphs are where someone looks for when it started: a cancelled job missing from the jobs graph, or the
    # server's boot failures under the nodes' title, sends them to the wrong cause.
    found = graphs(bursting)
    rule = lambda name: f"<{bursting.stack.get_logical_id(bursting.monitoring.node.find_child(name).node.default_child)}>"  # noqa: E731
    assert [m[:4] for m in found["Failed and cancelled jobs"]] == [
        ["AWS/Events", "Invocations", "RuleName", rule("FailedJobsRule")],
        ["AWS/Events", "Invocations", "RuleName", rule("RunnableCancellationsRule")]]
    assert [m[-1]["label"] for m in found["Failed and cancelled jobs"]] == ["Failed", "Cancelled in RUNNABLE"]
    assert [m[:4] for m in found["Spot interruption warnings (region)"]] == [
        ["AWS/Events", "Invocations", "RuleName", rule("SpotInterruptionsRule")]]
    assert [m[:2] for m in found["Node boot failures"]] == [["MMBatch/Observed", "NodeBootFailures"]]


def test_both_topics_refuse_publishing_without_tls(bursting: Built) -> None:
    # Alarm texts name the deployment's resources; each topic's own policy must deny plain HTTP, not only one of them.
    policies = bursting.resources("AWS::SNS::TopicPolicy").values()
    for topic in (bursting.monitoring.topic, bursting.monitoring.event_topic):
        denied = [s.get("Condition") for p in policies if p["Properties"]["Topics"] == [ref(bursting, topic)]
                  for s in p["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
        assert denied == [{"Bool": {"aws:SecureTransport": "false"}}], topic.node.id


def test_the_topic_key_goes_with_the_stack_after_a_week(bursting: Built) -> None:
    # The key encrypts only the two topics, which go with the stack: a retained key would bill $1 a month for every
    # deployment ever destroyed and protect nothing. The compliance profile's key is the one kept.
    key = bursting.template["Resources"][bursting.stack.get_logical_id(bursting.monitoring.node.find_child("TopicKey").node.default_child)]
    assert (key["DeletionPolicy"], key["UpdateReplacePolicy"], key["Properties"]["PendingWindowInDays"]) == ("Delete", "Delete", 7)


@pytest.fixture(scope="module")
def tuned() -> Monitoring:
    """Monitoring built (not synthesized) with every threshold apart from its default and from each other."""
    stack = cdk.Stack(cdk.App(), "Tuned")
    queue = batch.JobQueue.from_job_queue_arn(stack, "Queue", "arn:aws:batch:eu-west-1:111122223333:job-queue/q")
    fs = efs.FileSystem.from_file_system_attributes(stack, "Fs", file_system_id="fs-0123456789abcdef0",
                                                    security_group=ec2.SecurityGroup.from_security_group_id(stack, "Sg", "sg-0123"))
    return Monitoring(
        stack, "Monitoring", job_queues=[queue], efs_file_system=fs, efs_throughput_mode=efs.ThroughputMode.BURSTING,
        node_boot_log_group=logs.LogGroup.from_log_group_name(stack, "Boot", "boot"),
        server_log_group=logs.LogGroup.from_log_group_name(stack, "Server", "server"), memorydb_cluster_names=["c"],
        failed_jobs_threshold=2, runnable_cancellations_threshold=3, spot_interruptions_per_hour=40, boot_failures_threshold=4,
        efs_percent_io_limit=71, efs_burst_credit_balance_gib=100, memorydb_cpu_percent=61, memorydb_engine_cpu_percent=62,
        memorydb_memory_percent=63,
    )


def test_each_threshold_prop_reaches_its_own_alarm_and_no_other(tuned: Monitoring) -> None:
    # Each is a setting (alarmFailedJobs, alarmSpotInterruptionsPerHour, ...): one ignored, or read by a neighbour whose
    # default is the same, would pass every test at the defaults and silently keep the alarm where the user moved it from.
    thresholds = {name: alarm.node.default_child.threshold for name, alarm in tuned.alarms.items()}  # type: ignore[union-attr]
    assert {name: thresholds[name] for name in (
        "FailedJobs", "RunnableCancellations", "SpotInterruptions", "NodeBootFailures", "ServerBootFailures", "EfsIoLimit",
        "EfsBurstCredits", "MemoryDbCPUUtilization", "MemoryDbEngineCPUUtilization", "MemoryDbDatabaseMemoryUsagePercentage",
    )} == {"FailedJobs": 2, "RunnableCancellations": 3, "SpotInterruptions": 40, "NodeBootFailures": 4,
           "ServerBootFailures": 1,  # one failed server boot is always worth a mail: there is one server
           "EfsIoLimit": 71, "EfsBurstCredits": 100 * 2**30, "MemoryDbCPUUtilization": 61,
           "MemoryDbEngineCPUUtilization": 62, "MemoryDbDatabaseMemoryUsagePercentage": 63}


# ------------------------------------------------------------------ RUNNABLE time limits


def test_queue_cancels_stuck_runnable_jobs_with_documented_reasons(bursting: Built) -> None:
    bursting.assertions.has_resource_properties("AWS::Batch::JobQueue", {"JobStateTimeLimitActions": [
        {"Action": "CANCEL", "State": "RUNNABLE", "MaxTimeSeconds": 14400, "Reason": "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY"},
        {"Action": "CANCEL", "State": "RUNNABLE", "MaxTimeSeconds": 600, "Reason": "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE"},
        {"Action": "CANCEL", "State": "RUNNABLE", "MaxTimeSeconds": 600, "Reason": "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT"},
    ]})


def test_reason_strings_are_what_the_l2_job_queue_renders() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    actions = runnable_time_limit_actions()
    queue = batch.JobQueue(stack, "Q", job_state_time_limit_actions=actions)
    rendered = stack.resolve(queue.node.default_child.job_state_time_limit_actions)  # type: ignore[union-attr]
    assert [r["reason"] for r in rendered] == [REASON_STRINGS[a.reason] for a in actions]
    assert len(REASON_STRINGS) == len(list(batch.JobStateTimeLimitActionsReason))


@pytest.mark.parametrize("kwargs", [{"capacity_max_time": cdk.Duration.minutes(5)},
                                    {"misconfiguration_max_time": cdk.Duration.hours(25)}])
def test_time_limits_outside_aws_batchs_range_are_rejected_by_name(kwargs: dict[str, cdk.Duration]) -> None:
    with pytest.raises(ValueError, match=f"{next(iter(kwargs))} must be between 10 minutes and 24 hours"):
        runnable_time_limit_actions(**kwargs)


def test_only_cancel_in_runnable_can_be_applied() -> None:
    queue = batch.JobQueue(cdk.Stack(cdk.App(), "S"), "Q")
    wrong = batch.JobStateTimeLimitAction(max_time=cdk.Duration.minutes(10), reason=batch.JobStateTimeLimitActionsReason.JOB_RESOURCE_REQUIREMENT,
                                          action=batch.JobStateTimeLimitActionsAction.TERMINATE)
    with pytest.raises(ValueError, match="only CANCEL in RUNNABLE"):
        apply_runnable_time_limits(queue, [wrong])


# ------------------------------------------------------------------ log groups and the agent's IAM


def test_log_groups_are_retained_with_the_retention_given(bursting: Built) -> None:
    for group in (bursting.shipping.node_boot_log_group, bursting.shipping.node_log_group, bursting.shipping.server_log_group):
        resource = bursting.template["Resources"][bursting.stack.get_logical_id(group.node.default_child)]  # type: ignore[arg-type]
        assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("RetainExceptOnCreate", "Retain")
        assert resource["Properties"]["RetentionInDays"] == 30


def test_agent_may_write_its_own_log_groups_only(bursting: Built) -> None:
    def statements(role: Any) -> list[dict[str, Any]]:
        [policy] = [p for p in bursting.resources("AWS::IAM::Policy").values() if ref(bursting, role) in p["Properties"]["Roles"]]
        return policy["Properties"]["PolicyDocument"]["Statement"]

    def log_writes(role: Any) -> list[Any]:
        return [s["Resource"] for s in statements(role) if "logs:PutLogEvents" in s["Action"]]

    arn = lambda group: {"Fn::GetAtt": [bursting.stack.get_logical_id(group.node.default_child), "Arn"]}  # noqa: E731
    shipping = bursting.shipping
    assert log_writes(bursting.compute.role) == [arn(shipping.node_boot_log_group), arn(shipping.node_log_group)]
    assert log_writes(bursting.server.role) == [arn(shipping.server_log_group)]
    for role in (bursting.compute.role, bursting.server.role):
        actions = {a for s in statements(role) if "logs:PutLogEvents" in s["Action"] for a in s["Action"]}
        assert actions == {"logs:CreateLogStream", "logs:PutLogEvents"}
        assert any(s["Action"] == "logs:DescribeLogStreams" for s in statements(role))
        managed = json.dumps(bursting.template["Resources"][bursting.stack.get_logical_id(role.node.default_child)])
        assert "CloudWatchAgentServerPolicy" not in managed
    for role, mine, other in ((bursting.compute.role, shipping.node_config, shipping.server_config),
                              (bursting.server.role, shipping.server_config, shipping.node_config)):
        reads = json.dumps([s["Resource"] for s in statements(role) if "ssm:GetParameter" in s["Action"]])
        assert json.dumps(ref(bursting, mine)) in reads and json.dumps(ref(bursting, other)) not in reads
    reads = [s for s in statements(bursting.server.role) if s["Action"] == "s3:GetObject" and "cwa" in json.dumps(s["Resource"])]
    assert reads and all("*" not in json.dumps(s["Resource"]) for s in reads), "the two architectures' packages, by name"


def test_the_agent_may_describe_the_streams_of_every_group_it_writes(bursting: Built) -> None:
    # AWS's own CloudWatchAgentServerPolicy gives the agent logs:DescribeLogStreams with its writes; the narrower grant
    # here keeps it on every group the role writes, not on the first alone.
    def described(role: Any) -> list[Any]:
        [policy] = [p for p in bursting.resources("AWS::IAM::Policy").values() if ref(bursting, role) in p["Properties"]["Roles"]]
        return [s["Resource"] for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Action"] == "logs:DescribeLogStreams"]

    arn = lambda group: {"Fn::GetAtt": [bursting.stack.get_logical_id(group.node.default_child), "Arn"]}  # noqa: E731
    shipping = bursting.shipping
    assert described(bursting.compute.role) == [arn(shipping.node_boot_log_group), arn(shipping.node_log_group)]
    assert described(bursting.server.role) == [arn(shipping.server_log_group)]


def test_the_server_may_read_the_agent_package_of_either_architecture(bursting: Built) -> None:
    # The package path has {arch} in it and the server's architecture follows its instance type (Graviton or not),
    # which can change on an update: the role reads both packages, and no other object.
    [policy] = [p for p in bursting.resources("AWS::IAM::Policy").values() if ref(bursting, bursting.server.role) in p["Properties"]["Roles"]]
    [reads] = [s["Resource"] for s in policy["Properties"]["PolicyDocument"]["Statement"]
               if s["Action"] == "s3:GetObject" and "/cwa/" in json.dumps(s["Resource"])]
    assert [r["Fn::Join"][1][-1] for r in (reads if isinstance(reads, list) else [reads])] == [":s3:::artifacts/cwa/amd64/amazon-cloudwatch-agent.deb",
                                                     ":s3:::artifacts/cwa/arm64/amazon-cloudwatch-agent.deb"]


def test_the_agent_configurations_are_free_standard_parameters(bursting: Built) -> None:
    # Standard parameters cost nothing and hold 4 KB, more than a configuration needs; an advanced one is billed monthly
    # for every deployment, and a parameter once advanced cannot go back to standard without being replaced.
    for parameter in (bursting.shipping.node_config, bursting.shipping.server_config):
        props = bursting.template["Resources"][bursting.stack.get_logical_id(parameter.node.default_child)]["Properties"]
        assert props.get("Tier", "Standard") == "Standard", parameter.node.id


# ------------------------------------------------------------------ checks


def test_cdk_nag_has_no_findings(bursting: Built) -> None:
    assert bursting.findings() == []


def test_cfn_lint_passes(bursting: Built, elastic: tuple[Monitoring, assertions.Template], tmp_path: Path) -> None:
    paths = []
    for name, template in (("bursting", bursting.template), ("elastic", elastic[1].to_json())):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(template))
        paths.append(str(path))
    assert cfn_lint(*paths) == []


@pytest.mark.parametrize("kwargs, message", [
    ({"job_queues": []}, "job_queues must name at least one"),
    ({"alarm_email": "not-an-address"}, "alarm_email 'not-an-address' is not an email address"),
    ({"failed_jobs_threshold": 0}, "failed_jobs_threshold must be at least 1"),
    ({"memorydb_memory_percent": 120}, "memorydb_memory_percent must be a percentage"),
    ({"efs_burst_credit_balance_gib": 0}, r"efs_burst_credit_balance_gib must be above 0 and at most 1e\+09, got 0"),
    # 1e300 GiB in bytes is past any float: the template would carry no threshold (JSON has no Infinity).
    ({"efs_burst_credit_balance_gib": 1e300}, r"efs_burst_credit_balance_gib must be above 0 and at most 1e\+09"),
    ({"efs_burst_credit_balance_gib": float("nan")}, "efs_burst_credit_balance_gib must be above 0"),
])
def test_bad_props_are_rejected_by_name(kwargs: dict[str, Any], message: str) -> None:
    stack = cdk.Stack(cdk.App(), "S")
    queue = batch.JobQueue.from_job_queue_arn(stack, "Q", "arn:aws:batch:eu-west-1:111122223333:job-queue/q")
    with pytest.raises(ValueError, match=message):
        Monitoring(stack, "M", **{"job_queues": [queue], **kwargs})
