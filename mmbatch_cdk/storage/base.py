"""The contract between checkpoint storage and the compute nodes that mount it."""

from __future__ import annotations

from typing import Any, Mapping, Optional, Union

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct, IDependable

__all__ = ["CheckpointStorage", "CHECKPOINT_MOUNT_POINT", "direct_grantee"]

CHECKPOINT_MOUNT_POINT = "/mmc-checkpoint"
"""Where the MMBatch engine expects checkpoint storage on every node."""


class CheckpointStorage(Construct):
    """Shared storage for checkpoints; compute never needs to know which implementation it gets.

    An implementation hands a node everything it needs: a boot script that mounts the storage at
    :data:`CHECKPOINT_MOUNT_POINT` (:meth:`node_mount_script`), IAM permissions (:meth:`grant_node`),
    network reach through :attr:`connections` (``storage.connections.allow_default_port_from(nodes)``),
    the local disk its client needs (:attr:`node_disk_gib`), and optionally a one-time preparation step
    for the management server (:meth:`formatter_script`). It describes itself to the user through
    :attr:`outputs`. It grants and opens nothing by itself: whoever composes it does.
    """

    mount_point: str = CHECKPOINT_MOUNT_POINT

    @property
    def connections(self) -> ec2.Connections:
        """Network access to the storage; its default port is the one nodes connect to."""
        raise NotImplementedError

    @property
    def node_disk_gib(self) -> int:
        """Local disk, in GiB, each node needs for the storage client (a cache); 0 when none."""
        return 0

    @property
    def node_write_mibps(self) -> Optional[float]:
        """MiB/s one node can write checkpoints at, by this storage's own limits (its network aside); None if unknown.

        BatchCompute feeds it to :mod:`mmbatch_cdk.checkpoint_model` to warn about instance types that
        cannot write a full-memory checkpoint within the Spot notice.
        """
        return None

    @property
    def description(self) -> str:
        """A few words naming the storage and its throughput setting, for messages."""
        return type(self).__name__

    @property
    def available(self) -> Optional[IDependable]:
        """What must exist before a node can mount the storage (EFS mount targets); None when nodes wait by themselves."""
        return None

    @property
    def monitored(self) -> Mapping[str, Any]:
        """What :class:`Monitoring` watches of this storage, as its keyword arguments; empty when nothing."""
        return {}

    @property
    def outputs(self) -> Mapping[str, tuple[str, str]]:
        """Stack outputs that describe the storage: ``{output id: (value, description)}``."""
        return {}

    def grant_node(self, grantee: iam.IGrantable) -> iam.Grant:
        """Give a node (or the server) what it needs to mount and write checkpoints."""
        raise NotImplementedError

    def formatter_script(self) -> Optional[str]:
        """A boot script that prepares the storage once, run by the management server; None when none is needed.

        The runner needs :meth:`grant_node` and :attr:`connections` access too.
        """
        return None

    def node_mount_script(self, node_settings: Optional[Mapping[str, Union[str, int]]] = None) -> str:
        """A complete boot script (bash, shebang included) that mounts the storage, idempotently.

        It runs first on a node and installs the ECS gate before anything else (``gate_lib.sh``);
        ``node_settings`` are the settings every node script takes (``NodeSettings.boot_settings``).
        """
        raise NotImplementedError


def direct_grantee(grantee: iam.IGrantable) -> iam.IGrantable:
    """``grantee``'s role when its principal is one, else ``grantee``: a role is its own grantee, so aws-cdk-lib then
    calls no Python construct back for its principal (a jsii round trip per grant). The policy is the same."""
    principal = grantee.grant_principal
    return principal if isinstance(principal, iam.Role) else grantee
