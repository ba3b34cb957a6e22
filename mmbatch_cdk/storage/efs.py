"""CheckpointStorageEfs: an encrypted, elastic-throughput EFS file system for checkpoints."""

from __future__ import annotations

from typing import Any, Mapping, Optional, Union

import aws_cdk as cdk
from aws_cdk import aws_backup as backup
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct, IDependable

from ..nag import acknowledge_compliance
from ..rules import raise_problems, whole_number_problem
from ..user_data import render
from .base import CheckpointStorage, direct_grantee

__all__ = ["CheckpointStorageEfs", "PROVISIONED_MIBPS_RANGE"]

PROVISIONED_MIBPS_RANGE = (1, 3414)
"""Accepted ``provisioned_throughput_mibps``: EFS takes 1-3414 MiB/s without a quota increase, less in some regions
(EFS API Reference, CreateFileSystem ``ProvisionedThroughputInMibps``)."""

_ELASTIC_CLIENT_MIBPS = 1500.0
"""EFS per-client throughput, Elastic mode, amazon-efs-utils >= 2.0 (EFS performance specifications)."""
_CLIENT_MIBPS = 500.0
"""EFS per-client throughput in every other case."""
_BURSTING_FLOOR_MIBPS = 100.0
"""What any Bursting file system can drive while it has burst credits (its baseline is 50 KiB/s per GiB stored)."""


class CheckpointStorageEfs(CheckpointStorage):
    """Checkpoint storage on Amazon EFS, mounted by nodes over TLS with IAM authorization.

    Creates an encrypted file system (elastic throughput by default), a mount target in each subnet,
    a security group that admits NFS only from what is granted through :attr:`connections`, an access
    point whose root directory belongs to ``ec2-user`` (uid/gid 1000), and a lifecycle policy that moves
    files untouched for ``transition_to_ia`` to Infrequent Access and back on first read.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        vpc_subnets: Optional[ec2.SubnetSelection] = None,
        throughput_mode: efs.ThroughputMode = efs.ThroughputMode.ELASTIC,
        provisioned_throughput_mibps: Optional[int] = None,
        performance_mode: efs.PerformanceMode = efs.PerformanceMode.GENERAL_PURPOSE,
        transition_to_ia: Optional[efs.LifecyclePolicy] = efs.LifecyclePolicy.AFTER_7_DAYS,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        file_system: Optional[efs.IFileSystem] = None,
        encryption_key: Optional[kms.IKey] = None,
        backup_plan: Optional[backup.BackupPlan] = None,
    ) -> None:
        """
        :param vpc: the VPC of the mount targets.
        :param vpc_subnets: subnets that get a mount target (one per AZ). Default: the VPC's private subnets,
            or its public subnets when it has none.
        :param throughput_mode: EFS throughput mode. Default: ELASTIC (scales with checkpoint bursts, billed per use).
        :param provisioned_throughput_mibps: with PROVISIONED, the throughput in MiB/s. Default: none.
        :param performance_mode: EFS performance mode. Default: GENERAL_PURPOSE.
        :param transition_to_ia: lifecycle to Infrequent Access; None keeps all files in Standard. Default: AFTER_7_DAYS.
        :param removal_policy: what stack deletion does to the file system. Default: RETAIN_ON_UPDATE_OR_DELETE (kept
            on update and deletion, removed when the stack's first create fails, so a retry starts clean).
        :param file_system: use this existing file system instead of creating one (its security groups
            must be reachable through ``file_system.connections``). Default: a new file system.
        :param encryption_key: customer-managed key of a new file system. Default: none (the AWS managed key aws/efs).
        :param backup_plan: an AWS Backup plan that gets a selection for a new file system. Default: none (no backups).
        """
        super().__init__(scope, id)
        if provisioned_throughput_mibps is not None:
            raise_problems(self, "provisioned_throughput_mibps", [
                whole_number_problem(provisioned_throughput_mibps, PROVISIONED_MIBPS_RANGE, "MiB/s")])
        self._throughput = (throughput_mode, provisioned_throughput_mibps) if file_system is None else None
        self._performance_mode = performance_mode
        if file_system is None:
            security_group = ec2.SecurityGroup(
                self,
                "SecurityGroup",
                vpc=vpc,
                description="EFS checkpoint storage: NFS from granted compute nodes only",
                allow_all_outbound=False,
            )
            file_system = efs.FileSystem(
                self,
                "FileSystem",
                vpc=vpc,
                vpc_subnets=vpc_subnets,
                security_group=security_group,
                encrypted=True,
                kms_key=encryption_key,
                throughput_mode=throughput_mode,
                provisioned_throughput_per_second=cdk.Size.mebibytes(provisioned_throughput_mibps)
                if provisioned_throughput_mibps
                else None,
                performance_mode=performance_mode,
                lifecycle_policy=transition_to_ia,
                out_of_infrequent_access_policy=efs.OutOfInfrequentAccessPolicy.AFTER_1_ACCESS
                if transition_to_ia
                else None,
                removal_policy=removal_policy,
            )
            self._protect(file_system, backup_plan)
        self.file_system: efs.IFileSystem = file_system
        """The EFS file system."""
        self.access_point = efs.AccessPoint(
            self,
            "AccessPoint",
            file_system=file_system,
            path="/mmc-checkpoint",
            create_acl=efs.Acl(owner_uid="1000", owner_gid="1000", permissions="755"),
        )
        """The access point nodes mount; its root directory is owned by ec2-user."""

    def _protect(self, file_system: efs.FileSystem, backup_plan: Optional[backup.BackupPlan]) -> None:
        """Back the file system up with ``backup_plan``, or say why the default profile does not."""
        if backup_plan is None:
            acknowledge_compliance(
                file_system, "EFSInBackupPlan",
                "Checkpoints are transient: MMBatch deletes them once a job restored or finished, so a backup would only "
                "keep job memory images longer; compliance=hipaa adds a daily AWS Backup plan.",
            )
            return
        selection = backup_plan.add_selection(
            f"{self.node.id}FileSystem", resources=[backup.BackupResource.from_efs_file_system(file_system)])
        cdk.Validations.of(selection.node.find_child("Role")).acknowledge(cdk.Acknowledgment(
            id="AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]",
            reason="AWS Backup's own service-role policy, the documented way to let AWS Backup create and manage "
            "backups of the selected EFS file system.",
        ))

    @property
    def available(self) -> Optional[IDependable]:
        """The mount targets (a node boots without one in its zone otherwise); None for an imported file system."""
        file_system = self.file_system
        return file_system.mount_targets_available if isinstance(file_system, efs.FileSystem) else None

    @property
    def connections(self) -> ec2.Connections:
        """NFS (2049) access to the mount targets."""
        return self.file_system.connections

    @property
    def node_write_mibps(self) -> Optional[float]:
        """EFS's per-client limit: 1,500 MiB/s with Elastic throughput (amazon-efs-utils 2.0 or later, which the
        mount script checks), 500 MiB/s otherwise; Provisioned is capped by its setting, Bursting modelled at
        its 100 MiB/s burst floor. None for an imported file system (its settings are unknown)."""
        if self._throughput is None:
            return None
        mode, provisioned = self._throughput
        if mode == efs.ThroughputMode.ELASTIC:
            return _ELASTIC_CLIENT_MIBPS
        if mode == efs.ThroughputMode.PROVISIONED and provisioned:
            return float(min(_CLIENT_MIBPS, provisioned))
        return _BURSTING_FLOOR_MIBPS

    @property
    def description(self) -> str:
        """``EFS (elastic)`` and the like."""
        if self._throughput is None:
            return "EFS (imported)"
        mode, provisioned = self._throughput
        name = {efs.ThroughputMode.ELASTIC: "elastic", efs.ThroughputMode.BURSTING: "bursting"}.get(mode, "provisioned")
        return f"EFS ({name}{f' {provisioned} MiB/s' if provisioned else ''})"

    @property
    def monitored(self) -> Mapping[str, Any]:
        """The file system and the modes that decide which EFS alarms apply (none for an imported one)."""
        if self._throughput is None or not isinstance(self.file_system, efs.FileSystem):
            return {}
        return {"efs_file_system": self.file_system, "efs_throughput_mode": self._throughput[0],
                "efs_performance_mode": self._performance_mode}

    @property
    def outputs(self) -> Mapping[str, tuple[str, str]]:
        """File system and access point ids, and the mount point."""
        return {
            "FileSystemId": (self.file_system.file_system_id, "EFS file system holding checkpoints"),
            "AccessPointId": (self.access_point.access_point_id, "EFS access point the nodes mount"),
            "CheckpointMountPoint": (self.mount_point, "Where checkpoints are mounted on every node"),
        }

    def grant_node(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow IAM-authorized mounts with write and root access, through the access point."""
        return self.file_system.grant_root_access(direct_grantee(grantee))

    def node_mount_script(self, node_settings: Optional[Mapping[str, Union[str, int]]] = None) -> str:
        """Install the ECS gate, then mount at ``/mmc-checkpoint`` with ``tls,iam`` through the access point, in fstab."""
        return render(
            "efs_mount.sh",
            {
                "FATAL_SHUTDOWN_MINUTES": 1,
                **(node_settings or {}),
                "FILE_SYSTEM_ID": self.file_system.file_system_id,
                "ACCESS_POINT_ID": self.access_point.access_point_id,
                "MOUNT_POINT": self.mount_point,
            },
        )
