"""Nodes stay current: every compute environment takes the latest ECS-optimized AMI on each infrastructure update,
and running jobs get a bounded time to finish first (N2)."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2

from mmbatch_cdk import AgentInstaller, BatchCompute, CheckpointStorageEfs, NodeSettings
from mmbatch_cdk.config import ConfigError, MmBatchConfig

AGENT = AgentInstaller(address="10.0.0.10", mmab_version="1.4.0-release")


def _compute(**node: int) -> tuple[dict, dict]:
    stack = cdk.Stack(cdk.App(), "Updates")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0, restrict_default_security_group=False)
    BatchCompute(stack, "Compute", vpc=vpc, storage=CheckpointStorageEfs(stack, "Storage", vpc=vpc), agent=AGENT,
                 node_settings=NodeSettings(**node))
    template = cdk.assertions.Template.from_stack(stack)
    (environment,) = [r["Properties"] for r in template.find_resources("AWS::Batch::ComputeEnvironment").values()]
    (launch_template,) = [r["Properties"]["LaunchTemplateData"] for r in template.find_resources("AWS::EC2::LaunchTemplate").values()]
    return environment, launch_template


def test_each_infrastructure_update_takes_the_latest_ami_and_lets_jobs_finish() -> None:
    environment, launch_template = _compute()
    assert environment["ComputeResources"]["UpdateToLatestImageVersion"] is True
    assert environment["UpdatePolicy"] == {"JobExecutionTimeoutMinutes": 30, "TerminateJobsOnUpdate": False}
    assert environment["ReplaceComputeEnvironment"] is False
    # Batch ignores UpdateToLatestImageVersion when the launch template names an image.
    assert "ImageId" not in launch_template
    assert "ImageIdOverride" not in str(environment["ComputeResources"].get("Ec2Configuration", ""))


def test_the_update_window_is_a_setting_and_bounded() -> None:
    environment, _ = _compute(infrastructure_update_minutes=120)
    assert environment["UpdatePolicy"]["JobExecutionTimeoutMinutes"] == 120
    assert MmBatchConfig.from_mapping({"infrastructureUpdateMinutes": "120"}).props("nodes")["infrastructure_update_minutes"] == 120
    with pytest.raises(ValueError, match="node_settings.infrastructure_update_minutes: 361 is not accepted"):
        _compute(infrastructure_update_minutes=361)
    with pytest.raises(ConfigError, match="infrastructureUpdateMinutes: 0 is out of range"):
        MmBatchConfig.from_mapping({"infrastructureUpdateMinutes": "0"})
