"""mmbatch-cdk: AWS CDK constructs and app that deploy Memory Machine Batch (MMBatch) on AWS."""

from .compute import BatchCompute
from .config import ConfigError, MmBatchConfig
from .management_server import ManagementServer
from .network import Network
from .stacks import MmBatchEfsStack, MmBatchJuiceFsStack, MmBatchStack
from .storage import CheckpointStorage, CheckpointStorageEfs, CheckpointStorageJuiceFs

__all__ = [
    "BatchCompute",
    "CheckpointStorage",
    "CheckpointStorageEfs",
    "CheckpointStorageJuiceFs",
    "ConfigError",
    "ManagementServer",
    "MmBatchConfig",
    "MmBatchEfsStack",
    "MmBatchJuiceFsStack",
    "MmBatchStack",
    "Network",
]
