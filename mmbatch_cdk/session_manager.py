"""Session Manager access for an instance role, without AmazonSSMManagedInstanceCore.

AWS's minimal instance permissions for Session Manager ("Create a custom IAM role for Session Manager",
https://docs.aws.amazon.com/systems-manager/latest/userguide/getting-started-create-iam-instance-profile.html):
``ssm:UpdateInstanceInformation`` and the four ``ssmmessages`` channel actions. Unlike the managed policy, they
give no Run Command, State Manager or Parameter Store access, so a node cannot read SSM parameters
(SecureStrings included). ``kms:Decrypt`` and S3/CloudWatch Logs permissions are needed only for encrypted or
logged sessions, which this project does not configure.
"""

from __future__ import annotations

from typing import Optional

import aws_cdk as cdk
from aws_cdk import aws_iam as iam

__all__ = ["SESSION_MANAGER_ACKNOWLEDGMENTS", "SESSION_MANAGER_ACTIONS", "grant_session_manager"]

SESSION_MANAGER_ACTIONS = (
    "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)
"""Every action the instance needs for Session Manager, per AWS's documented minimal policy."""


SESSION_MANAGER_ACKNOWLEDGMENTS = (
    cdk.Acknowledgment(
        id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
        reason="Session Manager's ssmmessages channel actions support no resource type (Service Authorization "
        "Reference); any other Resource::* here is a Describe/List call, which supports none either.",
    ),
    cdk.Acknowledgment(
        id="AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:instance/*]",
        reason="ssm:UpdateInstanceInformation registers the instance the agent runs on, whose id is not known in "
        "advance; scoped to this account and region. Other instance/* statements here carry tag conditions.",
    ),
)
"""The wildcards of the Session Manager statements, which :func:`grant_session_manager` acknowledges on the role's
default policy unless told not to."""


def grant_session_manager(role: iam.Role, *, instance_arn: Optional[str] = None, acknowledge: bool = True,
                          register_tag: Optional[tuple[str, str]] = None) -> None:
    """Add the Session Manager statements to ``role`` and acknowledge the wildcards they need, on its policy alone.

    ``ssm:UpdateInstanceInformation`` takes an instance ARN: scoped to this account and region (the nodes' ids are
    not known in advance). The ``ssmmessages`` actions support no resource type (Service Authorization Reference,
    "Actions, resources, and condition keys for Amazon Message Gateway Service").

    :param instance_arn: ``arn:<partition>:ec2:<region>:<account>:instance/*`` of the role's stack, when the caller
        has it already (each ``format_arn`` is a jsii round trip). Default: formatted here.
    :param acknowledge: acknowledge :data:`SESSION_MANAGER_ACKNOWLEDGMENTS` on the role's default policy. False: the
        caller gives them with its own acknowledgements there, in one call. Default: True.
    :param register_tag: ``(key, value)``: register only an instance carrying that tag (``aws:ResourceTag`` on the
        instance). No AWS page found here says ``ssm:UpdateInstanceInformation`` honours the condition for an EC2
        instance; if it does not, the agent cannot register and Session Manager (and ``mmbatch-cdk verify``'s
        ``server`` step) stops working, so it is opt-in (``ssmRegisterTagged``) and a real-deploy claim. Default: none.
    """
    if instance_arn is None:
        instance_arn = cdk.Stack.of(role).format_arn(service="ec2", resource="instance", resource_name="*")
    role.add_to_policy(iam.PolicyStatement(
        sid="SessionManagerRegister",
        actions=[SESSION_MANAGER_ACTIONS[0]],
        resources=[instance_arn],
        conditions={"StringEquals": {f"aws:ResourceTag/{register_tag[0]}": register_tag[1]}} if register_tag else None,
    ))
    role.add_to_policy(iam.PolicyStatement(sid="SessionManagerChannels", actions=list(SESSION_MANAGER_ACTIONS[1:]),
                                           resources=["*"]))
    if acknowledge:
        policy = role.node.find_child("DefaultPolicy").node.default_child
        assert policy is not None
        cdk.Validations.of(policy).acknowledge(*SESSION_MANAGER_ACKNOWLEDGMENTS)
