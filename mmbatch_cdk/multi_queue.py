"""MultiQueue: several checkpointed job queues, each on its own compute environment, sharing storage and server."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from .agent import AgentInstaller
from .compute import BatchCompute, _acknowledge_log_group
from .instance_types import sizes
from .node_settings import NodeSettings
from .storage.base import CheckpointStorage

__all__ = ["DEFAULT_QUEUES", "MultiQueue", "QUEUE_TAG", "QueueSpec"]

QUEUE_TAG = "mmbatch:queue"
"""Tag on every instance AWS Batch launches for a queue: its name (``default`` for a single queue)."""


@dataclass(frozen=True)
class QueueSpec:
    """One job queue: what differs from queue to queue (everything else is :class:`NodeSettings`).

    :param name: construct id and output suffix, e.g. ``Jq1``; ``""`` for a deployment's single queue. Required.
    :param priority: the queue's priority; higher runs first. Required.
    :param instance_types: instance types or families, one CPU architecture. Default: ``()``, which means
        :class:`BatchCompute`'s default (``m6i.large`` ... ``m6i.16xlarge``).
    :param min_vcpus: vCPUs kept running. Default: 0.
    :param max_vcpus: vCPU ceiling. Default: 256.
    :param spot: Spot capacity; False for On-Demand. Default: None, the node settings' ``spot``.
    """

    name: str
    priority: int
    instance_types: tuple[str, ...] = field(default=())
    min_vcpus: int = 0
    max_vcpus: int = 256
    spot: Optional[bool] = None


DEFAULT_QUEUES: tuple[QueueSpec, ...] = (
    QueueSpec("Jq1", 30, sizes("c7i")),
    QueueSpec("Jq2", 20, sizes("m7i")),
    QueueSpec("Jq3", 10, sizes("r7i")),
)
"""The seed's three queues on current generations: Jq1 compute-optimized (c7i) with the highest priority,
Jq2 general purpose (m7i), Jq3 memory-optimized (r7i)."""


class MultiQueue(Construct):
    """One :class:`BatchCompute` per :class:`QueueSpec`; all mount the same storage and install from the same agent.

    Job logs of every queue go to one log group (:attr:`job_log_group`). Like :class:`BatchCompute`, it wires
    nothing to its siblings; :class:`MmBatchDeployment` does.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        storage: CheckpointStorage,
        agent: AgentInstaller,
        queues: Optional[Sequence[QueueSpec]] = None,
        vpc_subnets: Optional[ec2.SubnetSelection] = None,
        security_groups: Sequence[ec2.ISecurityGroup] = (),
        node_settings: Optional[NodeSettings] = None,
        log_encryption_key: Optional[kms.IKey] = None,
    ) -> None:
        """
        :param vpc: the VPC of the nodes.
        :param storage: checkpoint storage every queue's nodes mount.
        :param agent: where every node fetches the MMBatch agent (``ManagementServer.agent_installer``). Required.
        :param queues: the queues. Default: :data:`DEFAULT_QUEUES` (Jq1 c7i, Jq2 m7i, Jq3 r7i).
        :param vpc_subnets: subnets of the nodes. Default: the VPC's private subnets.
        :param security_groups: extra security groups for every node. Default: none.
        :param node_settings: root volume, ECS timeouts and Spot of every node. Default: ``NodeSettings()``.
        :param log_encryption_key: customer-managed key of the job log group (its key policy must admit CloudWatch
            Logs). Default: none (CloudWatch Logs' own encryption).
        """
        super().__init__(scope, id)
        specs = tuple(queues) if queues is not None else DEFAULT_QUEUES
        _validate(self, specs)
        node = node_settings or NodeSettings()
        self.job_log_group = logs.LogGroup(self, "JobLogs", retention=node.job_log_retention, encryption_key=log_encryption_key,
                                           removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE)
        """The log group every queue's jobs log to."""
        self.queues: dict[str, BatchCompute] = {
            spec.name: BatchCompute(
                self,
                spec.name,
                vpc=vpc,
                storage=storage,
                agent=agent,
                instance_types=spec.instance_types or None,
                min_vcpus=spec.min_vcpus,
                max_vcpus=spec.max_vcpus,
                spot=spec.spot,
                priority=spec.priority,
                vpc_subnets=vpc_subnets,
                security_groups=security_groups,
                node_settings=node,
                job_log_group=self.job_log_group,
                instance_tags={QUEUE_TAG: spec.name},
            )
            for spec in specs
        }
        """Each queue's compute, by queue name."""
        _acknowledge_log_group(self.job_log_group, log_encryption_key)


def _validate(scope: Construct, specs: Sequence[QueueSpec]) -> None:
    if not specs:
        raise ValueError(f"{scope.node.path}: queues: must name at least one queue")
    names = [s.name for s in specs]
    if len(set(names)) != len(names) or "" in names:
        raise ValueError(f"{scope.node.path}: queues: names must differ and not be empty, got {', '.join(map(repr, names))}")
    priorities = [s.priority for s in specs]
    if len(set(priorities)) != len(priorities):
        raise ValueError(f"{scope.node.path}: queues: priorities must differ so the order is explicit, got {priorities}")
