"""mmbatch-cdk: AWS CDK constructs and app that deploy Memory Machine Batch (MMBatch) on AWS."""

__version__ = "0.1.0"
"""The package version; pyproject.toml reads it from here (see CHANGELOG.md for what each one holds)."""

from .node_version import check_node

check_node()  # before anything imports aws_cdk, which starts jsii's Node

from .agent import AgentInstaller  # noqa: E402
from .compliance import ComplianceProfile  # noqa: E402
from .compute import BatchCompute  # noqa: E402
from .config import ConfigError, MmBatchConfig  # noqa: E402
from .cost import MonthlyBudget, apply_cost_tags  # noqa: E402
from .deployment import MmBatchDeployment  # noqa: E402
from .job_definition import CheckpointedJobDefinition  # noqa: E402
from .log_shipping import LogShipping  # noqa: E402
from .management_server import ManagementServer  # noqa: E402
from .monitoring import Monitoring, apply_runnable_time_limits, runnable_time_limit_actions  # noqa: E402
from .multi_queue import DEFAULT_QUEUES, MultiQueue, QueueSpec  # noqa: E402
from .network import Network  # noqa: E402
from .node_settings import NodeSettings  # noqa: E402
from .stacks import MmBatchEfsStack, MmBatchJuiceFsStack, MmBatchStack  # noqa: E402
from .storage import CheckpointStorage, CheckpointStorageEfs, CheckpointStorageJuiceFs  # noqa: E402
from .template_validation import register_template_validation  # noqa: E402

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
    "LogShipping",
    "ManagementServer",
    "Monitoring",
    "MonthlyBudget",
    "MmBatchConfig",
    "MmBatchDeployment",
    "MmBatchEfsStack",
    "MmBatchJuiceFsStack",
    "MmBatchStack",
    "MultiQueue",
    "Network",
    "NodeSettings",
    "QueueSpec",
    "apply_cost_tags",
    "apply_runnable_time_limits",
    "register_template_validation",
    "runnable_time_limit_actions",
]
