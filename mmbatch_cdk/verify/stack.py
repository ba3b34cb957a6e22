"""What verify reads from the deployed stack: its status and outputs (no hard-coded names)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional
from urllib.parse import urlparse

from .aws import Aws, CouldNotRun

__all__ = ["OUTPUTS_READ", "QUEUE_OUTPUTS_READ", "QueueOutputs", "StackOutputs", "read_stack"]

COMPLETE = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE", "UPDATE_ROLLBACK_COMPLETE",
            "IMPORT_ROLLBACK_COMPLETE")
"""Stable states in which every resource exists: CloudFormation's "last known stable state" list (its RollbackStack
API reference). The two rollback states keep the stack as it was before the update or import that was rolled back."""

OUTPUTS_READ = ("ManagementServerUrl", "ManagementServerInstanceId", "JobLogGroupName", "NodeBootLogGroupName",
                "Checkpointing", "CheckpointInterval")
"""The stack-wide outputs verify reads (``mmbatch_cdk/stacks.py``)."""
QUEUE_OUTPUTS_READ = ("JobQueueArn", "SmokeTestSubmitCommand", "SpotDrillTemplateId")
"""The per-queue outputs verify reads, each followed by the queue's name (``mmbatch_cdk/quickstart.py``)."""

_JOB_DEFINITION = re.compile(r"--job-definition\s+(\S+)")


@dataclass(frozen=True)
class QueueOutputs:
    """One queue's outputs (``<name>`` suffix, empty for the single queue)."""

    name: str
    job_queue_arn: str
    job_definition_arn: Optional[str]
    """The smoke test's job definition, from ``SmokeTestSubmitCommand<name>`` (QueueQuickstart)."""
    drill_template_id: Optional[str]
    """``SpotDrillTemplateId<name>``: only with ``-c drill=true``."""

    @property
    def label(self) -> str:
        """The queue's name, or ``default`` for the single queue (as the drill's tag says)."""
        return self.name or "default"


@dataclass(frozen=True)
class StackOutputs:
    """The stack's status and the outputs verify needs."""

    name: str
    status: str
    outputs: dict[str, str]
    queues: list[QueueOutputs]

    def get(self, key: str) -> str:
        """An output that must exist; ``CouldNotRun`` naming it otherwise (a stack of another version or app)."""
        if key not in self.outputs:
            raise CouldNotRun(f"stack {self.name} has no output {key}: deployed from another version of mmbatch-cdk?")
        return self.outputs[key]

    @property
    def server_port(self) -> int:
        """MMAB's port, from ``ManagementServerUrl``."""
        return urlparse(self.get("ManagementServerUrl")).port or 443


def read_stack(aws: Aws, name: str) -> StackOutputs:
    """``DescribeStacks`` of ``name``; ``CouldNotRun`` when it does not exist or cannot be read."""
    from botocore.exceptions import ClientError, NoCredentialsError

    try:
        stacks = aws.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
    except ClientError as err:
        raise CouldNotRun(f"stack {name}: {err.response['Error'].get('Message', err)}") from None
    except NoCredentialsError as err:
        raise CouldNotRun(str(err)) from None
    stack = stacks[0]
    outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])}
    queues = []
    for key, arn in sorted(outputs.items()):
        if key.startswith("JobQueueArn"):
            queue = key.removeprefix("JobQueueArn")
            submit = _JOB_DEFINITION.search(outputs.get(f"SmokeTestSubmitCommand{queue}", ""))
            queues.append(QueueOutputs(queue, arn, submit.group(1) if submit else None, outputs.get(f"SpotDrillTemplateId{queue}")))
    return StackOutputs(stack.get("StackName", name), stack["StackStatus"], outputs, queues)
