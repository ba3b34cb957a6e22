"""mmbatch-cdk: AWS CDK constructs and app that deploy Memory Machine Batch (MMBatch) on AWS."""

__version__ = "0.2.0"
"""The package version; pyproject.toml reads it from here (see CHANGELOG.md for what each one holds)."""

from .agent import AgentInstaller
from .compliance import ComplianceProfile
from .compute import BatchCompute
from .config import ConfigError, MmBatchConfig
from .cost import MonthlyBudget, apply_cost_tags
from .deployment import MmBatchDeployment
from .head_queue import HeadJobQueue
from .job_definition import CheckpointedJobDefinition
from .log_shipping import LogShipping
from .management_server import ManagementServer
from .monitoring import Monitoring, apply_runnable_time_limits, runnable_time_limit_actions
from .multi_queue import DEFAULT_QUEUES, MultiQueue, QueueSpec
from .network import Network
from .node_settings import NodeSettings
from .stacks import MmBatchStack
from .storage import CheckpointStorage, CheckpointStorageEfs, CheckpointStorageJuiceFs
from .template_validation import register_template_validation
from .workspace import Workspace

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
    "HeadJobQueue",
    "LogShipping",
    "ManagementServer",
    "Monitoring",
    "MonthlyBudget",
    "MmBatchConfig",
    "MmBatchDeployment",
    "MmBatchStack",
    "MultiQueue",
    "Network",
    "NodeSettings",
    "QueueSpec",
    "Workspace",
    "apply_cost_tags",
    "apply_runnable_time_limits",
    "register_template_validation",
    "runnable_time_limit_actions",
]
