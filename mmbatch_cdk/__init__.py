"""mmbatch-cdk: AWS CDK constructs and app that deploy Memory Machine Batch (MMBatch) on AWS."""

__version__ = "0.1.0"
"""The package version; pyproject.toml reads it from here (see CHANGELOG.md for what each one holds)."""

from .agent import AgentInstaller
from .compliance import ComplianceProfile
from .compute import BatchCompute
from .config import ConfigError, MmBatchConfig
from .deployment import MmBatchDeployment
from .job_definition import CheckpointedJobDefinition
from .management_server import ManagementServer
from .multi_queue import DEFAULT_QUEUES, MultiQueue, QueueSpec
from .network import Network
from .node_settings import NodeSettings
from .stacks import MmBatchEfsStack, MmBatchJuiceFsStack, MmBatchStack
from .storage import CheckpointStorage, CheckpointStorageEfs, CheckpointStorageJuiceFs
from .template_validation import register_template_validation

__all__ = [
    "AgentInstaller",
    "BatchCompute",
    "CheckpointStorage",
    "CheckpointStorageEfs",
    "CheckpointStorageJuiceFs",
    "CheckpointedJobDefinition",
    "ComplianceProfile",
    "ConfigError",
    "DEFAULT_QUEUES",
    "ManagementServer",
    "MmBatchConfig",
    "MmBatchDeployment",
    "MmBatchEfsStack",
    "MmBatchJuiceFsStack",
    "MmBatchStack",
    "MultiQueue",
    "Network",
    "NodeSettings",
    "QueueSpec",
    "register_template_validation",
]
