"""SpotInterruptionDrill: the FIS experiment template, its least-privilege role, validation."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions

from mmbatch_cdk.drill import SpotInterruptionDrill


@pytest.fixture(scope="module")
def template() -> assertions.Template:
    stack = cdk.Stack(cdk.App(), "Drill")
    drill = SpotInterruptionDrill(stack, "Drill", tag_key="mmbatch:queue", tag_value="jq1")
    cdk.CfnOutput(stack, "Start", value=drill.start_command())
    return assertions.Template.from_stack(stack)


def only(template: assertions.Template, type_: str) -> dict[str, Any]:
    found = template.find_resources(type_)
    assert len(found) == 1, found
    return dict(next(iter(found.values())))


def test_experiment_interrupts_one_running_tagged_spot_instance_after_two_minutes(template: assertions.Template) -> None:
    props = only(template, "AWS::FIS::ExperimentTemplate")["Properties"]
    assert props["Targets"] == {
        "SpotInstances": {
            "ResourceType": "aws:ec2:spot-instance",
            "ResourceTags": {"mmbatch-stack": "Drill", "mmbatch:queue": "jq1"},
            "Filters": [{"Path": "State.Name", "Values": ["running"]}],
            "SelectionMode": "COUNT(1)",
        }
    }
    (action,) = props["Actions"].values()
    assert action["ActionId"] == "aws:ec2:send-spot-instance-interruptions"
    assert action["Parameters"] == {"durationBeforeInterruption": "PT2M"}
    assert action["Targets"] == {"SpotInstances": "SpotInstances"}
    assert props["StopConditions"] == [{"Source": "none"}]
    role_id = next(iter(template.find_resources("AWS::IAM::Role")))
    assert props["RoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}


def test_role_is_assumed_by_fis_for_this_accounts_experiments_only(template: assertions.Template) -> None:
    (statement,) = only(template, "AWS::IAM::Role")["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "fis.amazonaws.com"}
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    source_arn = statement["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Join"][1]
    assert ":fis:" in source_arn and ":experiment/*" in source_arn


def test_role_may_interrupt_only_instances_with_the_queue_tag(template: assertions.Template) -> None:
    statements = only(template, "AWS::IAM::Policy")["Properties"]["PolicyDocument"]["Statement"]
    assert len(statements) == 2
    interrupt, describe = statements
    assert interrupt["Action"] == "ec2:SendSpotInstanceInterruptions" and interrupt["Effect"] == "Allow"
    assert interrupt["Condition"] == {"StringEquals": {"aws:ResourceTag/mmbatch-stack": "Drill",
                                                       "aws:ResourceTag/mmbatch:queue": "jq1"}}
    assert interrupt["Resource"]["Fn::Join"][1][-1] == ":instance/*"
    assert describe == {"Action": "ec2:DescribeInstances", "Effect": "Allow", "Resource": "*"}


def test_start_command_names_the_template(template: assertions.Template) -> None:
    value = template.to_json()["Outputs"]["Start"]["Value"]["Fn::Join"][1]
    template_id = next(iter(template.find_resources("AWS::FIS::ExperimentTemplate")))
    assert value[0] == "aws fis start-experiment --region "
    assert {"Ref": "AWS::Region"} in value and {"Fn::GetAtt": [template_id, "Id"]} in value


def test_duration_and_count_are_configurable() -> None:
    stack = cdk.Stack(cdk.App(), "Drill")
    SpotInterruptionDrill(stack, "Drill", tag_key="team", tag_value="a", minutes_before_interruption=15, instance_count=3)
    props = only(assertions.Template.from_stack(stack), "AWS::FIS::ExperimentTemplate")["Properties"]
    assert props["Targets"]["SpotInstances"]["SelectionMode"] == "COUNT(3)"
    assert next(iter(props["Actions"].values()))["Parameters"] == {"durationBeforeInterruption": "PT15M"}


@pytest.mark.parametrize("props, message", [
    ({"tag_key": ""}, "tag_key '' is not accepted; expected a literal tag key not starting with 'aws:'"),
    ({"tag_key": "aws:batch:compute-environment"}, "tag_key 'aws:batch:compute-environment' is not accepted"),
    ({"tag_value": ""}, "tag_value '' is not accepted; expected a non-empty string"),
    ({"minutes_before_interruption": 1}, "minutes_before_interruption 1 is not accepted; expected an integer from 2 to 15"),
    ({"minutes_before_interruption": 16}, "minutes_before_interruption 16 is not accepted"),
    ({"instance_count": 0}, "instance_count 0 is not accepted; expected an integer from 1 to 100"),
])
def test_bad_props(props: dict[str, Any], message: str) -> None:
    stack = cdk.Stack(cdk.App(), "Drill")
    kwargs: dict[str, Any] = {"tag_key": "mmbatch:queue", "tag_value": "jq1", **props}
    with pytest.raises(ValueError, match=f"SpotInterruptionDrill Bad: {message}"):
        SpotInterruptionDrill(stack, "Bad", **kwargs)


def test_the_stack_tag_can_be_the_deployments_own_and_cannot_be_dropped() -> None:
    stack = cdk.Stack(cdk.App(), "Drill")
    SpotInterruptionDrill(stack, "Drill", tag_key="mmbatch:queue", tag_value="default", stack_tags={"mmbatch-stack": "prod"})
    template = assertions.Template.from_stack(stack)
    props = only(template, "AWS::FIS::ExperimentTemplate")["Properties"]
    assert props["Targets"]["SpotInstances"]["ResourceTags"] == {"mmbatch-stack": "prod", "mmbatch:queue": "default"}
    with pytest.raises(ValueError, match="stack_tags is empty"):
        SpotInterruptionDrill(cdk.Stack(cdk.App(), "Other"), "Drill", tag_key="mmbatch:queue", tag_value="default",
                              stack_tags={})


def test_the_template_is_named_after_the_queue_it_drills(template: assertions.Template) -> None:
    # A template has an id and no name of its own: its Name tag is how a person tells the queues' drills apart (one per
    # queue with multiQueue) in the FIS console or `aws fis list-experiment-templates`.
    props = only(template, "AWS::FIS::ExperimentTemplate")["Properties"]
    assert props["Tags"] == {"Name": "mmbatch-spot-drill-jq1"}


def test_true_is_not_a_number_of_instances() -> None:
    # bool is an int in Python: True passes the 1-to-100 range and would render SelectionMode COUNT(True), which FIS
    # refuses only at deploy time.
    with pytest.raises(ValueError, match="SpotInterruptionDrill Bad: instance_count True is not accepted"):
        SpotInterruptionDrill(cdk.Stack(cdk.App(), "Drill"), "Bad", tag_key="mmbatch:queue", tag_value="jq1", instance_count=True)


def test_the_queue_tag_wins_over_a_stack_tag_of_the_same_key() -> None:
    # The drill is of the queue named by tag_key=tag_value (its description and Name say so); a stack_tags entry with
    # the same key must not turn it into a drill of another queue's nodes.
    stack = cdk.Stack(cdk.App(), "Drill")
    SpotInterruptionDrill(stack, "Drill", tag_key="mmbatch:queue", tag_value="jq1",
                          stack_tags={"mmbatch-stack": "prod", "mmbatch:queue": "jq2"})
    template = assertions.Template.from_stack(stack)
    props = only(template, "AWS::FIS::ExperimentTemplate")["Properties"]
    assert props["Targets"]["SpotInstances"]["ResourceTags"] == {"mmbatch-stack": "prod", "mmbatch:queue": "jq1"}
    interrupt = only(template, "AWS::IAM::Policy")["Properties"]["PolicyDocument"]["Statement"][0]
    assert interrupt["Condition"]["StringEquals"]["aws:ResourceTag/mmbatch:queue"] == "jq1"
