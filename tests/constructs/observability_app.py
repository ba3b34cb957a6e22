"""A bare app with the minimum BatchCompute needs plus the observability constructs, cdk-nag on, for the tests here."""

from __future__ import annotations

import functools
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import assertions
from cdk_nag import AwsSolutionsChecks

from mmbatch_cdk.compute import BatchCompute
from mmbatch_cdk.cost import MonthlyBudget, apply_cost_tags
from mmbatch_cdk.log_shipping import LogShipping
from mmbatch_cdk.management_server import ManagementServer
from mmbatch_cdk.monitoring import Monitoring, apply_runnable_time_limits, runnable_time_limit_actions
from mmbatch_cdk.storage import CheckpointStorageEfs

USER_TAGS = {"team": "genomics", "cost-center": "cc-1234"}


@dataclass
class Built:
    """One synthesized app."""

    stack: cdk.Stack
    compute: BatchCompute
    server: ManagementServer
    shipping: LogShipping
    monitoring: Monitoring
    template: dict[str, Any]
    directory: Path

    @property
    def assertions(self) -> assertions.Template:
        """The template for aws_cdk.assertions."""
        return assertions.Template.from_json(self.template)

    def resources(self, type_: str) -> dict[str, dict[str, Any]]:
        """Resources of one type, by logical id."""
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == type_}

    def findings(self) -> list[tuple[str, list[str]]]:
        """Validation report findings (cdk-nag and CDK's template checks)."""
        path = self.directory / "validation-report.json"
        report = json.loads(path.read_text()) if path.exists() else {"pluginReports": []}
        return [(v["ruleName"], [c["constructPath"] for c in v["violatingConstructs"]])
                for p in report["pluginReports"] for v in p["violations"]]


def build(outdir: Path, *, throughput_mode: efs.ThroughputMode = efs.ThroughputMode.BURSTING, **monitoring: Any) -> Built:
    """VPC, EFS storage, management server and one queue, with log shipping, monitoring, tags and a budget."""
    app = cdk.App(outdir=str(outdir), context={"aws:cdk:disable-stack-trace": True})
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    stack = cdk.Stack(app, "Observed")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0, subnet_configuration=[
        ec2.SubnetConfiguration(name="private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)])
    cdk.Validations.of(vpc).acknowledge(cdk.Acknowledgment(
        id="AwsSolutions::AwsSolutions-VPC7", reason="Test fixture: the stack's Network construct adds flow logs, not this bare VPC."))
    storage = CheckpointStorageEfs(stack, "Storage", vpc=vpc, throughput_mode=throughput_mode)
    server = ManagementServer(stack, "Server", vpc=vpc, mmab_source="s3://artifacts/mmab-{version}.deb")
    compute = BatchCompute(stack, "Compute", vpc=vpc, storage=storage, agent=server.agent_installer)
    shipping = LogShipping(stack, "Logs", server_agent_source="s3://artifacts/cwa/{arch}/amazon-cloudwatch-agent.deb")
    shipping.grant_nodes(compute.role)
    shipping.grant_server(server.role)
    apply_runnable_time_limits(compute.job_queue, runnable_time_limit_actions())
    watched = Monitoring(
        stack, "Monitoring", job_queues=[compute.job_queue], management_server_instance_id=server.instance_id,
        node_boot_log_group=shipping.node_boot_log_group, server_log_group=shipping.server_log_group, efs_file_system=storage.file_system,
        efs_throughput_mode=throughput_mode, **{"alarm_email": "ops@example.com", **monitoring},
    )
    MonthlyBudget(stack, "Budget", prefix="mmbatch", amount_usd=500, email="ops@example.com")
    apply_cost_tags(stack, "mmbatch", USER_TAGS)
    for output, value in (("DashboardUrl", watched.dashboard_url), ("NodeBootLogGroup", shipping.node_boot_log_group.log_group_name)):
        cdk.CfnOutput(stack, output, value=value)
    assembly = app.synth()
    artifact = assembly.get_stack_by_name(stack.stack_name)
    return Built(stack, compute, server, shipping, watched, artifact.template, Path(assembly.directory))


@functools.lru_cache(maxsize=None)
def shared(memorydb_cluster_names: tuple[str, ...] = ("mmbatch-checkpoint", "mmbatch-scratch")) -> Built:
    """:func:`build` with EFS Bursting and two MemoryDB clusters, once per test session."""
    return build(Path(tempfile.mkdtemp(prefix="observability-")), memorydb_cluster_names=list(memorydb_cluster_names))
