"""mmbatch-cdk: AWS CDK constructs and app that deploy Memory Machine Batch (MMBatch) on AWS.

The names below load on first use (PEP 562), so ``mmbatch-cdk verify`` (``mmbatch_cdk.verify``, boto3 only) never
imports aws-cdk-lib, whose import starts jsii's Node. The first construct you import checks that Node first
(:mod:`mmbatch_cdk.node_version`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"
"""The package version; pyproject.toml reads it from here (see CHANGELOG.md for what each one holds)."""

if TYPE_CHECKING:  # what mypy and the API reference read; ``X as X`` marks each as exported
    from .agent import AgentInstaller as AgentInstaller
    from .compliance import ComplianceProfile as ComplianceProfile
    from .compute import BatchCompute as BatchCompute
    from .config import ConfigError as ConfigError, MmBatchConfig as MmBatchConfig
    from .cost import MonthlyBudget as MonthlyBudget, apply_cost_tags as apply_cost_tags
    from .deployment import MmBatchDeployment as MmBatchDeployment
    from .head_queue import HeadJobQueue as HeadJobQueue
    from .job_definition import CheckpointedJobDefinition as CheckpointedJobDefinition
    from .log_shipping import LogShipping as LogShipping
    from .management_server import ManagementServer as ManagementServer
    from .monitoring import Monitoring as Monitoring, apply_runnable_time_limits as apply_runnable_time_limits, runnable_time_limit_actions as runnable_time_limit_actions
    from .multi_queue import DEFAULT_QUEUES as DEFAULT_QUEUES, MultiQueue as MultiQueue, QueueSpec as QueueSpec
    from .network import Network as Network
    from .node_settings import NodeSettings as NodeSettings
    from .stacks import MmBatchStack as MmBatchStack
    from .storage import CheckpointStorage as CheckpointStorage, CheckpointStorageEfs as CheckpointStorageEfs, CheckpointStorageJuiceFs as CheckpointStorageJuiceFs
    from .template_validation import register_template_validation as register_template_validation
    from .workspace import Workspace as Workspace

_MODULE_OF: dict[str, str] = {
    "AgentInstaller": "agent",
    "BatchCompute": "compute",
    "CheckpointStorage": "storage",
    "CheckpointStorageEfs": "storage",
    "CheckpointStorageJuiceFs": "storage",
    "CheckpointedJobDefinition": "job_definition",
    "ComplianceProfile": "compliance",
    "ConfigError": "config",
    "DEFAULT_QUEUES": "multi_queue",
    "HeadJobQueue": "head_queue",
    "LogShipping": "log_shipping",
    "ManagementServer": "management_server",
    "Monitoring": "monitoring",
    "MonthlyBudget": "cost",
    "MmBatchConfig": "config",
    "MmBatchDeployment": "deployment",
    "MmBatchStack": "stacks",
    "MultiQueue": "multi_queue",
    "Network": "network",
    "NodeSettings": "node_settings",
    "QueueSpec": "multi_queue",
    "Workspace": "workspace",
    "apply_cost_tags": "cost",
    "apply_runnable_time_limits": "monitoring",
    "register_template_validation": "template_validation",
    "runnable_time_limit_actions": "monitoring",
}
"""Each public name and the module it lives in (a test keeps this and the TYPE_CHECKING imports equal)."""

__all__ = list(_MODULE_OF)


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use, after checking the Node that jsii will run."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from .node_version import check_node_once

    check_node_once()
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
