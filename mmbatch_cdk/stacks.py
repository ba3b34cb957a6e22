"""The deployable stacks: one per checkpoint storage backend, built from an :class:`MmBatchConfig`."""

from __future__ import annotations

import dataclasses
from typing import Any, Optional, Sequence, TypedDict

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from constructs import Construct

from .compute import BatchCompute
from .config import MmBatchConfig
from .management_server import MMAB_PORT, ManagementServer
from .multi_queue import DEFAULT_QUEUES, MultiQueue, QueueSpec
from .network import Network
from .storage import SCRATCH_MOUNT_POINT, CheckpointStorage, CheckpointStorageEfs, CheckpointStorageJuiceFs

__all__ = ["MmBatchEfsStack", "MmBatchJuiceFsStack", "MmBatchStack", "STACKS"]


class _NodeSettings(TypedDict):
    """What every queue's nodes share, whether one :class:`BatchCompute` or a :class:`MultiQueue`."""

    vpc: ec2.IVpc
    vpc_subnets: Optional[ec2.SubnetSelection]
    storage: CheckpointStorage
    management_server: ManagementServer
    security_groups: Sequence[ec2.ISecurityGroup]
    root_volume_gib: int
    ecs_stop_timeout: str
    ecs_start_timeout: str
    ecs_create_timeout: str


class MmBatchStack(cdk.Stack):
    """Network + checkpoint storage + ManagementServer + BatchCompute (or MultiQueue), as the config describes.

    Subclasses choose the storage (:meth:`create_storage`) and its outputs (:meth:`storage_outputs`).
    """

    def __init__(self, scope: Construct, id: str, *, config: MmBatchConfig, **kwargs: Any) -> None:
        """
        :param config: the validated settings.
        :param kwargs: passed to :class:`aws_cdk.Stack` (``stack_name``, ``synthesizer``, ...).
        """
        super().__init__(scope, id, **kwargs)
        self.config = config
        """The settings this stack was built from."""
        cdk.Tags.of(self).add("mmbatch:prefix", config.prefix)
        for warning in config.warnings:
            cdk.Annotations.of(self).add_warning_v2("mmbatch:config", warning)

        self.network = Network(
            self,
            "Network",
            vpc_id=config.vpc_id,
            subnet_ids=config.subnet_ids,
            management_subnet_id=config.management_subnet_id,
            security_group_id=config.security_group_id,
            private_only=config.private_only,
        )
        """The VPC and subnets."""
        self.storage = self.create_storage()
        """The checkpoint storage."""
        self.management_server = ManagementServer(
            self,
            "ManagementServer",
            vpc=self.network.vpc,
            vpc_subnets=self.network.management_subnets,
            mmab_version=config.mmab_version,
            mmab_source=config.mmab_source,
            mmab_sha256=config.mmab_sha256,
            instance_type=config.management_instance_type,
            key_name=config.key_name,
            admin_cidr=config.admin_cidr,
            public_ip=False if config.private_only else None,
            security_groups=self.network.extra_security_groups,
            ckpt_interval=config.ckpt_interval,
        )
        """The MMAB management server."""
        node_settings: _NodeSettings = dict(
            vpc=self.network.vpc,
            vpc_subnets=self.network.compute_subnets,
            storage=self.storage,
            management_server=self.management_server,
            security_groups=self.network.extra_security_groups,
            root_volume_gib=config.root_volume_gib,
            ecs_stop_timeout=config.ecs_stop_timeout,
            ecs_start_timeout=config.ecs_start_timeout,
            ecs_create_timeout=config.ecs_create_timeout,
        )
        self.queues: dict[str, BatchCompute]
        """Each job queue's compute, by name: ``{"": ...}`` for the single queue, ``Jq1``... with ``multiQueue``."""
        if config.multi_queue:
            self.queues = MultiQueue(self, "Queues", queues=self._queue_specs(), **node_settings).queues
        else:
            compute = BatchCompute(
                self,
                "Compute",
                instance_types=config.instance_types,
                min_vcpus=config.min_vcpus,
                max_vcpus=config.max_vcpus,
                spot=config.spot,
                **node_settings,
            )
            self.queues = {"": compute}
        self._outputs()

    def _queue_specs(self) -> list[QueueSpec]:
        c = self.config
        return [
            dataclasses.replace(
                spec,
                instance_types=getattr(c, f"{spec.name.lower()}_instance_types"),
                min_vcpus=getattr(c, f"{spec.name.lower()}_min_vcpus"),
                max_vcpus=getattr(c, f"{spec.name.lower()}_max_vcpus"),
                spot=c.spot,
            )
            for spec in DEFAULT_QUEUES
        ]

    @property
    def removal_policy(self) -> cdk.RemovalPolicy:
        """The configured removal policy for stateful storage."""
        return cdk.RemovalPolicy.DESTROY if self.config.removal_policy == "destroy" else cdk.RemovalPolicy.RETAIN

    def create_storage(self) -> CheckpointStorage:
        """Create this stack's checkpoint storage."""
        raise NotImplementedError

    def storage_outputs(self) -> dict[str, tuple[str, str]]:
        """Outputs that describe the storage: ``{id: (value, description)}``."""
        raise NotImplementedError

    def _outputs(self) -> None:
        server = self.management_server
        port_forward = (
            f"aws ssm start-session --target {server.instance_id} --document-name AWS-StartPortForwardingSession "
            f"--parameters portNumber={MMAB_PORT},localPortNumber={MMAB_PORT}"
        )
        outputs = {
            "ManagementServerUrl": (server.url, "MMAB dashboard and API inside the VPC"),
            "ManagementServerInstanceId": (server.instance_id, "Management server instance (Session Manager target)"),
            "ManagementPortForwardCommand": (
                port_forward,
                f"Run this, then open https://localhost:{MMAB_PORT} (self-signed certificate)",
            ),
            **{
                f"JobQueueArn{name}": (compute.job_queue.job_queue_arn, f"Submit checkpointed jobs here ({', '.join(compute.instance_types[:2])}...)")
                for name, compute in self.queues.items()
            },
            "JobLogGroupName": (next(iter(self.queues.values())).job_log_group.log_group_name, "Log group for job logs"),
            **self.storage_outputs(),
        }
        for key, (value, description) in outputs.items():
            cdk.CfnOutput(self, key, value=value, description=description)


_EFS_THROUGHPUT_MODES = {
    "elastic": efs.ThroughputMode.ELASTIC,
    "bursting": efs.ThroughputMode.BURSTING,
    "provisioned": efs.ThroughputMode.PROVISIONED,
}


class MmBatchEfsStack(MmBatchStack):
    """MMBatch with checkpoints on Amazon EFS (the seed's "EFS-Based Deployment")."""

    def create_storage(self) -> CheckpointStorage:
        """An encrypted, elastic-throughput EFS file system in the compute subnets."""
        return CheckpointStorageEfs(
            self,
            "CheckpointStorage",
            vpc=self.network.vpc,
            vpc_subnets=self.network.compute_subnets,
            removal_policy=self.removal_policy,
            throughput_mode=_EFS_THROUGHPUT_MODES[self.config.efs_throughput_mode],
            provisioned_throughput_mibps=self.config.efs_provisioned_mibps,
        )

    def storage_outputs(self) -> dict[str, tuple[str, str]]:
        """File system and access point ids, and the mount point."""
        storage = self.storage
        assert isinstance(storage, CheckpointStorageEfs)
        return {
            "FileSystemId": (storage.file_system.file_system_id, "EFS file system holding checkpoints"),
            "AccessPointId": (storage.access_point.access_point_id, "EFS access point the nodes mount"),
            "CheckpointMountPoint": (storage.mount_point, "Where checkpoints are mounted on every node"),
        }


class MmBatchJuiceFsStack(MmBatchStack):
    """MMBatch with checkpoints on JuiceFS (S3 + MemoryDB), the seed's "JuiceFS-Based Deployment"."""

    def create_storage(self) -> CheckpointStorage:
        """Two JuiceFS volumes (checkpoint, scratch) with MemoryDB metadata in the compute subnets."""
        return CheckpointStorageJuiceFs(
            self,
            "CheckpointStorage",
            vpc=self.network.vpc,
            vpc_subnets=self.network.compute_subnets,
            redis_node_type=self.config.redis_node_type,
            removal_policy=self.removal_policy,
            cache_size_gib=self.config.juicefs_cache_gib,
            juicefs_version=self.config.juicefs_version,
            juicefs_sha256=self.config.juicefs_sha256,
            max_uploads=self.config.juicefs_max_uploads,
            block_size_mib=self.config.juicefs_block_size_mib,
            buffer_size_mib=self.config.juicefs_buffer_size_mib,
            name_prefix=self.config.prefix,
        )

    def storage_outputs(self) -> dict[str, tuple[str, str]]:
        """Buckets, metadata endpoints, the password secret and the mount points."""
        storage = self.storage
        assert isinstance(storage, CheckpointStorageJuiceFs)
        checkpoint, scratch = storage.clusters["checkpoint"], storage.clusters["scratch"]
        return {
            "CheckpointBucketName": (storage.checkpoint_bucket.bucket_name, "S3 bucket of the checkpoint volume"),
            "ScratchBucketName": (storage.scratch_bucket.bucket_name, "S3 bucket of the scratch volume"),
            "CheckpointMetadataEndpoint": (checkpoint.attr_cluster_endpoint_address, "MemoryDB endpoint (TLS, 6379)"),
            "ScratchMetadataEndpoint": (scratch.attr_cluster_endpoint_address, "MemoryDB endpoint (TLS, 6379)"),
            "MetadataPasswordSecretArn": (storage.secret.secret_arn, "Secret holding the MemoryDB user's password"),
            "MetadataUserName": (storage.user_name, "MemoryDB user JuiceFS connects as"),
            "CheckpointMountPoint": (storage.mount_point, "Checkpoint volume on every node"),
            "ScratchMountPoint": (SCRATCH_MOUNT_POINT, "Scratch volume on every node"),
        }


STACKS: dict[str, type[MmBatchStack]] = {"efs": MmBatchEfsStack, "juicefs": MmBatchJuiceFsStack}
"""The stack class for each ``backend`` value."""
