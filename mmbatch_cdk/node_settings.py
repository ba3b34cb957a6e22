"""NodeSettings: what every compute node of a deployment shares, whichever queue it serves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional, Union

from aws_cdk import aws_logs as logs

from .aws_cli import AwsCliInstall

if TYPE_CHECKING:
    from .log_shipping import LogShipping

__all__ = [
    "AGENT_WAIT_SECONDS_RANGE", "BOOT_CHECK_SECONDS_RANGE", "FATAL_SHUTDOWN_MINUTES_RANGE", "ECS_CREATE_TIMEOUT_RANGE", "INFRASTRUCTURE_UPDATE_MINUTES_RANGE", "ECS_START_TIMEOUT_RANGE", "ECS_STOP_TIMEOUT_RANGE",
    "NodeSettings",
]

ECS_STOP_TIMEOUT_RANGE = (30, 3600)
"""Accepted ``ecs_stop_timeout``, in seconds: from ECS's own 30 s default to an hour."""
ECS_START_TIMEOUT_RANGE = (180, 4 * 3600)
"""Accepted ``ecs_start_timeout``, in seconds: a restore must fit."""
ECS_CREATE_TIMEOUT_RANGE = (180, 4 * 3600)
"""Accepted ``ecs_create_timeout``, in seconds."""
INFRASTRUCTURE_UPDATE_MINUTES_RANGE = (1, 360)
"""Accepted ``infrastructure_update_minutes``: AWS Batch's ``UpdatePolicy.jobExecutionTimeoutMinutes`` range (the API
reference has said 1 to 360; its newest text allows up to 7200, so 360 is the bound both accept)."""
AGENT_WAIT_SECONDS_RANGE = (60, 3600)
"""Accepted ``agent_wait_seconds``: a minute (the server may still be booting) to an hour."""
FATAL_SHUTDOWN_MINUTES_RANGE = (0, 60)
"""Accepted ``fatal_shutdown_minutes`` (or None): ``shutdown -h +N`` takes whole minutes only, and a failed node kept
longer than an hour is a forgotten one, gated off and billed."""
BOOT_CHECK_SECONDS_RANGE = (60, 3600)
"""Accepted ``boot_check_seconds``: a minute (a mount at boot takes seconds) to an hour."""


@dataclass(frozen=True)
class NodeSettings:
    """Settings shared by the nodes of every queue (:class:`BatchCompute`, :class:`MultiQueue`, the stack).

    :param root_volume_gib: root volume (gp3, encrypted) before the storage client's cache is added. Default: 30.
    :param ecs_stop_timeout: ECS_CONTAINER_STOP_TIMEOUT, a Go duration such as ``110s``: how long ECS waits for a
        container it stops before it kills it (ECS Spot draining does not stop Batch jobs, so it is no window after a
        Spot notice). Default: ``110s``.
    :param ecs_start_timeout: ECS_CONTAINER_START_TIMEOUT; a restore runs at container start. Default: ``16m``.
    :param ecs_create_timeout: ECS_CONTAINER_CREATE_TIMEOUT. Default: ``15m``.
    :param spot: Spot capacity (price-capacity-optimized); False for On-Demand. A queue may override it. Default: True.
    :param agent_wait_seconds: how long a node waits for the management server to serve the agent installer
        before it gives up, logs one FATAL line and shuts down. Default: 900.
    :param aws_cli: the verified AWS CLI every node installs at ``/usr/local/aws-cli`` (Nextflow's ``aws.batch.cliPath``,
        Cromwell's mount) with Cromwell's fetch-and-run script; None for neither. Default: ``AwsCliInstall()`` (AWS's
        zip of the pinned release, checked against its pinned sha256).
    :param log_shipping: ships every node's boot, agent and cloud-init logs to CloudWatch Logs (its agent part runs
        first at boot). Default: none.
    :param ssm_register_tag: ``(key, value)`` the nodes carry (the deployment tag): Session Manager registration only
        for instances with it (``session_manager.grant_session_manager(register_tag=)``). Default: none (any
        instance of the account and region).
    :param job_log_retention: how long a queue's job log group (when the queue creates it) keeps events. Default:
        one month.
    :param fatal_shutdown_minutes: minutes from a fatal boot error to the node's shutdown (AWS Batch then replaces
        it); None keeps the node up, with ECS still gated off, for debugging. Default: 1.
    :param boot_check_seconds: on every boot after the first, how long a node waits for its checkpoint storage to be
        mounted (retrying an fstab mount) before it fails like a first boot: one FATAL line, then the shutdown
        (``user_data/boot_check_lib.sh``). Default: 600.
    :param infrastructure_update_minutes: how long an infrastructure update of a compute environment (a new launch
        template version, a new ECS-optimized AMI: ``UpdateToLatestImageVersion`` is on) lets running jobs finish on
        the old nodes before AWS Batch replaces them anyway (``UpdatePolicy.JobExecutionTimeoutMinutes``; jobs are not
        terminated early). A checkpointed job stopped then restores on a new node. Default: 30.
    """

    root_volume_gib: int = 30
    ecs_stop_timeout: str = "110s"
    ecs_start_timeout: str = "16m"
    ecs_create_timeout: str = "15m"
    spot: bool = True
    agent_wait_seconds: int = 900
    fatal_shutdown_minutes: Optional[int] = 1
    boot_check_seconds: int = 600
    infrastructure_update_minutes: int = 30
    aws_cli: Optional[AwsCliInstall] = field(default_factory=AwsCliInstall)
    log_shipping: Optional["LogShipping"] = None
    ssm_register_tag: Optional[tuple[str, str]] = None
    job_log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH

    @property
    def boot_settings(self) -> dict[str, Union[str, int]]:
        """The settings every node boot script takes (``FATAL_SHUTDOWN_MINUTES``)."""
        minutes = self.fatal_shutdown_minutes
        return {"FATAL_SHUTDOWN_MINUTES": "never" if minutes is None else minutes}
