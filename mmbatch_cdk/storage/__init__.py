"""Checkpoint storage implementations behind one interface."""

from .base import CHECKPOINT_MOUNT_POINT, CheckpointStorage
from .efs import CheckpointStorageEfs
from .juicefs import SCRATCH_MOUNT_POINT, CheckpointStorageJuiceFs

__all__ = [
    "CHECKPOINT_MOUNT_POINT",
    "SCRATCH_MOUNT_POINT",
    "CheckpointStorage",
    "CheckpointStorageEfs",
    "CheckpointStorageJuiceFs",
]
