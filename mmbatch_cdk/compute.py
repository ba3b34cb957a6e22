"""BatchCompute: checkpoint-ready AWS Batch capacity (launch template, compute environment, job queue)."""

from __future__ import annotations

from typing import Optional, Sequence

import aws_cdk as cdk
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from .checkpoint_model import SPOT_NOTICE_SECONDS, checkpoint_seconds, family_sizes
from .config import DEFAULT_INSTANCE_TYPES, duration_seconds
from .instance_types import architecture
from .management_server import MMAB_PORT, ManagementServer
from .storage.base import CheckpointStorage
from .user_data import render

__all__ = ["BatchCompute"]

_AGENT_INSTALL_ATTEMPTS = 30
"""Tries to fetch the agent installer; with the pause capped at 60 s this waits about 25 minutes."""


class BatchCompute(Construct):
    """A managed EC2/ECS compute environment whose nodes mount checkpoint storage and run the MMBatch agent.

    Each node boots from a launch template (IMDSv2, encrypted gp3 root volume) whose multipart user
    data first runs the storage's mount script, then tunes the ECS agent (Spot draining, longer
    container start/stop timeouts for restore and checkpoint, cached image pulls) and installs the
    agent from the management server, retrying while the server starts. The compute environment
    references the launch template's latest version, so any change of user data (a new management
    server, a new MMAB version) rolls out to new nodes through an in-place infrastructure update.
    Spot capacity uses the price-capacity-optimized allocation strategy; On-Demand uses best fit
    progressive. Job logs go to :attr:`job_log_group` when job definitions name it.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        storage: CheckpointStorage,
        management_server: ManagementServer,
        instance_types: Optional[Sequence[str]] = None,
        min_vcpus: int = 0,
        max_vcpus: int = 256,
        spot: bool = True,
        vpc_subnets: Optional[ec2.SubnetSelection] = None,
        security_groups: Sequence[ec2.ISecurityGroup] = (),
        priority: int = 1,
        root_volume_gib: int = 30,
        ecs_stop_timeout: str = "110s",
        ecs_start_timeout: str = "16m",
        ecs_create_timeout: str = "15m",
        job_log_group: Optional[logs.ILogGroup] = None,
    ) -> None:
        """
        :param vpc: the VPC of the nodes.
        :param storage: checkpoint storage the nodes mount (EFS or JuiceFS).
        :param management_server: the MMAB server the nodes install their agent from.
        :param instance_types: instance types or families, one CPU architecture. Default: m6i.large ... m6i.16xlarge.
        :param min_vcpus: vCPUs kept running. Default: 0.
        :param max_vcpus: vCPU ceiling. Default: 256.
        :param spot: Spot capacity; False for On-Demand. Default: True.
        :param vpc_subnets: subnets of the nodes. Default: the VPC's private subnets.
        :param security_groups: extra security groups for the nodes. Default: none.
        :param priority: the job queue's priority (higher runs first). Default: 1.
        :param root_volume_gib: root volume size before the storage client's cache is added. Default: 30.
        :param ecs_stop_timeout: ECS_CONTAINER_STOP_TIMEOUT (a Go duration such as ``110s`` or ``1m50s``), time for
            a final checkpoint; also the budget of the checkpoint-time warning. Default: ``110s``.
        :param ecs_start_timeout: ECS_CONTAINER_START_TIMEOUT, time for a restore. Default: ``16m``.
        :param ecs_create_timeout: ECS_CONTAINER_CREATE_TIMEOUT. Default: ``15m``.
        :param job_log_group: log group for job logs. Default: a new one, kept for a month.
        """
        super().__init__(scope, id)
        types = list(instance_types or DEFAULT_INSTANCE_TYPES)
        _validate(types, min_vcpus, max_vcpus)
        for prop, value in (("ecs_stop_timeout", ecs_stop_timeout), ("ecs_start_timeout", ecs_start_timeout),
                            ("ecs_create_timeout", ecs_create_timeout)):
            try:
                duration_seconds(value)
            except ValueError:
                raise ValueError(f"BatchCompute: {prop} {value!r} is not a duration; expected e.g. 110s, 16m or 1m50s") from None

        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, description="MMBatch compute nodes (no ingress)", allow_all_outbound=True
        )
        """The nodes' own security group; it admits nothing, storage and the server admit it."""
        self.role = iam.Role(
            self,
            "InstanceRole",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description="MMBatch compute node: ECS agent, Session Manager, checkpoint storage",
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AmazonEC2ContainerServiceforEC2Role"),
                iam.ManagedPolicy.from_aws_managed_policy_name("AmazonSSMManagedInstanceCore"),
            ],
        )
        """The node instance role."""

        storage.connections.allow_default_port_from(self.security_group, "checkpoint storage from compute nodes")
        storage.grant_node(self.role)
        management_server.use_storage(storage)
        management_server.connections.allow_default_port_from(
            self.security_group, "MMBatch agent installer and API from compute nodes"
        )

        self.job_log_group: logs.ILogGroup = job_log_group or logs.LogGroup(
            self, "JobLogs", retention=logs.RetentionDays.ONE_MONTH
        )
        """Log group for job logs (name it in job definitions' awslogs options)."""
        self.job_log_group.grant_read(management_server.role)

        user_data = ec2.MultipartUserData()
        user_data.add_part(ec2.MultipartBody.from_user_data(ec2.UserData.custom(storage.node_mount_script())))
        bootstrap = render(
            "node_bootstrap.sh",
            {
                "MMAB_ADDRESS": management_server.private_ip,
                "MMAB_PORT": MMAB_PORT,
                "MMAB_VERSION": management_server.mmab_version,
                "AGENT_INSTALL_ATTEMPTS": _AGENT_INSTALL_ATTEMPTS,
                "ECS_STOP_TIMEOUT": ecs_stop_timeout,
                "ECS_START_TIMEOUT": ecs_start_timeout,
                "ECS_CREATE_TIMEOUT": ecs_create_timeout,
            },
        )
        user_data.add_part(ec2.MultipartBody.from_user_data(ec2.UserData.custom(bootstrap)))

        self.launch_template = ec2.LaunchTemplate(
            self,
            "LaunchTemplate",
            require_imdsv2=True,
            user_data=user_data,
            block_devices=[
                ec2.BlockDevice(
                    device_name="/dev/xvda",
                    volume=ec2.BlockDeviceVolume.ebs(
                        root_volume_gib + storage.node_disk_gib,
                        encrypted=True,
                        volume_type=ec2.EbsDeviceVolumeType.GP3,
                        delete_on_termination=True,
                    ),
                )
            ],
        )
        """The nodes' launch template."""

        # aws-batch checks each type's size (a bare family such as ``c7i`` fails there), while AWS Batch
        # itself takes families. Sized types go through aws-batch; the full list is set below.
        sized = [t for t in types if "." in t] or [f"{types[0]}.large"]
        self.compute_environment = batch.ManagedEc2EcsComputeEnvironment(
            self,
            "ComputeEnvironment",
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            instance_types=[ec2.InstanceType(t) for t in sized],
            use_optimal_instance_classes=False,
            images=[batch.EcsMachineImage(image_type=batch.EcsMachineImageType.ECS_AL2023)],
            spot=spot,
            allocation_strategy=batch.AllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED
            if spot
            else batch.AllocationStrategy.BEST_FIT_PROGRESSIVE,
            minv_cpus=min_vcpus,
            maxv_cpus=max_vcpus,
            launch_template=self.launch_template,
            security_groups=[self.security_group, *security_groups],
            instance_role=self.role,
            replace_compute_environment=False,
            terminate_on_update=False,
            update_timeout=cdk.Duration.minutes(30),
        )
        """The managed compute environment (no custom name, so CloudFormation can replace it)."""
        # aws-batch omits the version, which leaves the environment on the version it was created with.
        # LatestVersionNumber changes with every user-data change and triggers an infrastructure update.
        cfn_environment = self.compute_environment.node.default_child
        assert isinstance(cfn_environment, batch.CfnComputeEnvironment)
        cfn_environment.add_property_override(
            "ComputeResources.LaunchTemplate.Version", self.launch_template.latest_version_number
        )
        if sized != types:
            cfn_environment.add_property_override("ComputeResources.InstanceTypes", types)

        self.job_queue = batch.JobQueue(
            self,
            "JobQueue",
            priority=priority,
            compute_environments=[batch.OrderedComputeEnvironment(compute_environment=self.compute_environment, order=1)],
        )
        """The job queue that feeds the compute environment."""
        self.architecture = architecture(types[0])
        """CPU architecture of the nodes (``x86_64`` or ``arm64``)."""
        self.instance_types = tuple(types)
        """The instance types or families the environment launches."""

        self._warn_about_slow_checkpoints(storage, ecs_stop_timeout)

        cdk.Validations.of(self.role).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role]",
                reason="AWS's maintained policy for the ECS agent that AWS Batch runs on every node; it tracks new agent APIs.",
            ),
            cdk.Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]",
                reason="AWS's maintained policy for Session Manager, the only way onto a node (no SSH ingress).",
            ),
        )

    def _warn_about_slow_checkpoints(self, storage: CheckpointStorage, ecs_stop_timeout: str) -> None:
        """Warn, naming them, about instance types the checkpoint model says cannot write their memory in time."""
        storage_mibps = storage.node_write_mibps
        if storage_mibps is None:
            return
        budget = min(SPOT_NOTICE_SECONDS, duration_seconds(ecs_stop_timeout))
        slow = []
        for name in self.instance_types:
            for instance_type in [name] if "." in name else family_sizes(name):
                seconds = checkpoint_seconds(instance_type, storage_mibps)
                if seconds is not None and seconds > budget:
                    slow.append(f"{instance_type} (~{seconds:.0f} s)")
        if slow:
            cdk.Annotations.of(self).add_warning_v2(
                "mmbatch:checkpointTime",
                f"{', '.join(slow)}: a checkpoint of the whole memory would take longer than the {budget:g} s a "
                f"stopping job gets (Spot notice {SPOT_NOTICE_SECONDS} s, ecsStopTimeout {ecs_stop_timeout}) on "
                f"{storage.description}, at the instance's baseline network bandwidth. Jobs that dirty most of "
                "their memory between checkpoints may lose the work since the last one; see README "
                "'Performance and cost'.",
            )


def _validate(types: Sequence[str], min_vcpus: int, max_vcpus: int) -> None:
    if not types:
        raise ValueError("BatchCompute: instance_types must name at least one instance type or family")
    archs = {architecture(t) for t in types}
    if len(archs) > 1:
        raise ValueError(
            f"BatchCompute: instance_types {', '.join(types)} mix CPU architectures; "
            "checkpoints restore only onto the architecture they were taken on"
        )
    if not (cdk.Token.is_unresolved(min_vcpus) or cdk.Token.is_unresolved(max_vcpus)) and min_vcpus > max_vcpus:
        raise ValueError(f"BatchCompute: min_vcpus ({min_vcpus}) is greater than max_vcpus ({max_vcpus})")
