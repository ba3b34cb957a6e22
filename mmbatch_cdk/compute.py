"""BatchCompute: checkpoint-ready AWS Batch capacity (launch template, compute environment, job queue)."""

from __future__ import annotations

from typing import Mapping, Optional, Sequence, Union

import aws_cdk as cdk
import jsii
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from . import rules
from .agent import AgentInstaller
from .aws_cli import AWS_CLI_KEY_WARNING, AwsCliInstall
from .checkpoint_model import checkpoint_time_warning
from .instance_types import architecture, is_gpu
from .nag import acknowledge_compliance, compliance_acknowledgments, how_to_accept
from .node_settings import (
    AGENT_WAIT_SECONDS_RANGE,
    BOOT_CHECK_SECONDS_RANGE,
    ECS_CREATE_TIMEOUT_RANGE,
    ECS_START_TIMEOUT_RANGE,
    ECS_STOP_TIMEOUT_RANGE,
    FATAL_SHUTDOWN_MINUTES_RANGE,
    INFRASTRUCTURE_UPDATE_MINUTES_RANGE,
    NodeSettings,
)
from .storage.base import CheckpointStorage
from .session_manager import grant_session_manager
from .subnets import select_subnets
from .user_data import add_script, render

__all__ = ["BatchCompute", "CHECKPOINT_TIME_WARNING", "DEFAULT_INSTANCE_TYPES"]

DEFAULT_INSTANCE_TYPES: tuple[str, ...] = (
    "m6i.large",
    "m6i.xlarge",
    "m6i.2xlarge",
    "m6i.4xlarge",
    "m6i.8xlarge",
    "m6i.12xlarge",
    "m6i.16xlarge",
)
"""The seed template's ``InstanceTypes`` default."""

CHECKPOINT_TIME_WARNING = "mmbatch:checkpointTime"
"""Id of the warning that names instance types whose checkpoint may not fit the Spot notice."""


@jsii.implements(iam.IGrantable, ec2.IConnectable)
class BatchCompute(Construct):
    """A managed EC2/ECS compute environment whose nodes mount checkpoint storage and run the MMBatch agent.

    Each node boots from a launch template (IMDSv2, encrypted gp3 root volume) whose multipart user
    data first runs the storage's mount script, then tunes the ECS agent (longer container start/stop
    timeouts for restore and checkpoint, cached image pulls) and installs the agent from ``agent``.
    The compute environment references the launch template's latest version, so any change of user data
    rolls out to new nodes through an in-place infrastructure update. Spot capacity uses the
    price-capacity-optimized allocation strategy; On-Demand uses best fit progressive. GPU instance types
    boot the NVIDIA variant of the Amazon Linux 2023 ECS image. Job logs go to :attr:`job_log_group` when
    job definitions name it.

    It wires nothing to its siblings: grant storage access and open the storage and the server to
    :attr:`connections` and :attr:`grant_principal` where you compose it (:class:`MmBatchDeployment` does).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        storage: CheckpointStorage,
        agent: AgentInstaller,
        instance_types: Optional[Sequence[str]] = None,
        min_vcpus: int = 0,
        max_vcpus: int = 256,
        spot: Optional[bool] = None,
        vpc_subnets: Optional[ec2.SubnetSelection] = None,
        security_groups: Sequence[ec2.ISecurityGroup] = (),
        priority: int = 1,
        node_settings: Optional[NodeSettings] = None,
        job_log_group: Optional[logs.ILogGroup] = None,
        log_encryption_key: Optional[kms.IKey] = None,
        instance_tags: Optional[Mapping[str, str]] = None,
    ) -> None:
        """
        :param vpc: the VPC of the nodes.
        :param storage: checkpoint storage the nodes mount (EFS or JuiceFS); its mount script runs first at boot.
        :param agent: where nodes fetch the MMBatch agent installer (``ManagementServer.agent_installer``). Required.
        :param instance_types: instance types or families (or an AWS Batch keyword such as ``optimal``), one CPU
            architecture, GPU types of one model only. Default: m6i.large ... m6i.16xlarge.
        :param min_vcpus: vCPUs kept running. Default: 0.
        :param max_vcpus: vCPU ceiling. Default: 256.
        :param spot: Spot capacity; False for On-Demand. Default: ``node_settings.spot``.
        :param vpc_subnets: subnets of the nodes. Default: the VPC's private subnets.
        :param security_groups: extra security groups for the nodes. Default: none.
        :param priority: the job queue's priority (higher runs first). Default: 1.
        :param node_settings: root volume, ECS timeouts and Spot, shared with other queues. Default: ``NodeSettings()``.
        :param job_log_group: log group for job logs. Default: a new one, kept ``node_settings.job_log_retention``.
        :param log_encryption_key: customer-managed key of a new job log group (its key policy must admit CloudWatch
            Logs). Default: none (CloudWatch Logs' own encryption).
        :param instance_tags: tags AWS Batch puts on the instances it launches (``ComputeResources.Tags``), for
            example the queue a drill or a cost report selects by. Default: none.
        """
        super().__init__(scope, id)
        node = node_settings or NodeSettings()
        types = tuple(instance_types or DEFAULT_INSTANCE_TYPES)
        self._validate(types, min_vcpus, max_vcpus, node, storage)

        self.architecture = architecture(types[0])
        """CPU architecture of the nodes (``x86_64`` or ``arm64``)."""
        self.instance_types = types
        """The instance types or families the environment launches."""
        self.gpu = all(is_gpu(t) for t in types)
        """True when the queue runs GPU instances (and so the NVIDIA image)."""

        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, description="MMBatch compute nodes (no ingress)", allow_all_outbound=True
        )
        """The nodes' own security group; it admits nothing, storage and the server admit it."""
        self._connections = ec2.Connections(security_groups=[self.security_group])
        self.role = self._node_role(node)
        """The node instance role."""
        self.job_log_group: logs.ILogGroup = job_log_group or logs.LogGroup(
            self, "JobLogs", retention=node.job_log_retention, encryption_key=log_encryption_key,
            removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )
        """Log group for job logs (name it in job definitions' awslogs options)."""
        self.launch_template = self._launch_template(self._user_data(node, storage, agent), node, storage)
        """The nodes' launch template."""
        self.compute_environment, self._cfn_environment = self._compute_environment(
            vpc, vpc_subnets, types, node.spot if spot is None else spot, min_vcpus, max_vcpus, security_groups,
            update_minutes=node.infrastructure_update_minutes,
        )
        """The managed compute environment (no custom name, so CloudFormation can replace it)."""
        self._instance_tags: dict[str, str] = {}
        self.tag_instances(instance_tags or {})
        self._start_nodes_after(vpc, vpc_subnets, agent)
        self.job_queue = batch.JobQueue(
            self,
            "JobQueue",
            priority=priority,
            compute_environments=[batch.OrderedComputeEnvironment(compute_environment=self.compute_environment, order=1)],
        )
        """The job queue that feeds the compute environment."""

        warning = checkpoint_time_warning(types, storage.node_write_mibps, storage.description)
        if warning:
            cdk.Annotations.of(self).add_warning_v2(CHECKPOINT_TIME_WARNING, f"{warning} {how_to_accept(CHECKPOINT_TIME_WARNING)}")
        self._acknowledge_findings(None if job_log_group else self.job_log_group, log_encryption_key)

    def _node_role(self, node: NodeSettings) -> iam.Role:
        """The instance role: the ECS agent's managed policy and Session Manager; storage and logs grant to it later."""
        role = iam.Role(
            self,
            "InstanceRole",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description="MMBatch compute node: ECS agent, Session Manager, checkpoint storage",
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AmazonEC2ContainerServiceforEC2Role"),
            ],
        )
        grant_session_manager(role, register_tag=node.ssm_register_tag)
        return role

    def _user_data(self, node: NodeSettings, storage: CheckpointStorage, agent: AgentInstaller) -> ec2.MultipartUserData:
        """The boot parts, in order: log shipping, the storage mount (which installs the ECS gate), the node
        bootstrap (ECS settings, agent install), the AWS CLI. See docs/architecture.md "Compute node boot"."""
        user_data = ec2.MultipartUserData()
        if node.log_shipping is not None:
            # First, so that the logs of a boot that fails later still reach CloudWatch.
            add_script(user_data, node.log_shipping.node_script())
            node.log_shipping.grant_nodes(self.role)
        add_script(user_data, storage.node_mount_script(node.boot_settings))
        agent_settings: dict[str, Union[str, int]] = (
            {"AGENT_MODE": "required", "MMAB_ADDRESS": agent.address, "MMAB_PORT": agent.port,
             "AGENT_WAIT_SECONDS": node.agent_wait_seconds}
            if agent.enabled
            else {"AGENT_MODE": "absent"}
        )
        bootstrap = render(
            "node_bootstrap.sh",
            {
                **node.boot_settings,
                **agent_settings,
                "MMAB_VERSION": agent.mmab_version,
                "BOOT_CHECK_SECONDS": node.boot_check_seconds,
                "ECS_STOP_TIMEOUT": node.ecs_stop_timeout,
                "ECS_START_TIMEOUT": node.ecs_start_timeout,
                "ECS_CREATE_TIMEOUT": node.ecs_create_timeout,
            },
        )
        add_script(user_data, bootstrap)
        if node.aws_cli is not None:
            add_script(user_data, node.aws_cli.script(node.boot_settings))
            self._grant_aws_cli_read(node.aws_cli)
            key_warning = node.aws_cli.key_from_internet_warning()
            if key_warning:
                cdk.Annotations.of(self).add_warning_v2(AWS_CLI_KEY_WARNING, f"{key_warning} {how_to_accept(AWS_CLI_KEY_WARNING)}")
        return user_data

    def _launch_template(
        self, user_data: ec2.MultipartUserData, node: NodeSettings, storage: CheckpointStorage
    ) -> ec2.LaunchTemplate:
        """IMDSv2 with one hop, an encrypted gp3 root volume sized for the node and its storage's cache."""
        template = ec2.LaunchTemplate(
            self,
            "LaunchTemplate",
            require_imdsv2=True,
            # One hop: containers in bridge mode cannot get an IMDSv2 token, so a job cannot take the node's
            # credentials; jobs that call AWS need a job role (docs/queues-and-jobs.md).
            http_put_response_hop_limit=1,
            user_data=user_data,
            block_devices=[
                ec2.BlockDevice(
                    device_name="/dev/xvda",
                    volume=ec2.BlockDeviceVolume.ebs(
                        node.root_volume_gib + storage.node_disk_gib,
                        encrypted=True,
                        volume_type=ec2.EbsDeviceVolumeType.GP3,
                        delete_on_termination=True,
                    ),
                )
            ],
        )
        # aws-ec2 names a launch template after its construct path. CDK leaves "Default" ids out of logical ids
        # (the stack composes through an MmBatchDeployment with that id); leave them out of this name too.
        visible_path = "/".join(part for part in template.node.path.split("/") if part != "Default")
        cdk.Tags.of(template).add("Name", visible_path)
        return template

    def _compute_environment(
        self,
        vpc: ec2.IVpc,
        vpc_subnets: Optional[ec2.SubnetSelection],
        types: Sequence[str],
        use_spot: bool,
        min_vcpus: int,
        max_vcpus: int,
        security_groups: Sequence[ec2.ISecurityGroup],
        *,
        update_minutes: int,
    ) -> tuple[batch.ManagedEc2EcsComputeEnvironment, batch.CfnComputeEnvironment]:
        """The managed environment on the launch template's latest version; Spot or On-Demand, the ECS AL2023 image
        (its NVIDIA variant for GPU types). With its L1, which the instance tags and dependencies go on."""
        image_type = batch.EcsMachineImageType.ECS_AL2023_NVIDIA if self.gpu else batch.EcsMachineImageType.ECS_AL2023
        # aws-batch needs at least one type, as an ec2.InstanceType, and checks each one's size (a bare family such as
        # ``c7i`` or a keyword such as ``optimal`` fails there), while AWS Batch itself takes both. aws-batch gets the
        # first sized type alone (each ec2.InstanceType is a jsii round trip); the full list is set below.
        sized = next((t for t in types if "." in t), "m6i.large" if self.architecture == "x86_64" else "m7g.large")
        environment = batch.ManagedEc2EcsComputeEnvironment(
            self,
            "ComputeEnvironment",
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            instance_types=[ec2.InstanceType(sized)],
            use_optimal_instance_classes=False,
            images=[batch.EcsMachineImage(image_type=image_type)],
            spot=use_spot,
            allocation_strategy=batch.AllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED
            if use_spot
            else batch.AllocationStrategy.BEST_FIT_PROGRESSIVE,
            minv_cpus=min_vcpus,
            maxv_cpus=max_vcpus,
            launch_template=self.launch_template,
            security_groups=[self.security_group, *security_groups],
            instance_role=self.role,
            replace_compute_environment=False,
            # AWS Batch does not move an environment's nodes to a newer AMI unless told to: with this, each
            # infrastructure update (every user-data change is one, through LatestVersionNumber below) also takes the
            # latest ECS-optimized AMI Batch supports, since the launch template names no image (CloudFormation
            # AWS::Batch::ComputeEnvironment ComputeResources UpdateToLatestImageVersion: ignored when an AMI comes from
            # the launch template; https://docs.aws.amazon.com/batch/latest/userguide/infrastructure-updates.html lists
            # launchTemplate among the changes that trigger one). Running jobs get ``update_minutes``.
            update_to_latest_image_version=True,
            terminate_on_update=False,
            update_timeout=cdk.Duration.minutes(update_minutes),
        )
        # aws-batch omits the version, which leaves the environment on the version it was created with.
        # LatestVersionNumber changes with every user-data change and triggers an infrastructure update.
        cfn_environment = environment.node.default_child
        assert isinstance(cfn_environment, batch.CfnComputeEnvironment)
        cfn_environment.add_property_override(
            "ComputeResources.LaunchTemplate.Version", self.launch_template.latest_version_number
        )
        if [sized] != list(types):
            cfn_environment.add_property_override("ComputeResources.InstanceTypes", list(types))
        return environment, cfn_environment

    def _start_nodes_after(self, vpc: ec2.IVpc, vpc_subnets: Optional[ec2.SubnetSelection], agent: AgentInstaller) -> None:
        """Nodes must not boot before the route out of private subnets (NAT) and the server's name exist: a name
        looked up too early is cached as missing. On the environment alone, so its instance profile need not wait."""
        environment_node = self._cfn_environment.node
        environment_node.add_dependency(select_subnets(vpc, vpc_subnets).internet_connectivity_established)
        if agent.available is not None:
            environment_node.add_dependency(agent.available)

    def _acknowledge_findings(self, log_group: Optional[logs.ILogGroup], key: Optional[kms.IKey]) -> None:
        """cdk-nag findings of the nodes that their props leave, each with its reason."""
        _acknowledge_default_profile(self.role, log_group, key, cdk.Acknowledgment(
            id="AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role]",
            reason="AWS's maintained policy for the ECS agent that AWS Batch runs on every node; it tracks new agent APIs.",
        ))

    def tag_instances(self, tags: Mapping[str, str]) -> None:
        """Tag every instance AWS Batch launches for this queue (``ComputeResources.Tags``, merged with earlier tags).

        The compute environment's own Tags would not reach the instances, and changing them replaces it.
        """
        if not tags:
            return
        self._instance_tags.update(tags)
        self._cfn_environment.add_property_override("ComputeResources.Tags", dict(self._instance_tags))

    @property
    def instance_tags(self) -> dict[str, str]:
        """The tags AWS Batch puts on this queue's instances (a copy; add with :meth:`tag_instances`)."""
        return dict(self._instance_tags)

    def _grant_aws_cli_read(self, aws_cli: AwsCliInstall) -> None:
        objects = aws_cli.s3_objects()
        if not objects:
            return
        stack = cdk.Stack.of(self)
        bucket_object = [o.split("/", 1) for o in objects]
        self.role.add_to_policy(iam.PolicyStatement(
            sid="ReadAwsCliInstaller",
            actions=["s3:GetObject"],
            resources=[stack.format_arn(service="s3", region="", account="", resource=b, resource_name=k) for b, k in bucket_object],
        ))
        wildcards = [cdk.Acknowledgment(
            id=f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::{obj}]",
            reason="The AWS CLI zip (and its signature) for either CPU architecture ({arch} is x86_64 or aarch64 "
            "at boot): read-only objects the awsCliSource setting names.",
        ) for obj in objects if "*" in obj]
        if wildcards:
            policy = self.role.node.find_child("DefaultPolicy").node.default_child
            assert policy is not None
            cdk.Validations.of(policy).acknowledge(*wildcards)

    @property
    def connections(self) -> ec2.Connections:
        """The nodes, as a peer: ``storage.connections.allow_default_port_from(compute)``."""
        return self._connections

    @property
    def grant_principal(self) -> iam.IPrincipal:
        """The nodes' role: ``storage.grant_node(compute)`` grants to it."""
        return self.role

    def _validate(
        self, types: Sequence[str], min_vcpus: int, max_vcpus: int, node: NodeSettings, storage: CheckpointStorage
    ) -> None:
        rules.raise_problems(self, "instance_types", rules.instance_type_problems(types))
        # A Python int is never a token (CDK's number tokens are floats), so only other values take a jsii call.
        if all(isinstance(v, int) or not cdk.Token.is_unresolved(v) for v in (min_vcpus, max_vcpus)):
            rules.raise_problems(self, "min_vcpus", [rules.vcpu_problem(min_vcpus, max_vcpus, "min_vcpus", "max_vcpus")])
        for prop, value, (low, high) in (
            ("ecs_stop_timeout", node.ecs_stop_timeout, ECS_STOP_TIMEOUT_RANGE),
            ("ecs_start_timeout", node.ecs_start_timeout, ECS_START_TIMEOUT_RANGE),
            ("ecs_create_timeout", node.ecs_create_timeout, ECS_CREATE_TIMEOUT_RANGE),
        ):
            rules.raise_problems(self, f"node_settings.{prop}", [rules.duration_problem(value, low, high)])
        for whole, number, bounds, unit in (
            ("agent_wait_seconds", node.agent_wait_seconds, AGENT_WAIT_SECONDS_RANGE, "seconds"),
            ("boot_check_seconds", node.boot_check_seconds, BOOT_CHECK_SECONDS_RANGE, "seconds"),
            ("infrastructure_update_minutes", node.infrastructure_update_minutes, INFRASTRUCTURE_UPDATE_MINUTES_RANGE,
             "minutes"),
        ):
            rules.raise_problems(self, f"node_settings.{whole}", [rules.whole_number_problem(number, bounds, unit)])
        if node.fatal_shutdown_minutes is not None:  # None: never shut down
            rules.raise_problems(self, "node_settings.fatal_shutdown_minutes", [
                rules.whole_number_problem(node.fatal_shutdown_minutes, FATAL_SHUTDOWN_MINUTES_RANGE, "minutes")])
        rules.raise_problems(
            self, "node_settings.root_volume_gib", [rules.root_volume_problem(node.root_volume_gib, storage.node_disk_gib)]
        )


def _acknowledge_default_profile(role: iam.Role, log_group: Optional[logs.ILogGroup], key: Optional[kms.IKey],
                                 *role_acknowledgments: cdk.Acknowledgment) -> None:
    """HIPAA Security / NIST 800-53 R5 findings of the nodes that their props leave (docs/security.md), acknowledged
    on the role together with ``role_acknowledgments`` (one call per resource)."""
    cdk.Validations.of(role).acknowledge(*compliance_acknowledgments(
        "IAMNoInlinePolicy",
        "aws-cdk-lib's per-role default policy: attached to this node role only, created and deleted with it, and "
        "holding only the grants the nodes need (storage, secret, logs), each scoped to its resource.",
    ), *role_acknowledgments)
    _acknowledge_log_group(log_group, key)


def _acknowledge_log_group(log_group: Optional[logs.ILogGroup], key: Optional[kms.IKey]) -> None:
    """The job log group's CloudWatchLogGroupEncrypted finding, without a customer-managed key."""
    if log_group is not None and key is None:
        acknowledge_compliance(
            log_group, "CloudWatchLogGroupEncrypted",
            "CloudWatch Logs encrypts all log data at rest with its own keys; a customer-managed key for job logs is "
            "what compliance=hipaa adds.",
        )
