"""mmbatch-cdk: AWS CDK constructs and app that deploy Memory Machine Batch (MMBatch) on AWS."""

from .compute import BatchCompute
from .config import ConfigError, MmBatchConfig
from .management_server import ManagementServer
from .network import Network
from .stacks import MmBatchEfsStack, MmBatchStack
from .storage import CheckpointStorage, CheckpointStorageEfs

__all__ = [
    "BatchCompute",
    "CheckpointStorage",
    "CheckpointStorageEfs",
    "ConfigError",
    "ManagementServer",
    "MmBatchConfig",
    "MmBatchEfsStack",
    "MmBatchStack",
    "Network",
]
