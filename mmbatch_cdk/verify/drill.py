"""The ``drill`` step: a real Spot interruption of the smoke job's node, judged as docs/verify.md describes.

1. Wait for MMAB's first ``CheckpointSucceeded`` event for the job (``GET /api/v1/job`` on the server, through SSM).
2. Start the stack's FIS experiment (``SpotDrillTemplateId<queue>``, ``mmbatch_cdk/drill.py``): EC2's real
   two-minute notice to one running Spot node of the queue, then the reclaim.
3. Follow the job's attempts and judge: the first attempt ends ``Host EC2 (instance i-...) terminated.``
   (the Batch status reason of a Spot loss, https://docs.aws.amazon.com/batch/latest/userguide/job_retries.html);
   the second runs with no ``smoke-test started`` line and the count going on (restored), or starts over
   (retried, not restored); any other first reason fails the job instead of retrying it, and is quoted.
"""

from __future__ import annotations

import json
import re
from typing import Any, Optional

from .aws import Aws, run_on_server
from .report import Verdict
from .server import decode_body, parse_lines, server_script
from .smoke import STARTED, LogLine, SmokeJob, job_log, terminate
from .stack import StackOutputs

__all__ = ["checkpoint_seen", "judge", "run_drill"]

SPOT_REASON = "Host EC2"
"""How AWS Batch's status reason of a reclaimed instance starts (the retry rule's ``onStatusReason: Host EC2*``)."""
_COUNT = re.compile(r"\bcount=(\d+)/\d+")


def checkpoint_seen(doc: Any, job_id: str, event: str = "CheckpointSucceeded") -> bool:
    """Whether MMAB's ``GET /api/v1/job`` answer lists ``event`` for the Batch job ``job_id``.

    The answer's shape is not documented beyond its event names and a ``batchJobIds[]`` list per job
    (https://docs.memverge.com/MMBatch/latest/User%20Guide/api). Assumed: a list of job records, bare or under
    some key of an object; the record of the job is one whose text contains the Batch job id, and it has the
    event if its text contains the event's name.
    """
    records: list[Any] = doc if isinstance(doc, list) else []
    if isinstance(doc, dict):
        records = [item for value in doc.values() if isinstance(value, list) for item in value] or [doc]
    return any(job_id in text and event in text for text in (json.dumps(r) for r in records))


def _stream(attempt: dict[str, Any]) -> Optional[str]:
    stream = attempt.get("container", {}).get("logStreamName")
    return stream if isinstance(stream, str) else None


def _counts(lines: list[LogLine]) -> list[int]:
    return [int(m.group(1)) for line in lines if (m := _COUNT.search(line.text))]


def judge(job: dict[str, Any], first: list[LogLine], second: list[LogLine], notice_ms: Optional[int]) -> Optional[Verdict]:
    """The drill's verdict from the job's description and its two attempts' logs; None while it cannot tell yet."""
    attempts = job.get("attempts", [])
    status = job.get("status")
    ended = status in ("SUCCEEDED", "FAILED")
    if not attempts:
        return Verdict("drill", "failed", f"the job ended {status} without being interrupted") if ended else None
    reason = attempts[0].get("statusReason", "")
    if not reason.startswith(SPOT_REASON):
        return Verdict("drill", "failed", f"failed with another reason: the first attempt ended {reason!r}", [
            f"it does not match the retry rule (onStatusReason '{SPOT_REASON}*'), so the job is not retried: "
            "this reason is what the drill exists to find out; the retry rule needs an entry for it"])
    if len(attempts) == 1 and status == "FAILED":
        return Verdict("drill", "failed", f"interrupted ({reason}) but not retried: {job.get('statusReason', '')}")
    evidence = [f"attempt 1: {reason}"]
    if any(STARTED in line.text for line in second):
        return Verdict("drill", "failed", "retried, not restored: the second attempt started over ('smoke-test started')",
                       evidence + [second[0].text])
    counts = _counts(second)
    if not counts:
        return Verdict("drill", "failed", "retried, but the second attempt logged no count line") if ended else None
    before = max(_counts(first), default=0)
    if counts[0] <= 1:
        return Verdict("drill", "failed", "retried, not restored: the count started again at 1", evidence)
    after = attempts[1] if len(attempts) > 1 else job
    instances = (attempts[0].get("container", {}).get("containerInstanceArn"), after.get("container", {}).get("containerInstanceArn"))
    evidence.append(f"first attempt's last count {before}; second attempt's first count {counts[0]}")
    if instances[0] and instances[0] == instances[1]:
        evidence.append("note: both attempts ran on the same container instance")
    restore = f"; restore time {(second[0].ms - notice_ms) / 1000:.0f} s (notice to first restored log line)" if notice_ms else ""
    return Verdict("drill", "passed", f"restored: the count went on at {counts[0]}{restore}", evidence)


def _mmab_jobs(aws: Aws, stack: StackOutputs) -> Any:
    result = run_on_server(aws, stack.get("ManagementServerInstanceId"), server_script(stack.server_port, "/api/v1/job"))
    return decode_body(parse_lines(result.stdout).get("body", "")) if result.status == "Success" else None


def run_drill(aws: Aws, stack: StackOutputs, smoke: SmokeJob, *, checkpoint_timeout_s: float, timeout_s: float,
              poll_s: float) -> Verdict:
    """Checkpoint, interrupt, follow and judge one queue's running smoke job; the job is terminated afterwards."""
    template = smoke.queue.drill_template_id
    if not template:
        return Verdict("drill", "could-not-run", f"queue {smoke.queue.label} has no drill: deploy with -c drill=true")
    verdict = _drill(aws, stack, smoke, template, checkpoint_timeout_s, timeout_s, poll_s)  # on an error, the CLI undoes
    if smoke.job.get("status") not in ("SUCCEEDED", "FAILED"):
        terminate(aws, smoke.job_id, "mmbatch-cdk verify: drill judged")
    aws.cleanups.pop(f"terminate smoke job {smoke.job_id}", None)
    return verdict


def _drill(aws: Aws, stack: StackOutputs, smoke: SmokeJob, template: str, checkpoint_timeout_s: float,
           timeout_s: float, poll_s: float) -> Verdict:
    clock, job_id = aws.clock, smoke.job_id
    deadline = clock.now() + checkpoint_timeout_s
    aws.progress(f"drill: waiting for MMAB's first CheckpointSucceeded of {job_id} (up to {checkpoint_timeout_s / 60:.0f} min)")
    while not checkpoint_seen(answer := _mmab_jobs(aws, stack), job_id):
        if clock.now() >= deadline:
            unread = ["MMAB's last answer was not JSON: over the 24,000 characters GetCommandInvocation returns, "
                      "or not an answer (login required?)"] if answer is None else []
            return Verdict("drill", "failed", f"MMAB listed no CheckpointSucceeded for {job_id} within "
                           f"{checkpoint_timeout_s / 60:.0f} min", unread + [
                               "see the server's /var/log/mmab and the node's agent log (NodeLogGroupName output, "
                               "<instance>/memverge__var_log_memverge_<file> streams)"])
        clock.sleep(poll_s)
    fis = aws.client("fis")
    experiment = fis.start_experiment(experimentTemplateId=template, tags={"mmbatch:verify": job_id})["experiment"]
    experiment_id = experiment["id"]
    aws.cleanups[f"stop experiment {experiment_id}"] = lambda: fis.stop_experiment(id=experiment_id)
    aws.progress(f"drill: started FIS experiment {experiment_id}; the node gets a two-minute Spot notice")
    notice_ms: Optional[int] = None
    deadline = clock.now() + timeout_s
    first: list[LogLine] = []
    while True:
        clock.sleep(poll_s)
        if notice_ms is None:
            experiment = fis.get_experiment(id=experiment_id)["experiment"]
            state = experiment.get("state", {})
            if state.get("status") in ("failed", "stopped", "cancelled"):
                aws.cleanups.pop(f"stop experiment {experiment_id}", None)
                return Verdict("drill", "could-not-run", f"FIS experiment {experiment_id} {state.get('status')}: {state.get('reason', '')}",
                               ["'Target resolution returned empty set': no running Spot node of the queue carried the tag"])
            started = next((a.get("startTime") for a in experiment.get("actions", {}).values() if a.get("startTime")), None)
            if started is not None:
                notice_ms = int(started.timestamp() * 1000)
            if state.get("status") == "completed":
                aws.cleanups.pop(f"stop experiment {experiment_id}", None)
        job = aws.client("batch").describe_jobs(jobs=[job_id])["jobs"][0]
        if len(job.get("attempts", [])) > len(smoke.job.get("attempts", [])) or job.get("status") != smoke.job.get("status"):
            aws.progress(f"drill: {job_id} {job.get('status')}, {len(job.get('attempts', []))} attempt(s) ended")
        smoke.job = job
        attempts = job.get("attempts", [])
        if attempts and not first:
            first = job_log(aws, stack, _stream(attempts[0]), limit=10_000)
        second_stream = _stream(attempts[1]) if len(attempts) > 1 else _stream(job) if attempts else None
        second = job_log(aws, stack, second_stream) if second_stream and second_stream != _stream(attempts[0]) else []
        verdict = judge(job, first, second, notice_ms)
        if verdict is not None:
            if verdict.outcome == "passed":
                restored = checkpoint_seen(_mmab_jobs(aws, stack), job_id, "RestoreSucceeded")
                verdict.details.append(f"MMAB lists RestoreSucceeded for the job: {'yes' if restored else 'no'}")
            return verdict
        if clock.now() >= deadline:
            verdict = Verdict("drill", "failed", f"no judgement within {timeout_s / 60:.0f} min of the experiment: "
                              f"job {job.get('status')}, {len(attempts)} attempt(s) ended")
            if f"stop experiment {experiment_id}" in aws.cleanups:  # not seen to end: it may still run
                stopped = _stop_if_running(fis, experiment_id)
                if stopped:
                    verdict.details.append(stopped)
                aws.cleanups.pop(f"stop experiment {experiment_id}", None)
            return verdict


_RUNNING = ("pending", "initiating", "running")
"""FIS experiment states that can still act (GetExperiment's state.status)."""


def _stop_if_running(fis: Any, experiment_id: str) -> Optional[str]:
    """Stop the experiment if it still runs; what was done, as a line of evidence (None: it had ended).

    An AWS error is reported in the line rather than raised: the drill's verdict stands either way."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        status = fis.get_experiment(id=experiment_id)["experiment"].get("state", {}).get("status")
        if status not in _RUNNING:
            return None
        fis.stop_experiment(id=experiment_id)
    except (BotoCoreError, ClientError) as err:
        why = err.response["Error"].get("Message", err) if isinstance(err, ClientError) else err
        return f"FIS experiment {experiment_id} may still be running, not stopped: {why}: stop it by hand"
    return f"stopped FIS experiment {experiment_id} ({status})"
