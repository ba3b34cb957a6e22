"""On stack deletion, delete this deployment's leftover per-job EBS volumes (the ``ebsCleanupOnDelete`` setting).

The ``onEvent`` handler of an aws-cdk-lib ``custom_resources.Provider``: Create and Update do nothing. Delete acts
only while the stack itself is being deleted (``DELETE_IN_PROGRESS``): when an update turns the setting off, or a
failed create rolls back, available volumes may be jobs' waiting to be restored, and are kept. It then lists the
volumes tagged ``TagKey=TagValue`` (the resource's properties), deletes each ``available`` one, and waits, at most
until the function's time is nearly up, for tagged volumes still ``creating`` or ``in-use`` to come free. Volumes that
never do are named in the error, which fails the deletion visibly (CloudFormation shows it; deleting again retries).
Only the standard library and the boto3 of the Lambda Python runtime are used.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

POLL_SECONDS = 15
"""How long to wait before looking again at volumes that are still attached."""
MARGIN_MS = 60_000
"""Time kept back from the function's timeout for the last round and the response."""
PAGE_SIZE = 500
"""Volumes per DescribeVolumes page (the API's maximum)."""
GONE = ("InvalidVolume.NotFound",)
"""Errors of DeleteVolume that mean the volume is gone already."""
BUSY = ("VolumeInUse", "IncorrectState")
"""Errors of DeleteVolume that mean the volume is not free yet (attached again, or changing state)."""
_CONFIG = Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 5, "mode": "standard"})


def on_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The custom resource's events: Delete cleans up; every event keeps one physical id."""
    props = event["ResourceProperties"]
    physical_id = event.get("PhysicalResourceId") or f"ebs-cleanup-{props['TagValue']}"
    if event["RequestType"] == "Delete" and stack_is_being_deleted(boto3.client("cloudformation", config=_CONFIG),
                                                                   event["StackId"]):
        left = delete_available(
            boto3.client("ec2", config=_CONFIG), props["TagKey"], props["TagValue"],
            time_left=lambda: context.get_remaining_time_in_millis() > MARGIN_MS, sleep=time.sleep,
        )
        if left:
            raise RuntimeError(
                f"{len(left)} volume(s) tagged {props['TagKey']}={props['TagValue']} are still attached: "
                f"{', '.join(left[:20])}; detach or delete them, then delete the stack again")
    return {"PhysicalResourceId": physical_id}


def stack_is_being_deleted(client: Any, stack_id: str) -> bool:
    """True when the stack is being deleted, not updated or rolled back."""
    status = client.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"]
    if status != "DELETE_IN_PROGRESS":
        print(f"stack is {status}, not being deleted: volumes kept")
    return bool(status == "DELETE_IN_PROGRESS")


def tagged_volumes(client: Any, key: str, value: str) -> list[dict[str, Any]]:
    """Every volume the API returns for the tag filter, over all pages."""
    volumes: list[dict[str, Any]] = []
    pages = client.get_paginator("describe_volumes").paginate(
        Filters=[{"Name": f"tag:{key}", "Values": [value]}], PaginationConfig={"PageSize": PAGE_SIZE})
    for page in pages:
        volumes += page["Volumes"]
    return volumes


def delete_available(client: Any, key: str, value: str, *, time_left: Callable[[], bool],
                     sleep: Callable[[float], None]) -> list[str]:
    """Delete the ``available`` volumes tagged ``key=value`` until none is left attached or time is up.

    :returns: the ids of tagged volumes still ``creating`` or ``in-use`` when time ran out (empty when all are gone).
    """
    while True:
        # The filter is the API's; the tag is checked again here so that no other volume is ever deleted.
        ours = [v for v in tagged_volumes(client, key, value) if {"Key": key, "Value": value} in v.get("Tags", [])]
        waiting = [v["VolumeId"] for v in ours if v["State"] in ("creating", "in-use")]
        for volume in (v for v in ours if v["State"] == "available"):
            try:
                client.delete_volume(VolumeId=volume["VolumeId"])
                print(f"deleted {volume['VolumeId']} ({volume.get('Size')} GiB, {volume.get('AvailabilityZone')})")
            except ClientError as err:
                code = err.response.get("Error", {}).get("Code", "")
                if code in BUSY:
                    waiting.append(volume["VolumeId"])
                elif code not in GONE:
                    raise
        if not waiting or not time_left():
            return waiting
        print(f"waiting for {len(waiting)} attached volume(s): {', '.join(waiting[:20])}")
        sleep(POLL_SECONDS)
