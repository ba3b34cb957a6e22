"""A bare stack with the minimum a BatchCompute needs (VPC, EFS checkpoint storage, management server)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import aws_cdk as cdk
from aws_cdk import assertions
from aws_cdk import aws_ec2 as ec2

from mmbatch_cdk import BatchCompute, CheckpointStorageEfs, ManagementServer


@dataclass
class Parts:
    """The stack and what its constructs need."""

    app: cdk.App
    stack: cdk.Stack
    vpc: ec2.Vpc
    compute: BatchCompute

    def template(self) -> assertions.Template:
        """The stack's template (synthesizes the app's stack once more)."""
        return assertions.Template.from_stack(self.stack)

    def resources(self, type_: str) -> dict[str, Any]:
        """Resources of one type, by logical id."""
        return dict(self.template().find_resources(type_))


def build_parts(instance_types: tuple[str, ...] = ("m6i.large", "m6i.xlarge"), outdir: Optional[str] = None) -> Parts:
    """A new app and stack with one BatchCompute (the lead's stacks wire the rest)."""
    app = cdk.App(context={"aws:cdk:disable-stack-trace": True}, outdir=outdir)
    stack = cdk.Stack(app, "Jobs")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=1)
    cdk.Validations.of(vpc).acknowledge(cdk.Acknowledgment(
        id="AwsSolutions::AwsSolutions-VPC7", reason="Test fixture only: the product's Network construct adds the flow log."))
    storage = CheckpointStorageEfs(stack, "Storage", vpc=vpc)
    server = ManagementServer(stack, "Server", vpc=vpc)
    compute = BatchCompute(stack, "Compute", vpc=vpc, storage=storage, agent=server.agent_installer,
                           instance_types=list(instance_types))
    return Parts(app, stack, vpc, compute)
