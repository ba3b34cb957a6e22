"""mmbatch-cdk: AWS CDK constructs and app that deploy Memory Machine Batch (MMBatch) on AWS."""

from .compute import BatchCompute
from .config import ConfigError, MmBatchConfig
from .job_definition import CheckpointedJobDefinition
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
    "CheckpointedJobDefinition",
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
