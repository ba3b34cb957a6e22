"""A smoke-test job that shows a restore in its own log, and the command that submits it.

The job holds a block of memory and prints a numbered line every few seconds. MMBatch checkpoints the
process and restores it into AWS Batch's retry after a Spot reclaim, so after a restore the count goes
on from where it was (with a jump in the elapsed time) instead of starting again at 1 under a second
``started`` line. The image is the Docker Official Image ``python`` mirrored on Amazon ECR Public
(https://gallery.ecr.aws/docker/library/python), which pulls without credentials and is built for
both x86_64 and arm64.
"""

from __future__ import annotations

from typing import Optional

import aws_cdk as cdk
from aws_cdk import aws_batch as batch
from aws_cdk import aws_iam as iam
from constructs import Construct

from .compute import BatchCompute
from .job_definition import CheckpointedJobDefinition

__all__ = ["SMOKE_TEST_IMAGE", "SMOKE_TEST_SCRIPT", "SmokeTestJobDefinition", "submit_job_command"]

SMOKE_TEST_IMAGE = "public.ecr.aws/docker/library/python:3.12-slim"
"""Public image (ECR Public mirror of Docker Official Images), multi-architecture."""

SMOKE_TEST_SCRIPT = """\
import datetime, sys, time
mib, every, reports = (int(a) for a in sys.argv[1:4])
block = bytearray(mib * 1048576)
for i in range(0, len(block), 4096):
    block[i] = 1
start = time.time()
print(f"smoke-test started: {mib} MiB resident, one line every {every} s, {reports} lines", flush=True)
for count in range(1, reports + 1):
    time.sleep(every)
    if block:
        block[(count * 4096) % len(block)] = count % 256
    now = datetime.datetime.now(datetime.timezone.utc)
    print(f"{now:%Y-%m-%dT%H:%M:%SZ} count={count}/{reports} elapsed={time.time() - start:.0f}s", flush=True)
print("smoke-test finished", flush=True)
"""
"""The job's program: allocate and touch ``mib`` MiB, then print ``count=N`` every ``every`` seconds."""

_HEADROOM_MIB = 256
"""Container memory above the allocated block: the Python interpreter and the page cache of the image."""


def submit_job_command(job_queue: batch.IJobQueue, job_definition_arn: str, job_name: str = "mmbatch-smoke-test") -> str:
    """The ``aws batch submit-job`` command for a job definition on a queue (CDK tokens resolve at deploy time)."""
    region = cdk.Stack.of(job_queue).region
    return (
        f"aws batch submit-job --region {region} --job-name {job_name} "
        f"--job-queue {job_queue.job_queue_arn} --job-definition {job_definition_arn}"
    )


class SmokeTestJobDefinition(Construct):
    """A :class:`CheckpointedJobDefinition` running a counter that proves checkpoint and restore end to end.

    Submit it with :meth:`submit_command`, interrupt its node (docs/verify.md), and read its log:
    the retry continues the count instead of printing ``smoke-test started`` again.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        compute: BatchCompute,
        allocate_mib: int = 1024,
        report_seconds: int = 30,
        reports: int = 120,
        spot_attempts: int = 5,
        checkpoint_interval: Optional[str] = None,
        image: str = SMOKE_TEST_IMAGE,
        job_role: Optional[iam.IRole] = None,
    ) -> None:
        """
        :param compute: the queue to run on.
        :param allocate_mib: memory the job allocates and touches, so a checkpoint has something to write. Default: 1024.
        :param report_seconds: seconds between progress lines. Default: 30.
        :param reports: progress lines before the job ends (with the defaults, an hour). Default: 120.
        :param spot_attempts: AWS Batch attempts (2 to 10). Default: 5.
        :param checkpoint_interval: ``MMC_CHECKPOINT_INTERVAL`` for this job. Default: the server's setting.
        :param image: a public image with ``python3``. Default: :data:`SMOKE_TEST_IMAGE`.
        :param job_role: the job's role (it calls no AWS API; naming one keeps every job off the node's role).
            Default: none (no AWS credentials in the job).
        """
        for prop, value, low in (("allocate_mib", allocate_mib, 0), ("report_seconds", report_seconds, 1), ("reports", reports, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"SmokeTestJobDefinition {id}: {prop} {value!r} is not accepted; expected an integer of at least {low}")
        super().__init__(scope, id)
        self._queue = compute.job_queue
        self.definition = CheckpointedJobDefinition(
            self,
            "Definition",
            compute=compute,
            image=image,
            cpu=1,
            memory_mib=allocate_mib + _HEADROOM_MIB,
            command=["python3", "-u", "-c", SMOKE_TEST_SCRIPT, str(allocate_mib), str(report_seconds), str(reports)],
            spot_attempts=spot_attempts,
            checkpoint_interval=checkpoint_interval,
            job_role=job_role,
        )
        """The checkpointed job definition."""
        self.job_definition_arn = self.definition.job_definition_arn
        """ARN of the job definition."""

    def submit_command(self, job_name: str = "mmbatch-smoke-test") -> str:
        """The exact ``aws batch submit-job`` command for this definition on its queue (with CDK tokens)."""
        return submit_job_command(self._queue, self.job_definition_arn, job_name)
