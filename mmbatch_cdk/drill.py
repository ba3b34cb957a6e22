"""SpotInterruptionDrill: an AWS FIS experiment template that sends a real Spot interruption notice to one node.

Starting the experiment (``aws fis start-experiment --experiment-template-id <id>``) makes EC2 send
its two-minute interruption notice to one running Spot instance carrying the queue's tag, then reclaim
it; a checkpointed job on it should come back on a new node and continue from its checkpoint.
Names from the AWS FIS actions reference (https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html,
"Amazon EC2 actions"): action ``aws:ec2:send-spot-instance-interruptions`` with parameter
``durationBeforeInterruption`` (2 to 15 minutes), target resource type ``aws:ec2:spot-instance``,
permissions ``ec2:SendSpotInstanceInterruptions`` and ``ec2:DescribeInstances``. The service principal
and the confused-deputy conditions follow the FIS user guide's experiment-role page
(https://docs.aws.amazon.com/fis/latest/userguide/getting-started-iam-service-role.html).
"""

from __future__ import annotations

from typing import Mapping, Optional

import aws_cdk as cdk
from aws_cdk import aws_fis as fis
from aws_cdk import aws_iam as iam
from constructs import Construct

from .management_server import DEPLOYMENT_TAG_KEY
from .nag import acknowledge_compliance

__all__ = ["SpotInterruptionDrill"]

ACTION_ID = "aws:ec2:send-spot-instance-interruptions"
TARGET_TYPE = "aws:ec2:spot-instance"


class SpotInterruptionDrill(Construct):
    """An FIS experiment template interrupting ``instance_count`` running Spot instance(s) tagged ``tag_key=tag_value``
    and this deployment's ``stack_tags``.

    A queue tag alone is not enough: every deployment's default queue tags its nodes ``mmbatch:queue=default``, so the
    target and the role also require the deployment's own tag (``mmbatch-stack=<stack name>`` by default). The FIS
    targets page (https://docs.aws.amazon.com/fis/latest/userguide/targets.html) calls ``resourceTags`` "the tags
    applied to specific resources" without saying whether several tags are all required; the role settles it either
    way: one ``aws:ResourceTag/<key>`` condition per tag in one ``StringEquals`` block, which IAM ANDs, so an instance
    missing either tag cannot be interrupted (the experiment fails instead). The role may send interruptions only to
    instances carrying all of them;
    describing instances, which FIS needs to resolve the target, cannot be scoped to resources. The
    template has no stop condition: the action is a single notice, over once the instance is reclaimed.
    Nothing runs until someone starts the experiment.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        tag_key: str,
        tag_value: str,
        minutes_before_interruption: int = 2,
        instance_count: int = 1,
        stack_tags: Optional[Mapping[str, str]] = None,
    ) -> None:
        """
        :param tag_key: key of the tag the queue's instances carry (e.g. ``mmbatch:queue``).
        :param tag_value: its value for the queue to drill (e.g. the queue's id).
        :param stack_tags: further tags the instances must carry, which only this deployment's nodes have. Default:
            ``{"mmbatch-stack": <stack name>}``, the tag :func:`mmbatch_cdk.wiring.serve_agent` puts on them.
        :param minutes_before_interruption: ``durationBeforeInterruption``, 2 to 15 minutes; 2 is a real reclaim's notice. Default: 2.
        :param instance_count: how many running instances to interrupt (``COUNT(n)``). Default: 1.
        """
        owner = f"SpotInterruptionDrill {id}"
        # "${Token[" marks CDK's string-encoded tokens; checking for it first saves a jsii call.
        if (not isinstance(tag_key, str) or not tag_key or ("${Token[" in tag_key and cdk.Token.is_unresolved(tag_key))
                or tag_key.startswith("aws:")):
            raise ValueError(f"{owner}: tag_key {tag_key!r} is not accepted; expected a literal tag key not starting with 'aws:'")
        if not isinstance(tag_value, str) or not tag_value:
            raise ValueError(f"{owner}: tag_value {tag_value!r} is not accepted; expected a non-empty string")
        for prop, value, low, high in (("minutes_before_interruption", minutes_before_interruption, 2, 15),
                                       ("instance_count", instance_count, 1, 100)):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(f"{owner}: {prop} {value!r} is not accepted; expected an integer from {low} to {high}")
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        tags = {**(stack_tags if stack_tags is not None else {DEPLOYMENT_TAG_KEY: stack.stack_name}), tag_key: tag_value}
        if len(tags) < 2:
            raise ValueError(f"{owner}: stack_tags is empty; expected a tag only this deployment's instances carry")

        self.role = iam.Role(
            self,
            "Role",
            description=f"AWS FIS: Spot interruption notices to instances tagged {tag_key}={tag_value}",
            assumed_by=iam.ServicePrincipal(
                "fis.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": stack.format_arn(service="fis", resource="experiment", resource_name="*")},
                },
            ),
        )
        """The experiment's role."""
        instances = stack.format_arn(service="ec2", resource="instance", resource_name="*")
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["ec2:SendSpotInstanceInterruptions"],
                resources=[instances],
                conditions={"StringEquals": {f"aws:ResourceTag/{key}": value for key, value in tags.items()}},
            )
        )
        self.role.add_to_policy(iam.PolicyStatement(actions=["ec2:DescribeInstances"], resources=["*"]))

        self.template = fis.CfnExperimentTemplate(
            self,
            "Template",
            description=f"Send a Spot interruption notice to {instance_count} running instance(s) tagged {tag_key}={tag_value}",
            role_arn=self.role.role_arn,
            stop_conditions=[fis.CfnExperimentTemplate.ExperimentTemplateStopConditionProperty(source="none")],
            targets={
                "SpotInstances": fis.CfnExperimentTemplate.ExperimentTemplateTargetProperty(
                    resource_type=TARGET_TYPE,
                    resource_tags=tags,
                    filters=[fis.CfnExperimentTemplate.ExperimentTemplateTargetFilterProperty(path="State.Name", values=["running"])],
                    selection_mode=f"COUNT({instance_count})",
                )
            },
            actions={
                "InterruptSpot": fis.CfnExperimentTemplate.ExperimentTemplateActionProperty(
                    action_id=ACTION_ID,
                    description="Spot interruption notice, then the reclaim",
                    parameters={"durationBeforeInterruption": f"PT{minutes_before_interruption}M"},
                    targets={"SpotInstances": "SpotInstances"},
                )
            },
            tags={"Name": f"mmbatch-spot-drill-{tag_value}"},
        )
        """The FIS experiment template."""
        self.experiment_template_id = self.template.attr_id
        """The template id for ``aws fis start-experiment --experiment-template-id``."""

        policy = self.role.node.try_find_child("DefaultPolicy")
        assert policy is not None
        cdk.Validations.of(policy).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:instance/*]",
                reason="FIS picks the instance at run time; ec2:SendSpotInstanceInterruptions is limited by an "
                "aws:ResourceTag conditions to the instances of the drilled queue of this deployment.",
            ),
            cdk.Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                reason="ec2:DescribeInstances supports no resource-level permissions; FIS needs it to resolve the "
                "tagged target and the role can only read instance descriptions with it.",
            ),
        )
        acknowledge_compliance(
            self.role, "IAMNoInlinePolicy",
            "aws-cdk-lib's per-role default policy: attached to this experiment role only, created and deleted with it; "
            "Spot interruptions to the drilled queue's tagged instances and instance descriptions, nothing else.",
        )

    def start_command(self) -> str:
        """The ``aws fis start-experiment`` command for this template (with CDK tokens)."""
        region = cdk.Stack.of(self).region
        return f"aws fis start-experiment --region {region} --experiment-template-id {self.experiment_template_id}"
