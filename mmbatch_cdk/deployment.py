"""MmBatchDeployment: checkpoint storage, a management server and job queues, wired together."""

from __future__ import annotations

from typing import Optional, Sequence

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from constructs import Construct

from . import wiring
from .compute import BatchCompute
from .management_server import ManagementServer
from .multi_queue import QUEUE_TAG, MultiQueue, QueueSpec
from .node_settings import NodeSettings
from .storage.base import CheckpointStorage

__all__ = ["MmBatchDeployment"]


class MmBatchDeployment(Construct):
    """The queues of an MMBatch deployment, wired to the storage they mount and the server they install from.

    This is the one place where constructs are wired together: the storage admits and grants every
    queue's nodes, the storage's one-time preparation runs on the server (with the access it needs), the
    server admits the nodes on 8080 and may read their job logs. One :class:`QueueSpec` named ``""`` gives a
    single :class:`BatchCompute` (``Compute``); anything else gives a :class:`MultiQueue` (``Queues``).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        storage: CheckpointStorage,
        management_server: ManagementServer,
        queues: Optional[Sequence[QueueSpec]] = None,
        node_settings: Optional[NodeSettings] = None,
        vpc_subnets: Optional[ec2.SubnetSelection] = None,
        security_groups: Sequence[ec2.ISecurityGroup] = (),
        log_encryption_key: Optional[kms.IKey] = None,
    ) -> None:
        """
        :param vpc: the VPC of the nodes.
        :param storage: checkpoint storage every node mounts.
        :param management_server: the MMAB server every node installs its agent from.
        :param queues: the job queues. Default: one queue, ``QueueSpec("", 1)`` (m6i.large ... m6i.16xlarge).
        :param node_settings: root volume, ECS timeouts and Spot of every node. Default: ``NodeSettings()``.
        :param vpc_subnets: subnets of the nodes. Default: the VPC's private subnets.
        :param security_groups: extra security groups for every node. Default: none.
        :param log_encryption_key: customer-managed key of the job log group (its key policy must admit CloudWatch
            Logs). Default: none (CloudWatch Logs' own encryption).
        """
        super().__init__(scope, id)
        specs = tuple(queues) if queues is not None else (QueueSpec("", 1),)
        agent = management_server.agent_installer
        if len(specs) == 1 and specs[0].name == "":
            spec = specs[0]
            compute = BatchCompute(
                self, "Compute", vpc=vpc, storage=storage, agent=agent, instance_types=spec.instance_types or None,
                min_vcpus=spec.min_vcpus, max_vcpus=spec.max_vcpus, spot=spec.spot, priority=spec.priority,
                vpc_subnets=vpc_subnets, security_groups=security_groups, node_settings=node_settings,
                instance_tags={QUEUE_TAG: "default"}, log_encryption_key=log_encryption_key,
            )
            self.queues: dict[str, BatchCompute] = {"": compute}
            """Each queue's compute by name: ``{"": ...}`` for a single queue, else by :attr:`QueueSpec.name`."""
        else:
            self.queues = MultiQueue(
                self, "Queues", vpc=vpc, storage=storage, agent=agent, queues=specs, vpc_subnets=vpc_subnets,
                security_groups=security_groups, node_settings=node_settings, log_encryption_key=log_encryption_key,
            ).queues
        self.storage = storage
        """The checkpoint storage."""
        self.management_server = management_server
        """The MMAB management server."""

        wiring.prepare_storage(storage, management_server)
        for compute in self.queues.values():
            wiring.mount_storage(storage, compute)
            wiring.serve_agent(management_server, compute)

    @property
    def job_log_group_name(self) -> str:
        """Name of the log group the jobs of every queue log to."""
        return next(iter(self.queues.values())).job_log_group.log_group_name
