"""CheckpointedJobDefinition: an AWS Batch job definition whose jobs MMBatch restores after a Spot reclaim.

MMBatch restores a job into AWS Batch's *retry* of it, so the definition retries a Spot loss (status
reason ``Host EC2*``) and exits on anything else; without the retry a reclaimed job just fails.
Sources: https://docs.aws.amazon.com/batch/latest/userguide/job_retries.html ;
https://docs.memverge.com/MMBatch/latest/User%20Guide/Reference%20Guides/config (per-job ``MMC_*``
overrides of the server's ``ckptConfig``).
"""

from __future__ import annotations

import re
from typing import Mapping, Optional, Sequence, Union

import aws_cdk as cdk
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from constructs import Construct

from .checkpoint_model import SPOT_NOTICE_SECONDS
from .compute import BatchCompute
from .container_image import container_image_problem
from .durations import duration_seconds
from .nag import acknowledge_compliance
from .storage.base import CHECKPOINT_MOUNT_POINT

__all__ = [
    "CHECKPOINT_MOUNT",
    "CheckpointedJobDefinition",
    "checkpoint_environment",
    "spot_retry_strategies",
    "spot_attempts_problem",
    "validate_spot_attempts",
]

CHECKPOINT_MOUNT = CHECKPOINT_MOUNT_POINT
"""Where nodes mount checkpoint storage; MemVerge's launcher sets ``MMC_CHECKPOINT_IMAGE_PATH`` to it."""

CHECKPOINT_MODES = ("iterative", "none")
"""Values MMBatch documents for ``MMC_CHECKPOINT_MODE``."""

SPOT_ATTEMPTS_RANGE = (2, 10)
"""AWS Batch allows 1-10 attempts (RetryStrategy ``attempts``: "You can specify between 1 and 10 attempts",
https://docs.aws.amazon.com/batch/latest/APIReference/API_RetryStrategy.html); one is no retry at all, so nothing would restore.
The ``spotAttempts`` setting checks this same bound."""

_SUBPATH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")


def spot_attempts_problem(spot_attempts: object) -> Optional[str]:
    """What is wrong with ``spot_attempts`` (the same words for the setting and the construct props), or None."""
    low, high = SPOT_ATTEMPTS_RANGE
    if isinstance(spot_attempts, bool) or not isinstance(spot_attempts, int) or not low <= spot_attempts <= high:
        return (f"{spot_attempts!r} is not accepted; expected an integer from {low} to {high} (AWS Batch attempts: the "
                "first run plus the retries a Spot reclaim may use; MMBatch restores into a retry)")
    return None


def validate_spot_attempts(spot_attempts: int, owner: str = "CheckpointedJobDefinition") -> int:
    """``spot_attempts`` if it is an integer from 2 to 10, else a ValueError naming ``owner``'s prop."""
    problem = spot_attempts_problem(spot_attempts)
    if problem:
        raise ValueError(f"{owner}: spot_attempts {problem}")
    return spot_attempts


def spot_retry_strategies() -> list[batch.RetryStrategy]:
    """Retry a Spot reclaim (status reason ``Host EC2*``), exit on any other failure, in that order.

    AWS Batch evaluates ``evaluateOnExit`` in order and the first match wins; a failure that matches
    none would be retried, hence the catch-all EXIT.
    """
    return [
        batch.RetryStrategy.of(batch.Action.RETRY, batch.Reason.SPOT_INSTANCE_RECLAIMED),
        batch.RetryStrategy.of(batch.Action.EXIT, batch.Reason.custom(on_reason="*")),
    ]


def checkpoint_environment(
    *,
    mode: Optional[str] = None,
    interval: Optional[str] = None,
    diagnosis: Optional[bool] = None,
    image_subpath: Optional[str] = None,
    owner: str = "CheckpointedJobDefinition",
) -> dict[str, str]:
    """MMBatch's per-job environment for the overrides given; an empty dict keeps the server's defaults.

    :param mode: ``MMC_CHECKPOINT_MODE``, ``iterative`` or ``none``. Default: the server's ``ckptMode``.
    :param interval: ``MMC_CHECKPOINT_INTERVAL``, a duration longer than the 2-minute Spot notice
        (``15m``, ``2m30s``, ``1h``). Default: the server's ``ckptInterval``.
    :param diagnosis: ``MMC_CHECKPOINT_DIAGNOSIS``. Default: the server's ``diagnosisMode``.
    :param image_subpath: ``MMC_CHECKPOINT_IMAGE_SUBPATH`` (relative, under ``/mmc-checkpoint``); also sets
        ``MMC_CHECKPOINT_IMAGE_PATH=/mmc-checkpoint``. Default: the server's image path.
    :param owner: the construct named in error messages. Default: ``CheckpointedJobDefinition``.
    """
    env: dict[str, str] = {}
    if mode is not None:
        if mode not in CHECKPOINT_MODES:
            raise ValueError(f"{owner}: checkpoint_mode {mode!r} is not accepted; expected one of {', '.join(CHECKPOINT_MODES)}")
        env["MMC_CHECKPOINT_MODE"] = mode
    if interval is not None:
        try:
            seconds = duration_seconds(interval) if isinstance(interval, str) else -1.0
        except ValueError:
            seconds = -1.0
        if seconds < 0:
            raise ValueError(f"{owner}: checkpoint_interval {interval!r} is not a duration; expected e.g. 15m, 2m30s or 1h")
        if seconds <= SPOT_NOTICE_SECONDS:
            raise ValueError(
                f"{owner}: checkpoint_interval {interval!r} is not longer than the {SPOT_NOTICE_SECONDS} s Spot "
                "interruption notice; MemVerge recommends more (the server's default is 15m)"
            )
        env["MMC_CHECKPOINT_INTERVAL"] = interval
    if diagnosis is not None:
        if not isinstance(diagnosis, bool):
            raise ValueError(f"{owner}: checkpoint_diagnosis {diagnosis!r} is not accepted; expected True or False")
        env["MMC_CHECKPOINT_DIAGNOSIS"] = "true" if diagnosis else "false"
    if image_subpath is not None:
        if not isinstance(image_subpath, str) or not _SUBPATH.match(image_subpath) or ".." in image_subpath.split("/"):
            raise ValueError(
                f"{owner}: checkpoint_image_subpath {image_subpath!r} is not accepted; expected a relative path of "
                "letters, digits, '.', '_', '-' and '/' (e.g. nextflow or team-a/rnaseq)"
            )
        env["MMC_CHECKPOINT_IMAGE_PATH"] = CHECKPOINT_MOUNT
        env["MMC_CHECKPOINT_IMAGE_SUBPATH"] = image_subpath
    return env


class CheckpointedJobDefinition(Construct):
    """An EC2/ECS job definition for a :class:`BatchCompute` queue whose jobs restore after a Spot reclaim.

    The retry strategy retries a Spot reclaim (``onStatusReason: Host EC2*`` -> RETRY) and exits on any
    other failure (``onReason: *`` -> EXIT), up to ``spot_attempts`` attempts; MMBatch restores the job
    from its last checkpoint in the retry. MMBatch's per-job settings (``MMC_CHECKPOINT_*``) are set only
    where given, so the server's ``ckptConfig`` applies otherwise. Logs go to the compute's job log
    group; tags propagate to the ECS tasks. The job needs no privileged mode or mount for MMBatch: the
    agent on the node checkpoints it. Checkpoints restore only onto the CPU architecture (and GPU model)
    they were taken on, so the image must run on the queue's architecture (:attr:`BatchCompute.architecture`).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        compute: BatchCompute,
        image: Union[str, ecs.ContainerImage],
        cpu: float,
        memory_mib: int,
        command: Optional[Sequence[str]] = None,
        spot_attempts: int = 5,
        checkpoint_mode: Optional[str] = None,
        checkpoint_interval: Optional[str] = None,
        checkpoint_diagnosis: Optional[bool] = None,
        checkpoint_image_subpath: Optional[str] = None,
        environment: Optional[Mapping[str, str]] = None,
        job_role: Optional[iam.IRole] = None,
        log_stream_prefix: str = "mmbatch",
        timeout: Optional[cdk.Duration] = None,
    ) -> None:
        """
        :param compute: the queue's compute (its log group receives the job logs).
        :param image: the container image: an image reference such as ``public.ecr.aws/docker/library/python:3.12-slim``,
            or an ``ecs.ContainerImage``. It must run on the compute's CPU architecture.
        :param cpu: vCPUs per job (may be fractional, e.g. 0.5).
        :param memory_mib: memory per job in MiB (at least 4, AWS Batch's minimum).
        :param command: the container command. Default: the image's own.
        :param spot_attempts: AWS Batch attempts, 2 to 10: the first run plus the retries after Spot reclaims. Default: 5.
        :param checkpoint_mode: ``MMC_CHECKPOINT_MODE`` (``iterative`` or ``none``). Default: the server's setting.
        :param checkpoint_interval: ``MMC_CHECKPOINT_INTERVAL``, longer than the 2-minute Spot notice (e.g. ``15m``).
            Default: the server's setting (15m unless changed).
        :param checkpoint_diagnosis: ``MMC_CHECKPOINT_DIAGNOSIS``. Default: the server's setting.
        :param checkpoint_image_subpath: ``MMC_CHECKPOINT_IMAGE_SUBPATH`` under ``/mmc-checkpoint`` (sets
            ``MMC_CHECKPOINT_IMAGE_PATH`` too). Default: the server's image path.
        :param environment: further container environment; ``MMC_CHECKPOINT_*`` belong in the props above. Default: none.
        :param job_role: the role the job's containers assume. Default: none (no AWS credentials in the job).
        :param log_stream_prefix: awslogs stream prefix. Default: ``mmbatch``.
        :param timeout: attempt timeout; AWS Batch ends an attempt that runs longer. Default: none.
        """
        owner = f"CheckpointedJobDefinition {id}"
        validate_spot_attempts(spot_attempts, owner)
        problem = isinstance(image, str) and container_image_problem(image)
        if problem:
            raise ValueError(f"{owner}: image {problem}")
        if isinstance(cpu, bool) or not isinstance(cpu, (int, float)) or cpu <= 0:
            raise ValueError(f"{owner}: cpu {cpu!r} is not accepted; expected a positive number of vCPUs")
        if isinstance(memory_mib, bool) or not isinstance(memory_mib, int) or memory_mib < 4:
            raise ValueError(f"{owner}: memory_mib {memory_mib!r} is not accepted; expected an integer of at least 4 (MiB)")
        mmc = checkpoint_environment(
            mode=checkpoint_mode,
            interval=checkpoint_interval,
            diagnosis=checkpoint_diagnosis,
            image_subpath=checkpoint_image_subpath,
            owner=owner,
        )
        reserved = sorted(k for k in (environment or {}) if k.startswith("MMC_CHECKPOINT_"))
        if reserved:
            raise ValueError(
                f"{owner}: environment sets {', '.join(reserved)}; use checkpoint_mode, checkpoint_interval, "
                "checkpoint_diagnosis and checkpoint_image_subpath, which are validated"
            )
        super().__init__(scope, id)
        self.checkpoint_environment = mmc
        """The ``MMC_*`` variables this definition sets (empty: the server's defaults apply)."""
        self.spot_attempts = spot_attempts
        """AWS Batch attempts per job."""

        container_image = ecs.ContainerImage.from_registry(image) if isinstance(image, str) else image
        self.container = batch.EcsEc2ContainerDefinition(
            self,
            "Container",
            image=container_image,
            cpu=cpu,
            memory=cdk.Size.mebibytes(memory_mib),
            command=list(command) if command is not None else None,
            environment={**(environment or {}), **self.checkpoint_environment} or None,
            job_role=job_role,
            logging=ecs.LogDrivers.aws_logs(stream_prefix=log_stream_prefix, log_group=compute.job_log_group),
        )
        """The container definition."""
        execution_role = self.container.node.try_find_child("ExecutionRole")
        if execution_role is not None:
            acknowledge_compliance(
                execution_role, "IAMNoInlinePolicy",
                "aws-cdk-lib's execution-role default policy: attached to this job definition's execution role only, "
                "created and deleted with it; it writes the job's log streams to the queue's log group, nothing else.",
            )
        self.job_definition = batch.EcsJobDefinition(
            self,
            "Resource",
            container=self.container,
            retry_attempts=spot_attempts,
            retry_strategies=spot_retry_strategies(),
            propagate_tags=True,
            timeout=timeout,
        )
        """The AWS Batch job definition."""

    # Properties, not attributes set in __init__: each read is a jsii round trip, made only by those who need it.
    @property
    def job_definition_arn(self) -> str:
        """ARN of the job definition (with its revision)."""
        return self.job_definition.job_definition_arn

    @property
    def job_definition_name(self) -> str:
        """Name of the job definition (generated by CloudFormation)."""
        return self.job_definition.job_definition_name
