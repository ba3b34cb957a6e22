"""Checkpoint storage implementations behind one interface."""

from .base import CHECKPOINT_MOUNT_POINT, CheckpointStorage
from .efs import CheckpointStorageEfs

__all__ = ["CHECKPOINT_MOUNT_POINT", "CheckpointStorage", "CheckpointStorageEfs"]
