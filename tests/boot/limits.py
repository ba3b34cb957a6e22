"""The user-data size limit and what the synthesized document must leave room for, in one place.

EC2 rejects user data over 16,384 bytes (decoded, before base64) when it launches an instance. AWS Batch requires
a launch template's user data in MIME multi-part format because it merges the user data with its own, needed to
configure the compute resources ("Amazon EC2 user data in launch templates",
https://docs.aws.amazon.com/batch/latest/userguide/launch-templates.html); the merged document is what EC2 checks.
"""

from __future__ import annotations

import json
from typing import Any

EC2_USER_DATA_LIMIT = 16 * 1024
"""EC2's cap on decoded user data, in bytes."""

DEPLOY_TIME_VALUE_BYTES = 256
"""Room for each deploy-time value (a Ref or GetAtt: region, ARN, id, address), whatever its stand-in in the tests:
longer than any ARN or id the user data receives."""

BATCH_PART_BYTES = 1024
"""Room for the part AWS Batch merges in: its size is not documented; pre-deploy review 2 (shared/reference)
measured about 600 bytes, this allows for a longer compute-environment name."""

_CDK_BOUNDARY = "+AWS+CDK+User+Data+Separator=="


def batch_part() -> str:
    """A part like the one AWS Batch merges in: a shell script joining the instance to the compute environment's
    ECS cluster, padded to :data:`BATCH_PART_BYTES` with its MIME headers."""
    head = 'Content-Type: text/x-shellscript; charset="us-ascii"\nMIME-Version: 1.0\n\n'
    script = "#!/bin/bash\necho ECS_CLUSTER=AWSBatch-{name}-0123abcd-4567-89ef-0123-456789abcdef >> /etc/ecs/ecs.config\n"
    name = "x" * (BATCH_PART_BYTES - len(head) - len(script.format(name="")) - len(f"\n--{_CDK_BOUNDARY}\n"))
    return head + script.format(name=name)


def with_batch_part(document: str) -> str:
    """``document`` (CDK's multi-part user data) with :func:`batch_part` merged in as its last part."""
    closing = f"\n--{_CDK_BOUNDARY}--"
    assert document.count(closing) == 1, "one CDK multi-part document"
    merged = document.replace(closing, f"\n--{_CDK_BOUNDARY}\n{batch_part()}{closing}")
    assert len(merged.encode()) - len(document.encode()) == BATCH_PART_BYTES
    return merged


def budget(user_data: Any, *, batch: bool) -> int:
    """How many bytes the synthesized user data (``{"Fn::Base64": ...}``, stand-ins resolved) may take: EC2's limit
    less Batch's part (``batch``: a compute node's) and :data:`DEPLOY_TIME_VALUE_BYTES` per deploy-time value."""
    text = json.dumps(user_data)
    values = text.count('{"Ref": ') + text.count('{"Fn::GetAtt": ')
    return EC2_USER_DATA_LIMIT - (BATCH_PART_BYTES if batch else 0) - DEPLOY_TIME_VALUE_BYTES * values
