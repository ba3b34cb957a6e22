"""The node's user data, the largest (JuiceFS storage part plus the agent part), stays inside EC2's 16 KiB with Batch's part."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2

from mmbatch_cdk.user_data import add_script, render

from ..templates import shell_parts
from .values import JUICEFS_MOUNT, NODE

from .limits import BATCH_PART_BYTES, EC2_USER_DATA_LIMIT


def _document(*scripts: str) -> str:
    stack = cdk.Stack(cdk.App(), "Size")
    user_data = ec2.MultipartUserData()
    for script in scripts:
        add_script(user_data, script)
    text = stack.resolve(user_data.render())
    assert isinstance(text, str)
    return text


def test_the_juicefs_storage_and_bootstrap_parts_with_explicit_settings_fit_with_room_to_spare() -> None:
    scripts = (render("juicefs_mount.sh", JUICEFS_MOUNT), render("node_bootstrap.sh", NODE))
    document = _document(*scripts)
    assert shell_parts(document) == list(scripts), "parts travel compressed, unchanged"
    # Explicit settings: no deploy-time value, so room for Batch's part only.
    assert len(document.encode()) <= EC2_USER_DATA_LIMIT - BATCH_PART_BYTES, len(document.encode())
