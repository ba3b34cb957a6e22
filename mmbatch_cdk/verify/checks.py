"""The ``stack`` and ``compute`` steps, and what the nodes' boot logs show for ``compute`` and ``storage``.

Boot-log facts come from the boot scripts: every line is ``<time> mmbatch[<step>]: ...`` (``user_data/lib.sh``);
a failed boot writes one ``mmbatch: FATAL <step>: ...`` line (``user_data/node_lib.sh``); the storage part logs
``mounted ... at /mmc-checkpoint`` (EFS, ``efs_mount.sh``) or ``mounted: <volumes>`` (JuiceFS, ``juicefs_mount.sh``);
the agent part logs ``... the ECS gate opens`` once the agent is in (``node_bootstrap.sh``). Log shipping sends
each node's ``/var/log/mmbatch/boot.log`` to the ``NodeBootLogGroupName`` group, one stream per instance id
(``log_shipping.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .aws import Aws, log_events
from .report import Verdict
from .stack import COMPLETE, StackOutputs

__all__ = ["NodeLogs", "check_queues", "check_stack", "fatal_lines_since", "judge_nodes", "node_logs"]

FATAL = "mmbatch: FATAL"
_MOUNTED = re.compile(r"mmbatch\[[^\]]*\]: (mounted .* at /mmc-checkpoint|mounted: |/mmc-checkpoint is already mounted)")
_GATE_OPEN = re.compile(r"the ECS gate opens|pagent for MMAB \S+ already installed|checkpointing is OFF")


def check_stack(stack: StackOutputs) -> Verdict:
    """Passed when the stack is in a complete state and has at least one queue output."""
    details = [f"{len(stack.outputs)} outputs; queues: {', '.join(q.label for q in stack.queues) or 'none'}"]
    if stack.status not in COMPLETE:
        return Verdict("stack", "failed", f"stack {stack.name} is {stack.status}, not in a complete state", details)
    if not stack.queues:
        return Verdict("stack", "failed", f"stack {stack.name} has no JobQueueArn output: not an mmbatch-cdk stack?", details)
    return Verdict("stack", "passed", f"{stack.name} is {stack.status}", details)


HEAD_QUEUE_OUTPUT = "HeadJobQueueArn"
"""The stack output naming the head-job queue, which ``compute`` checks with the node queues (none without it)."""


def check_queues(aws: Aws, stack: StackOutputs) -> tuple[Verdict, dict[str, list[str]]]:
    """Each queue and its compute environments ``VALID`` and ``ENABLED``; also each queue's ECS cluster ARNs."""
    batch = aws.client("batch")
    problems: list[str] = []
    clusters: dict[str, list[str]] = {}
    # The node queues, then the head-job queue when the stack has one (output HeadJobQueueArn, mmbatch_cdk/stacks.py).
    queues = [(queue.name, queue.label, queue.job_queue_arn) for queue in stack.queues]
    head = stack.outputs.get(HEAD_QUEUE_OUTPUT)
    if head:
        queues.append((HEAD_QUEUE_OUTPUT, "head", head))
    for name, label, arn in queues:
        found = batch.describe_job_queues(jobQueues=[arn])["jobQueues"]
        if not found:
            problems.append(f"queue {label}: {arn} not found")
            continue
        q = found[0]
        if (q.get("state"), q.get("status")) != ("ENABLED", "VALID"):
            problems.append(f"queue {label}: {q.get('state')}/{q.get('status')}: {q.get('statusReason', '')}")
        order = [c["computeEnvironment"] for c in q.get("computeEnvironmentOrder", [])]
        envs = batch.describe_compute_environments(computeEnvironments=order)["computeEnvironments"] if order else []
        clusters[name] = [e["ecsClusterArn"] for e in envs if e.get("ecsClusterArn")]
        for env in envs:
            if (env.get("state"), env.get("status")) != ("ENABLED", "VALID"):
                problems.append(f"compute environment {env.get('computeEnvironmentName')}: "
                                f"{env.get('state')}/{env.get('status')}: {env.get('statusReason', '')}")
        if not envs:
            problems.append(f"queue {label}: no compute environment")
    if problems:
        return Verdict("compute", "failed", "a queue or compute environment is not VALID and ENABLED", problems), clusters
    return Verdict("compute", "passed", f"{len(queues)} queue(s) and their compute environments VALID and ENABLED"), clusters


@dataclass
class NodeLogs:
    """The boot log lines of the nodes that ran a job, by instance id."""

    lines: dict[str, list[str]] = field(default_factory=dict)


def node_instances(aws: Aws, job: dict[str, Any], clusters: list[str]) -> list[str]:
    """EC2 instance ids of every container instance the job's attempts ran on (ECS ``DescribeContainerInstances``)."""
    arns = [a.get("container", {}).get("containerInstanceArn") for a in job.get("attempts", [])]
    arns.append(job.get("container", {}).get("containerInstanceArn"))
    wanted = list(dict.fromkeys(a for a in arns if a))
    ids: list[str] = []
    for cluster in clusters:
        if not wanted:
            break
        described = aws.client("ecs").describe_container_instances(cluster=cluster, containerInstances=wanted)
        for instance in described.get("containerInstances", []):
            ids.append(instance["ec2InstanceId"])
            wanted.remove(instance["containerInstanceArn"])
    return ids


def node_logs(aws: Aws, stack: StackOutputs, instance_ids: list[str]) -> NodeLogs:
    """Each instance's boot log stream (up to its first 500 lines)."""
    logs = aws.client("logs")
    result = NodeLogs()
    for instance_id in instance_ids:
        try:
            events = log_events(logs, "get_log_events", 500, logGroupName=stack.get("NodeBootLogGroupName"),
                                logStreamName=instance_id, startFromHead=True)
        except logs.exceptions.ResourceNotFoundException:
            events = []
        result.lines[instance_id] = [e["message"].rstrip("\n") for e in events]
    return result


def fatal_lines_since(aws: Aws, stack: StackOutputs, start_ms: int, limit: int = 10) -> list[str]:
    """The boot gate's FATAL lines any node logged since ``start_ms`` (``<instance>: <line>``)."""
    events = log_events(aws.client("logs"), "filter_log_events", limit, logGroupName=stack.get("NodeBootLogGroupName"),
                        startTime=start_ms, filterPattern=f'"{FATAL}"')
    return [f"{e['logStreamName']}: {e['message'].rstrip()}" for e in events]


def judge_nodes(nodes: NodeLogs) -> tuple[Verdict, Verdict]:
    """The ``compute`` (boot gate) and ``storage`` (mounted on the node) verdicts from the nodes' boot logs."""
    fatal = [f"{i}: {line}" for i, lines in nodes.lines.items() for line in lines if FATAL in line]
    silent = [i for i, lines in nodes.lines.items() if not lines]
    unmounted = [i for i, lines in nodes.lines.items() if lines and not any(_MOUNTED.search(line) for line in lines)]
    closed = [i for i, lines in nodes.lines.items() if lines and not any(_GATE_OPEN.search(line) for line in lines)]
    names = ", ".join(nodes.lines)
    if fatal:
        compute = Verdict("compute", "failed", "a node failed the boot gate", fatal)
    elif silent:
        compute = Verdict("compute", "failed", f"no boot log shipped from {', '.join(silent)}",
                          ["the CloudWatch agent did not start on the node: see the node's console output"])
    elif closed:
        compute = Verdict("compute", "failed", f"no gate-open line in the boot log of {', '.join(closed)}")
    else:
        compute = Verdict("compute", "passed", f"queues VALID and ENABLED; node(s) {names} passed the boot gate")
    if silent or not nodes.lines:
        storage = Verdict("storage", "failed", "no node boot log to read the checkpoint mount from")
    elif unmounted:
        storage = Verdict("storage", "failed", f"no /mmc-checkpoint mount line in the boot log of {', '.join(unmounted)}")
    else:
        mounts = [next(line for line in lines if _MOUNTED.search(line)) for lines in nodes.lines.values()]
        storage = Verdict("storage", "passed", f"checkpoint storage mounted on node(s) {names}", mounts)
    return compute, storage
