"""VolumeCleanup: on stack deletion, delete the deployment's leftover per-job EBS volumes (opt-in, ``ebsCleanupOnDelete``)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct, IConstruct

from .nag import acknowledge_compliance

__all__ = ["VolumeCleanup"]

_HANDLER = Path(__file__).resolve().parent / "handlers"
HANDLER_TIMEOUT_MINUTES = 14
"""The cleanup function's timeout in minutes: it waits for attached volumes until about a minute before it."""


class VolumeCleanup(Construct):
    """A custom resource whose deletion deletes the ``available`` EBS volumes carrying the deployment's tag.

    MMAB creates a volume per job (``job.ebsPerJob``), tagged ``mmbatch-stack=<stack name>`` with ``ebsScoping=tag``;
    CloudFormation does not know them. The handler (:mod:`mmbatch_cdk.handlers.volume_cleanup`) runs on the custom
    resource's Delete, after the resources given as ``after`` are deleted (they depend on it), and only while the stack
    is being deleted (turning the setting off in an update keeps every volume). It may describe any volume and delete
    only volumes carrying the tag (``aws:ResourceTag`` condition), and fails the deletion naming any tagged volume
    still attached when its time runs out.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        tag: tuple[str, str],
        after: Sequence[IConstruct] = (),
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        log_encryption_key: Optional[kms.IKey] = None,
    ) -> None:
        """
        :param tag: the ``(key, value)`` tag of the volumes to delete, such as ``("mmbatch-stack", "mmbatch-efs")``.
        :param after: what must be deleted before the cleanup runs (compute environments, the management server):
            each gets a dependency on this resource. Default: none.
        :param log_retention: how long the function's log group keeps its records. Default: ONE_MONTH.
        :param log_encryption_key: customer-managed key of the function's log group. Default: none.
        """
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        key, value = tag
        log_group = logs.LogGroup(self, "Logs", retention=log_retention, encryption_key=log_encryption_key,
                                  removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE)
        role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        description="Deletes this deployment's available, tagged EBS volumes on stack deletion")
        log_group.grant_write(role)
        # DescribeVolumes supports no resource-level permissions (Service Authorization Reference for Amazon EC2).
        role.add_to_policy(iam.PolicyStatement(sid="ListVolumes", actions=["ec2:DescribeVolumes"], resources=["*"]))
        role.add_to_policy(iam.PolicyStatement(sid="ReadOwnStackStatus", actions=["cloudformation:DescribeStacks"],
                                               resources=[stack.stack_id]))
        role.add_to_policy(iam.PolicyStatement(
            sid="DeleteOwnVolumes", actions=["ec2:DeleteVolume"],
            resources=[stack.format_arn(service="ec2", resource="volume", resource_name="*")],
            conditions={"StringEquals": {f"aws:ResourceTag/{key}": value}}))
        self.function = lambda_.Function(
            self, "Handler",
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler="volume_cleanup.on_event",
            code=lambda_.Code.from_asset(str(_HANDLER), exclude=["*", "!volume_cleanup.py"]),
            timeout=cdk.Duration.minutes(HANDLER_TIMEOUT_MINUTES),
            memory_size=128,
            # No reserved concurrency: CloudFormation calls it once per stack event, and reserving any fails to deploy
            # in accounts whose concurrency limit leaves no room above the unreserved minimum (AWS Lambda, "Configuring
            # reserved concurrency": the unreserved pool cannot go below 100, or less in new accounts).
            role=role,
            log_group=log_group,
            description="Deletes this deployment's leftover per-job EBS volumes on stack deletion",
        )
        """The cleanup function."""
        provider = cr.Provider(self, "Provider", on_event_handler=self.function, log_group=log_group)
        self.resource = cdk.CustomResource(
            self, "Resource", service_token=provider.service_token, resource_type="Custom::EbsVolumeCleanup",
            properties={"TagKey": key, "TagValue": value},
            # The provider framework answers within its own 15-minute limit; this bounds CloudFormation's wait too.
            service_timeout=cdk.Duration.minutes(20),
        )
        """The custom resource; its deletion runs the cleanup."""
        _acknowledge(self.function, role, provider, log_encryption_key)
        for construct in after:
            construct.node.add_dependency(self.resource)


def _acknowledge(function: lambda_.Function, role: iam.Role, provider: cr.Provider, key: Optional[kms.IKey]) -> None:
    """The cdk-nag findings of the cleanup function and aws-cdk-lib's provider framework, each on its resource."""
    policy = role.node.find_child("DefaultPolicy").node.default_child
    framework = provider.node.find_child("framework-onEvent")
    framework_role = framework.node.find_child("ServiceRole")
    assert isinstance(policy, cdk.CfnResource) and isinstance(framework, lambda_.Function)
    cdk.Validations.of(policy).acknowledge(
        cdk.Acknowledgment(
            id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            reason="ec2:DescribeVolumes has no resource-level permissions (Service Authorization Reference for "
            "Amazon EC2); it only lists, and deletion is the next statement's, limited to this deployment's tag.",
        ),
        cdk.Acknowledgment(
            id="AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:volume/*]",
            reason="MMAB's per-job volumes get their ids at run time; ec2:DeleteVolume applies only to volumes "
            "carrying this deployment's mmbatch-stack tag (aws:ResourceTag condition).",
        ),
    )
    acknowledge_compliance(policy, "IAMNoInlinePolicy",
                           "The cleanup role's own policy: describe volumes, delete this deployment's tagged volumes, "
                           "write its log group; created and deleted with the role, attached to nothing else.")
    cdk.Validations.of(framework_role).acknowledge(
        cdk.Acknowledgment(
            id="AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            reason="aws-cdk-lib's custom resource provider framework gives its function this role (logs only); "
            "no prop replaces it. The framework only invokes the cleanup function.",
        ),
        cdk.Acknowledgment(
            id="AwsSolutions::AwsSolutions-IAM5[Resource::<" + cdk.Stack.of(function).get_logical_id(
                function.node.default_child) + ".Arn>:*]",
            reason="aws-cdk-lib's provider framework may invoke any version of the one cleanup function it serves.",
        ),
    )
    acknowledge_compliance(framework_role, "IAMNoInlinePolicy",
                           "aws-cdk-lib's provider framework role policy: invoke the one cleanup function, nothing else.")
    if key is None:
        acknowledge_compliance(function.log_group, "CloudWatchLogGroupEncrypted",
                               "CloudWatch Logs encrypts all log data at rest with its own keys; a customer-managed key "
                               "for the cleanup logs is what compliance=hipaa adds.")
    for each, concurrency in ((function, "One call per stack event from CloudFormation; reserving concurrency would fail "
                                         "the deploy in accounts whose limit leaves no room above the unreserved minimum."),
                              (framework, "aws-cdk-lib's provider framework function takes no "
                                          "reserved concurrency prop; it runs once per stack event.")):
        resource = each.node.default_child
        assert isinstance(resource, cdk.CfnResource)
        # aws-cdk-lib makes each function DependsOn its role, which the Role GetAtt implies already: cfn-lint W3005.
        resource.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})
        if concurrency:
            acknowledge_compliance(resource, "LambdaConcurrency", concurrency)
        acknowledge_compliance(resource, "LambdaDLQ",
                               "Invoked synchronously for a CloudFormation event, whose failure the provider framework "
                               "reports to CloudFormation; a dead-letter queue would receive nothing.")
        acknowledge_compliance(resource, "LambdaInsideVPC",
                               "Calls only the EC2 and Lambda APIs; in the VPC it would need a NAT gateway or interface "
                               "endpoints, which the default VPC does not have, and it reaches nothing inside the VPC.")
