"""The wiring between constructs, in one place: storage -> nodes, server -> nodes, storage -> server, head jobs -> queues.

:class:`MmBatchDeployment` calls these for you. Each uses only what a construct exposes (``connections``,
``grant_principal``, ``grant_node``, ``add_boot_script``) and may be called again for the same pair without
adding anything twice (ingress rules and policy statements are de-duplicated by CDK, boot scripts by the server).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import aws_iam as iam

if TYPE_CHECKING:
    from .compute import BatchCompute
    from .head_queue import HeadJobQueue
    from .management_server import ManagementServer
    from .storage.base import CheckpointStorage

__all__ = ["connect_compute", "mount_storage", "prepare_storage", "serve_agent", "submit_from_head"]


def mount_storage(storage: "CheckpointStorage", compute: "BatchCompute") -> iam.Grant:
    """Let ``compute``'s nodes reach and mount ``storage``, and start none before they can; returns the grant."""
    storage.connections.allow_default_port_from(compute.connections, "checkpoint storage from compute nodes")
    grant = storage.grant_node(compute)
    environment = compute.compute_environment.node.default_child
    assert environment is not None
    grant.apply_before(environment)  # the node role's policy exists before the first node boots
    if storage.available is not None:
        environment.node.add_dependency(storage.available)
    return grant


def prepare_storage(storage: "CheckpointStorage", server: "ManagementServer") -> None:
    """Run ``storage``'s one-time preparation (e.g. ``juicefs format``) on ``server``, with the access it needs."""
    script = storage.formatter_script()
    if script is None:
        return
    server.add_boot_script(script)
    storage.grant_node(server)
    storage.connections.allow_default_port_from(server.connections, "storage preparation from the management server")


def serve_agent(server: "ManagementServer", compute: "BatchCompute") -> None:
    """Let ``compute``'s nodes fetch the agent from ``server`` (8080), ``server`` read their job logs, and tag the
    nodes as the server's deployment (its per-job volumes may attach only to nodes with that tag)."""
    server.connections.allow_default_port_from(compute.connections, "MMBatch agent installer and API from compute nodes")
    compute.job_log_group.grant_read(server.role)  # the role itself: no jsii callback into the Python construct
    key, value = server.deployment_tag
    compute.tag_instances({key: value})


def connect_compute(compute: "BatchCompute", *, storage: "CheckpointStorage", management_server: "ManagementServer") -> None:
    """All of the above for one queue: what :class:`MmBatchDeployment` does for each of its queues."""
    mount_storage(storage, compute)
    prepare_storage(storage, management_server)
    serve_agent(management_server, compute)


def submit_from_head(head: "HeadJobQueue", compute: "BatchCompute") -> None:
    """Let ``head``'s jobs submit task jobs to ``compute``'s queue and read that queue's job logs."""
    head.allow_submit_to([compute.job_queue])
    compute.job_log_group.grant(head.role, "logs:GetLogEvents", "logs:FilterLogEvents")
