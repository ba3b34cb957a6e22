"""The ``smoke`` step: the stack's smoke-test job on each queue, followed to its end (or, for the drill, to RUNNING).

The job is the stack's own (``SmokeTestSubmitCommand<queue>``, ``mmbatch_cdk/smoke_test.py``): it prints
``smoke-test started: ...``, then ``count=N/M`` lines, then ``smoke-test finished``. Without ``--drill`` the run
is shortened by overriding the definition's last argument (the number of lines, ``SMOKE_TEST_SCRIPT``'s
``reports``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from .aws import Aws, log_events
from .report import Verdict
from .stack import QueueOutputs, StackOutputs

__all__ = ["LogLine", "SmokeJob", "job_log", "run_smoke", "submit_smoke", "terminate"]

STARTED = "smoke-test started"
FINISHED = "smoke-test finished"
JOB_NAME = "mmbatch-verify-smoke"
_ENDED = ("SUCCEEDED", "FAILED")


@dataclass(frozen=True)
class LogLine:
    """A job log event: milliseconds since the epoch, and the message."""

    ms: int
    text: str


@dataclass
class SmokeJob:
    """A submitted smoke job, its last description and the step's verdict once known."""

    queue: QueueOutputs
    job_id: str
    job: dict[str, Any]
    verdict: Optional[Verdict] = None


def job_log(aws: Aws, stack: StackOutputs, stream: Optional[str], limit: int = 200) -> list[LogLine]:
    """The first ``limit`` lines of a job attempt's log stream (none if it has no stream yet)."""
    if not stream:
        return []
    logs = aws.client("logs")
    try:
        events = log_events(logs, "get_log_events", limit, logGroupName=stack.get("JobLogGroupName"),
                            logStreamName=stream, startFromHead=True)
    except logs.exceptions.ResourceNotFoundException:
        return []
    return [LogLine(int(e["timestamp"]), e["message"].rstrip("\n")) for e in events]


def terminate(aws: Aws, job_id: str, reason: str) -> None:
    """Terminate a job (no cost once it ends); a job already ended is left as it is."""
    aws.client("batch").terminate_job(jobId=job_id, reason=reason)


def submit_smoke(aws: Aws, queue: QueueOutputs, *, lines: Optional[int]) -> SmokeJob:
    """Submit the stack's smoke job to ``queue``; ``lines`` shortens it (None: the definition's own length)."""
    batch = aws.client("batch")
    assert queue.job_definition_arn is not None
    request: dict[str, Any] = {"jobName": JOB_NAME, "jobQueue": queue.job_queue_arn, "jobDefinition": queue.job_definition_arn}
    if lines is not None:
        definition = batch.describe_job_definitions(jobDefinitions=[queue.job_definition_arn])["jobDefinitions"][0]
        command = list(definition["containerProperties"]["command"])
        request["containerOverrides"] = {"command": command[:-1] + [str(lines)]}
    job_id = batch.submit_job(**request)["jobId"]
    aws.cleanups[f"terminate smoke job {job_id}"] = lambda: terminate(aws, job_id, "mmbatch-cdk verify interrupted")
    aws.progress(f"smoke: submitted {job_id} to queue {queue.label}")
    return SmokeJob(queue, job_id, {"status": "SUBMITTED"})


def run_smoke(aws: Aws, stack: StackOutputs, jobs: list[SmokeJob], *, until_running: bool, timeout_s: float,
              poll_s: float) -> None:
    """Follow ``jobs`` until each has ended (or, with ``until_running``, logged its started line), at most ``timeout_s``.

    Sets each job's verdict; a job still waiting at the deadline is terminated so it costs nothing more.
    """
    batch = aws.client("batch")
    deadline = aws.clock.now() + timeout_s
    while True:
        waiting = [j for j in jobs if j.verdict is None]
        if not waiting:
            return
        described = {j["jobId"]: j for j in batch.describe_jobs(jobs=[j.job_id for j in waiting])["jobs"]}
        for smoke in waiting:
            job = described.get(smoke.job_id, smoke.job)
            if job.get("status") != smoke.job.get("status"):
                aws.progress(f"smoke: {smoke.job_id} on {smoke.queue.label}: {job.get('status')}")
            smoke.job = job
            smoke.verdict = _judge(aws, stack, smoke, until_running)
        if aws.clock.now() >= deadline:
            for smoke in (j for j in jobs if j.verdict is None):
                terminate(aws, smoke.job_id, "mmbatch-cdk verify: smoke test over its time bound")
                aws.cleanups.pop(f"terminate smoke job {smoke.job_id}", None)
                smoke.verdict = _failed(aws, stack, smoke, f"not {'RUNNING' if until_running else 'SUCCEEDED'} within "
                                        f"{timeout_s / 60:.0f} min (status {smoke.job.get('status')}); terminated")
            return
        aws.clock.sleep(poll_s)


def _judge(aws: Aws, stack: StackOutputs, smoke: SmokeJob, until_running: bool) -> Optional[Verdict]:
    job, label = smoke.job, smoke.queue.label
    status = job.get("status")
    if status == "FAILED":
        aws.cleanups.pop(f"terminate smoke job {smoke.job_id}", None)
        return _failed(aws, stack, smoke, f"FAILED: {job.get('statusReason', 'no reason given')}")
    if status == "SUCCEEDED":
        aws.cleanups.pop(f"terminate smoke job {smoke.job_id}", None)
        lines = job_log(aws, stack, job.get("container", {}).get("logStreamName"), limit=10_000)
        if until_running or any(FINISHED in line.text for line in lines):
            return Verdict("smoke", "passed", f"queue {label}: {smoke.job_id} SUCCEEDED",
                           [line.text for line in lines[-2:]])
        return _failed(aws, stack, smoke, f"SUCCEEDED without a '{FINISHED}' line")
    if until_running and status == "RUNNING":
        lines = job_log(aws, stack, job.get("container", {}).get("logStreamName"), limit=5)
        if any(STARTED in line.text for line in lines):
            return Verdict("smoke", "passed", f"queue {label}: {smoke.job_id} RUNNING", [lines[0].text])
    return None


def _failed(aws: Aws, stack: StackOutputs, smoke: SmokeJob, why: str) -> Verdict:
    job = smoke.job
    details = [f"attempt {n}: {a.get('statusReason', '')} {a.get('container', {}).get('reason', '')}".rstrip()
               for n, a in enumerate(job.get("attempts", []), 1)]
    stream = job.get("container", {}).get("logStreamName")
    tail = job_log(aws, stack, stream, limit=10_000)[-10:]
    details += [f"log {stream}: last lines:", *(f"  {line.text}" for line in tail)] if tail else ["no log lines"]
    return Verdict("smoke", "failed", f"queue {smoke.queue.label}: {smoke.job_id} {why}", details)
