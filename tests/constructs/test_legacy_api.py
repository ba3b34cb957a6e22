"""Apps written against the 0.1 API keep working: the old keyword arguments warn (DeprecationWarning) and
still wire storage and server, so a JuiceFS volume composed directly with BatchCompute still gets formatted."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2

from mmbatch_cdk import BatchCompute, CheckpointStorageJuiceFs, ManagementServer, MultiQueue, QueueSpec

from ..templates import shell_parts, user_data_document
from ..conftest import CDK_JSON_CONTEXT


@pytest.fixture(scope="module")
def legacy(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two BatchCompute queues and a MultiQueue composed the 0.1 way, around one JuiceFS storage and one server."""
    app = cdk.App(context={**CDK_JSON_CONTEXT, "aws:cdk:disable-stack-trace": True},
                  outdir=str(tmp_path_factory.mktemp("legacy")))
    stack = cdk.Stack(app, "Legacy")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0, restrict_default_security_group=False)
    storage = CheckpointStorageJuiceFs(stack, "Storage", vpc=vpc, name_prefix="legacy")
    server = ManagementServer(stack, "Server", vpc=vpc)
    with pytest.warns(DeprecationWarning) as caught:
        BatchCompute(stack, "Fast", vpc=vpc, storage=storage, management_server=server, instance_types=["c7i.large"])
        BatchCompute(stack, "Big", vpc=vpc, storage=storage, management_server=server, instance_types=["r7i.large"],
                     root_volume_gib=100, ecs_stop_timeout="100s")
        MultiQueue(stack, "More", vpc=vpc, storage=storage, management_server=server,
                   queues=[QueueSpec("A", 2, ("m7i.large",))])
    return {"template": app.synth().get_stack_by_name("Legacy").template, "warnings": [str(w.message) for w in caught]}


def test_old_arguments_warn_naming_the_replacement(legacy: dict[str, Any]) -> None:
    messages = legacy["warnings"]
    assert sum("BatchCompute(management_server=...) is deprecated: pass agent=server.agent_installer" in m for m in messages) == 2
    assert any("MultiQueue(management_server=...) is deprecated" in m for m in messages)
    assert any("(root_volume_gib=, ecs_stop_timeout=) is deprecated: pass node_settings=NodeSettings(...)" in m for m in messages)


def test_a_juicefs_volume_composed_directly_still_gets_formatted_once(legacy: dict[str, Any]) -> None:
    resources = legacy["template"]["Resources"]
    (server,) = [r for r in resources.values() if r["Type"] == "AWS::EC2::Instance"]
    parts = shell_parts(user_data_document(server["Properties"]["UserData"]))
    assert sum("MMB_STEP=juicefs-format" in p for p in parts) == 1


def test_old_arguments_still_wire_every_queue(legacy: dict[str, Any]) -> None:
    resources = legacy["template"]["Resources"]
    redis_sources = sorted(
        r["Properties"]["SourceSecurityGroupId"]["Fn::GetAtt"][0].split("SecurityGroup")[0]
        for r in resources.values()
        if r["Type"] == "AWS::EC2::SecurityGroupIngress" and r["Properties"]["FromPort"] == 6379
    )
    assert redis_sources == ["Big", "Fast", "MoreA", "Server"]
    mmab_sources = sorted(
        r["Properties"]["SourceSecurityGroupId"]["Fn::GetAtt"][0].split("SecurityGroup")[0]
        for r in resources.values()
        if r["Type"] == "AWS::EC2::SecurityGroupIngress" and r["Properties"]["FromPort"] == 8080
    )
    assert mmab_sources == ["Big", "Fast", "MoreA"]
    big = next(r for k, r in resources.items() if k.startswith("BigLaunchTemplate"))
    assert big["Properties"]["LaunchTemplateData"]["BlockDeviceMappings"][0]["Ebs"]["VolumeSize"] == 100 + 110
    bootstrap = next(p for p in shell_parts(user_data_document(big["Properties"]["LaunchTemplateData"]["UserData"]))
                     if "MMB_STEP=node-bootstrap" in p)
    assert "export ECS_STOP_TIMEOUT=100s" in bootstrap


def test_use_storage_warns_and_prepares_the_storage() -> None:
    stack = cdk.Stack(cdk.App(context=CDK_JSON_CONTEXT), "UseStorage")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0, restrict_default_security_group=False)
    storage = CheckpointStorageJuiceFs(stack, "Storage", vpc=vpc, name_prefix="u")
    server = ManagementServer(stack, "Server", vpc=vpc)
    with pytest.warns(DeprecationWarning, match="use mmbatch_cdk.wiring.prepare_storage"):
        server.use_storage(storage)
    assert len(server._boot_scripts) == 2
