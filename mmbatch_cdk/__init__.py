"""mmbatch-cdk: AWS CDK constructs and app that deploy Memory Machine Batch (MMBatch) on AWS."""

__version__ = "0.1.0"
"""The package version; pyproject.toml reads it from here (see CHANGELOG.md for what each one holds)."""

from .compute import BatchCompute
from .config import ConfigError, MmBatchConfig
from .management_server import ManagementServer
from .multi_queue import DEFAULT_QUEUES, MultiQueue, QueueSpec
from .network import Network
from .stacks import MmBatchEfsStack, MmBatchJuiceFsStack, MmBatchStack
from .storage import CheckpointStorage, CheckpointStorageEfs, CheckpointStorageJuiceFs
from .template_validation import register_template_validation

__all__ = [
    "BatchCompute",
    "CheckpointStorage",
    "CheckpointStorageEfs",
    "CheckpointStorageJuiceFs",
    "ConfigError",
    "DEFAULT_QUEUES",
    "ManagementServer",
    "MmBatchConfig",
    "MmBatchEfsStack",
    "MmBatchJuiceFsStack",
    "MmBatchStack",
    "MultiQueue",
    "Network",
    "QueueSpec",
    "register_template_validation",
]
