"""Every documented default of a setting is the default of the construct prop it sets: a construct's defaults are
its own, and the settings table states the same values (the site's settings reference is generated from it)."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import pytest

from mmbatch_cdk import (BatchCompute, CheckpointStorageEfs, CheckpointStorageJuiceFs, HeadJobQueue, ManagementServer, Network,
                         NodeSettings, Workspace)
from mmbatch_cdk.aws_cli import AwsCliInstall
from mmbatch_cdk.cost import MonthlyBudget, apply_cost_tags
from mmbatch_cdk.log_shipping import LogShipping
from mmbatch_cdk.monitoring import CAPACITY_REASONS, MISCONFIGURATION_REASONS, Monitoring, runnable_time_limit_actions
from mmbatch_cdk.quickstart import QueueQuickstart
from mmbatch_cdk.volume_cleanup import VolumeCleanup
from mmbatch_cdk.compute import DEFAULT_INSTANCE_TYPES
from mmbatch_cdk.config import SETTINGS, Setting
from mmbatch_cdk.multi_queue import DEFAULT_QUEUES

TARGETS: dict[str, Any] = {
    "network": Network,
    "efs": CheckpointStorageEfs,
    "juicefs": CheckpointStorageJuiceFs,
    "server": ManagementServer,
    "quickstart": QueueQuickstart,
    "logs": LogShipping,
    "monitoring": Monitoring,
    "budget": MonthlyBudget,
    "workspace": Workspace,
    "head": HeadJobQueue,
    "cleanup": VolumeCleanup,
}
FUNCTIONS: dict[str, Any] = {"limits": runnable_time_limit_actions, "cost": apply_cost_tags}

# Where the app deliberately differs from a construct's default, and why.
DIFFERS = {
    "juicefs.name_prefix": "the app names MemoryDB resources after its prefix; the construct after its path",
    "budget.email": "a budget needs an address; without monthlyBudgetUsd (default none) the stack makes no budget",
    "budget.amount_usd": "a budget needs an amount; without it (the default) the stack makes no budget",
}


def _construct_default(prop: str) -> Any:
    target, _, name = prop.partition(".")
    if target in ("nodes", "awscli"):
        return {f.name: f.default for f in dataclasses.fields(NodeSettings if target == "nodes" else AwsCliInstall)}[name]
    if target == "limits":
        # The signature says None (a Duration default would call jsii at import), so read the actions it makes.
        reason = (CAPACITY_REASONS if name == "capacity_max_time" else MISCONFIGURATION_REASONS)[0]
        return next(action.max_time for action in runnable_time_limit_actions() if action.reason == reason)
    if target in FUNCTIONS:
        return inspect.signature(FUNCTIONS[target]).parameters[name].default
    return inspect.signature(TARGETS[target].__init__).parameters[name].default


@pytest.mark.parametrize("setting", [s for s in SETTINGS if s.props and s.queue is None], ids=lambda s: s.key)
def test_a_settings_default_is_its_constructs_default(setting: Setting) -> None:
    for prop in setting.props:
        if prop in DIFFERS:
            continue
        expected = setting.to_prop(setting.default) if setting.to_prop and setting.default is not None else setting.default
        actual = _construct_default(prop)
        if hasattr(actual, "to_seconds"):  # cdk.Duration: compare the time, not the object
            actual, expected = actual.to_seconds(), expected.to_seconds()
        empty = ((), None, {})
        assert actual == expected or (actual in empty and expected in empty), (setting.key, prop, actual, expected)


@pytest.mark.parametrize("setting", [s for s in SETTINGS if s.queue is not None], ids=lambda s: s.key)
def test_a_queue_settings_default_is_the_queues_own(setting: Setting) -> None:
    field = setting.props[0].partition(".")[2]
    if setting.queue == 0:
        compute = inspect.signature(BatchCompute.__init__).parameters[field].default
        assert setting.default == (DEFAULT_INSTANCE_TYPES if field == "instance_types" else compute), setting.key
    else:
        assert setting.default == getattr(DEFAULT_QUEUES[setting.queue - 1], field), setting.key


def test_the_multi_queue_defaults_are_the_seeds_three_families() -> None:
    assert [s.default[0] for s in SETTINGS if s.key.endswith("InstanceTypes") and s.queue] == ["c7i.large", "m7i.large", "r7i.large"]
