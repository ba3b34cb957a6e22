"""MultiQueue: several checkpointed job queues, each on its own compute environment, sharing storage and server."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from .compute import BatchCompute
from .instance_types import sizes
from .management_server import ManagementServer
from .storage.base import CheckpointStorage

__all__ = ["DEFAULT_QUEUES", "MultiQueue", "QueueSpec"]


@dataclass(frozen=True)
class QueueSpec:
    """One job queue of a :class:`MultiQueue`.

    :param name: construct id and output suffix, e.g. ``Jq1``. Required.
    :param priority: the queue's priority; higher runs first. Required.
    :param instance_types: instance types or families, one CPU architecture. Default: ``()``, which means
        :class:`BatchCompute`'s default (``m6i.large`` ... ``m6i.16xlarge``).
    :param min_vcpus: vCPUs kept running. Default: 0.
    :param max_vcpus: vCPU ceiling. Default: 256.
    :param spot: Spot capacity; False for On-Demand. Default: True.
    """

    name: str
    priority: int
    instance_types: tuple[str, ...] = field(default=())
    min_vcpus: int = 0
    max_vcpus: int = 256
    spot: bool = True


DEFAULT_QUEUES: tuple[QueueSpec, ...] = (
    QueueSpec("Jq1", 30, sizes("c7i")),
    QueueSpec("Jq2", 20, sizes("m7i")),
    QueueSpec("Jq3", 10, sizes("r7i")),
)
"""The seed's three queues on current generations: Jq1 compute-optimized (c7i) with the highest priority,
Jq2 general purpose (m7i), Jq3 memory-optimized (r7i)."""


class MultiQueue(Construct):
    """One :class:`BatchCompute` per :class:`QueueSpec`; all mount the same storage and use the same server.

    Job logs of every queue go to one log group (:attr:`job_log_group`).
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
        vpc_subnets: Optional[ec2.SubnetSelection] = None,
        security_groups: Sequence[ec2.ISecurityGroup] = (),
        root_volume_gib: int = 30,
        ecs_stop_timeout: str = "110s",
        ecs_start_timeout: str = "16m",
        ecs_create_timeout: str = "15m",
    ) -> None:
        """
        :param vpc: the VPC of the nodes.
        :param storage: checkpoint storage every queue's nodes mount.
        :param management_server: the MMAB server every node installs its agent from.
        :param queues: the queues. Default: :data:`DEFAULT_QUEUES` (Jq1 c7i, Jq2 m7i, Jq3 r7i).
        :param vpc_subnets: subnets of the nodes. Default: the VPC's private subnets.
        :param security_groups: extra security groups for every node. Default: none.
        :param root_volume_gib: root volume of every node before any storage cache. Default: 30.
        :param ecs_stop_timeout: ECS_CONTAINER_STOP_TIMEOUT on every node. Default: ``110s``.
        :param ecs_start_timeout: ECS_CONTAINER_START_TIMEOUT on every node. Default: ``16m``.
        :param ecs_create_timeout: ECS_CONTAINER_CREATE_TIMEOUT on every node. Default: ``15m``.
        """
        super().__init__(scope, id)
        specs = tuple(queues) if queues is not None else DEFAULT_QUEUES
        _validate(specs)
        self.job_log_group = logs.LogGroup(self, "JobLogs", retention=logs.RetentionDays.ONE_MONTH)
        """The log group every queue's jobs log to."""
        self.queues: dict[str, BatchCompute] = {
            spec.name: BatchCompute(
                self,
                spec.name,
                vpc=vpc,
                storage=storage,
                management_server=management_server,
                instance_types=spec.instance_types or None,
                min_vcpus=spec.min_vcpus,
                max_vcpus=spec.max_vcpus,
                spot=spec.spot,
                priority=spec.priority,
                vpc_subnets=vpc_subnets,
                security_groups=security_groups,
                root_volume_gib=root_volume_gib,
                ecs_stop_timeout=ecs_stop_timeout,
                ecs_start_timeout=ecs_start_timeout,
                ecs_create_timeout=ecs_create_timeout,
                job_log_group=self.job_log_group,
            )
            for spec in specs
        }
        """Each queue's compute, by queue name."""


def _validate(specs: Sequence[QueueSpec]) -> None:
    if not specs:
        raise ValueError("MultiQueue: queues must name at least one queue")
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"MultiQueue: queue names must differ, got {', '.join(names)}")
    priorities = [s.priority for s in specs]
    if len(set(priorities)) != len(priorities):
        raise ValueError(f"MultiQueue: queue priorities must differ so the order is explicit, got {priorities}")
