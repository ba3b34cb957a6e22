"""A team's own CDK app built from mmbatch-cdk constructs.

It differs from the stacks mmbatch-cdk deploys by itself: the VPC is the team's existing one, there
is one EFS checkpoint store, and two job queues on different instance types and root volumes share it
and one management server, with one log group for both. Because the queues' nodes differ in more than
the per-queue settings of :class:`QueueSpec`, it composes :class:`BatchCompute` itself and wires each
queue with :func:`mmbatch_cdk.wiring.connect_compute` (what :class:`MmBatchDeployment` does per queue). Replace the VPC and subnet ids below with your own
(or pass them as context: ``cdk synth -c vpcId=vpc-... -c privateSubnetIds=subnet-a,subnet-b ...``).
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from mmbatch_cdk import BatchCompute, CheckpointStorageEfs, ManagementServer, NodeSettings, register_template_validation
from mmbatch_cdk.wiring import connect_compute

TEAM_VPC = {
    "vpcId": "vpc-0123456789abcdef0",
    "availabilityZones": "us-east-1a,us-east-1b",
    "privateSubnetIds": "subnet-0123456789abcdef1,subnet-0123456789abcdef2",
    "privateSubnetRouteTableIds": "rtb-0123456789abcdef1,rtb-0123456789abcdef2",
}
"""The team's VPC: two private subnets with a route to the internet (NAT); without one, nodes need S3 sources for the
MMAB installer and the AWS CLI (docs/deploy.md "Into your own VPC")."""


class GenomicsBatchStack(cdk.Stack):
    """MMBatch in the team VPC: EFS checkpoints, a fast queue for short tasks and a big-memory queue."""

    def __init__(self, scope: Construct, id: str, *, vpc_settings: dict[str, str], **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        vpc = ec2.Vpc.from_vpc_attributes(
            self,
            "TeamVpc",
            vpc_id=vpc_settings["vpcId"],
            availability_zones=vpc_settings["availabilityZones"].split(","),
            private_subnet_ids=vpc_settings["privateSubnetIds"].split(","),
            private_subnet_route_table_ids=vpc_settings["privateSubnetRouteTableIds"].split(","),
        )
        storage = CheckpointStorageEfs(self, "Checkpoints", vpc=vpc)
        server = ManagementServer(
            self,
            "Mmab",
            vpc=vpc,
            mmab_source="s3://genomics-artifacts/mmab/mmab-{version}.deb",
            ckpt_interval="20m",
        )
        job_logs = logs.LogGroup(self, "JobLogs", retention=logs.RetentionDays.THREE_MONTHS)

        # Alignment and variant calling: many short, CPU-bound tasks; first in line.
        fast = BatchCompute(
            self,
            "Fast",
            vpc=vpc,
            storage=storage,
            agent=server.agent_installer,
            instance_types=["c7i.2xlarge", "c7i.4xlarge", "c6i.4xlarge"],
            max_vcpus=512,
            priority=20,
            job_log_group=job_logs,
        )
        # Assembly: few long jobs that need a lot of memory; checkpoints let them run on Spot.
        big_memory = BatchCompute(
            self,
            "BigMemory",
            vpc=vpc,
            storage=storage,
            agent=server.agent_installer,
            instance_types=["r7i.8xlarge", "r7i.16xlarge"],
            max_vcpus=256,
            priority=10,
            node_settings=NodeSettings(root_volume_gib=100),
            job_log_group=job_logs,
        )
        for name, compute in (("Fast", fast), ("BigMemory", big_memory)):
            connect_compute(compute, storage=storage, management_server=server)
            cdk.CfnOutput(self, f"{name}JobQueueArn", value=compute.job_queue.job_queue_arn)


def build(app: cdk.App) -> GenomicsBatchStack:
    """Add the stack (VPC settings from context, else :data:`TEAM_VPC`) and cdk-nag to ``app``."""
    settings = {key: str(app.node.try_get_context(key) or default) for key, default in TEAM_VPC.items()}
    stack = GenomicsBatchStack(app, "GenomicsBatch", vpc_settings=settings)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return stack


if __name__ == "__main__":
    app = cdk.App()
    # CDK's own template checks, with their engine built before any construct: a faster synth.
    register_template_validation(app)
    build(app)
    app.synth()
