"""Each construct synthesizes alone in a bare stack with only what its signature asks for, keeps its own
documented defaults, and wires nothing to its siblings (MmBatchDeployment does that)."""

from __future__ import annotations

import json
import re
from typing import Any, Callable

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs

from mmbatch_cdk import (
    AgentInstaller,
    BatchCompute,
    CheckpointStorageEfs,
    CheckpointStorageJuiceFs,
    HeadJobQueue,
    ManagementServer,
    MmBatchDeployment,
    MultiQueue,
    Network,
    Workspace,
)
from mmbatch_cdk.aws_cli import aws_cli_install_script
from mmbatch_cdk.config import ConfigError, MmBatchConfig
from mmbatch_cdk.node_settings import NodeSettings
from mmbatch_cdk.log_shipping import LogShipping
from mmbatch_cdk.package_source import package_source_problem, s3_object

from ..conftest import CDK_JSON_CONTEXT
from ..settings.test_bad_values import NUMERIC_BOUNDS

AGENT = AgentInstaller(address="10.0.0.10", mmab_version="1.4.0-release")


def _vpc(stack: cdk.Stack) -> ec2.Vpc:
    return ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0, restrict_default_security_group=False)


def _efs(stack: cdk.Stack) -> CheckpointStorageEfs:
    return CheckpointStorageEfs(stack, "Storage", vpc=stack.node.find_child("Vpc"))  # type: ignore[arg-type]


BUILDERS: dict[str, Callable[[cdk.Stack], Any]] = {
    "Network": lambda s: Network(s, "Network"),
    "CheckpointStorageEfs": lambda s: CheckpointStorageEfs(s, "Storage", vpc=_vpc(s)),
    "CheckpointStorageJuiceFs": lambda s: CheckpointStorageJuiceFs(s, "Storage", vpc=_vpc(s)),
    "ManagementServer": lambda s: ManagementServer(s, "Server", vpc=_vpc(s)),
    "ManagementServerAdminNoKey": lambda s: ManagementServer(s, "Server", vpc=_vpc(s), admin_cidr="203.0.113.0/24"),
    "BatchCompute": lambda s: (_vpc(s), BatchCompute(s, "Compute", vpc=s.node.find_child("Vpc"), storage=_efs(s), agent=AGENT)),
    "BatchComputeGpu": lambda s: (_vpc(s), BatchCompute(s, "Compute", vpc=s.node.find_child("Vpc"), storage=_efs(s),
                                                       agent=AGENT, instance_types=["g5.xlarge", "g5.2xlarge"])),
    "BatchComputeOptimal": lambda s: (_vpc(s), BatchCompute(s, "Compute", vpc=s.node.find_child("Vpc"), storage=_efs(s),
                                                           agent=AGENT, instance_types=["optimal"])),
    "BatchComputeOneType": lambda s: (_vpc(s), BatchCompute(s, "Compute", vpc=s.node.find_child("Vpc"), storage=_efs(s),
                                                           agent=AGENT, instance_types=["m7i.large"])),
    "MultiQueue": lambda s: (_vpc(s), MultiQueue(s, "Queues", vpc=s.node.find_child("Vpc"), storage=_efs(s), agent=AGENT)),
    "Workspace": lambda s: Workspace(s, "Workspace"),
    "HeadJobQueue": lambda s: HeadJobQueue(s, "Head", vpc=_vpc(s), workspace=Workspace(s, "Workspace")),
    "MmBatchDeployment": lambda s: (_vpc(s), MmBatchDeployment(
        s, "Deployment", vpc=s.node.find_child("Vpc"), storage=_efs(s),
        management_server=ManagementServer(s, "Server", vpc=s.node.find_child("Vpc")))),
}


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """One bare stack per construct, in one app synthesized once."""
    app = cdk.App(context={**CDK_JSON_CONTEXT, "aws:cdk:disable-stack-trace": True},
                  outdir=str(tmp_path_factory.mktemp("alone")))
    for name, build in BUILDERS.items():
        build(cdk.Stack(app, name))
    assembly = app.synth()
    return {name: assembly.get_stack_by_name(name).template for name in BUILDERS}


def _of_type(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


@pytest.mark.parametrize("name", list(BUILDERS))
def test_each_construct_synthesizes_alone(templates: dict[str, dict[str, Any]], name: str) -> None:
    assert templates[name]["Resources"]


def test_batch_compute_alone_opens_and_grants_nothing_on_the_storage(templates: dict[str, dict[str, Any]]) -> None:
    template = templates["BatchCompute"]
    assert _of_type(template, "AWS::EC2::SecurityGroupIngress") == {}
    actions = {a for p in _of_type(template, "AWS::IAM::Policy").values() for st in p["Properties"]["PolicyDocument"]["Statement"]
               for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])}
    assert all(a.startswith(("ssm:", "ssmmessages:")) for a in actions), f"no storage grant without wiring: {actions}"
    assert len(_of_type(template, "AWS::Batch::JobQueue")) == 1


def test_deployment_wires_storage_and_server_to_the_nodes(templates: dict[str, dict[str, Any]]) -> None:
    template = templates["MmBatchDeployment"]
    ingress = sorted((r["Properties"]["FromPort"], r["Properties"]["GroupId"]["Fn::GetAtt"][0][:7],
                      r["Properties"]["SourceSecurityGroupId"]["Fn::GetAtt"][0][:17])
                     for r in _of_type(template, "AWS::EC2::SecurityGroupIngress").values())
    assert ingress == [(2049, "Storage", "DeploymentCompute"), (8080, "ServerS", "DeploymentCompute")]
    statements = [st for p in _of_type(template, "AWS::IAM::Policy").values() for st in p["Properties"]["PolicyDocument"]["Statement"]]
    assert any("elasticfilesystem:ClientMount" in st["Action"] for st in statements)
    assert any("logs:GetLogEvents" in st["Action"] for st in statements), "the server reads the job logs"


def test_storage_is_kept_on_update_and_delete_but_not_after_a_failed_create(templates: dict[str, dict[str, Any]]) -> None:
    def kept(template: dict[str, Any]) -> list[str]:
        resources = template["Resources"].values()
        assert all(r.get("UpdateReplacePolicy", "Retain") == "Retain" for r in resources if "DeletionPolicy" in r)
        return sorted(r["Type"] for r in resources if r.get("DeletionPolicy") == "RetainExceptOnCreate")

    # EFS mount targets are deleted with the stack, so nothing else need stay with the file system.
    assert kept(templates["CheckpointStorageEfs"]) == ["AWS::EFS::FileSystem"]
    # MemoryDB refuses to delete what a cluster uses, and a cluster keeps interfaces in its subnets (the VPC's
    # two default subnets it sits in; not the public ones).
    assert kept(templates["CheckpointStorageJuiceFs"]) == sorted([
        "AWS::S3::Bucket", "AWS::S3::Bucket", "AWS::MemoryDB::Cluster", "AWS::MemoryDB::Cluster",
        "AWS::SecretsManager::Secret", "AWS::MemoryDB::ACL", "AWS::MemoryDB::User", "AWS::MemoryDB::SubnetGroup",
        "AWS::EC2::SecurityGroup", "AWS::EC2::Subnet", "AWS::EC2::Subnet", "AWS::EC2::VPC",
    ])


def test_admin_cidr_without_a_key_opens_only_the_dashboard(templates: dict[str, dict[str, Any]]) -> None:
    (group,) = _of_type(templates["ManagementServerAdminNoKey"], "AWS::EC2::SecurityGroup").values() or [None]
    ports = [(r["FromPort"], r["CidrIp"]) for r in group["Properties"]["SecurityGroupIngress"]]
    assert ports == [(8080, "203.0.113.0/24")]


def test_gpu_types_boot_the_nvidia_image(templates: dict[str, dict[str, Any]]) -> None:
    (gpu,) = _of_type(templates["BatchComputeGpu"], "AWS::Batch::ComputeEnvironment").values()
    (cpu,) = _of_type(templates["BatchCompute"], "AWS::Batch::ComputeEnvironment").values()
    assert gpu["Properties"]["ComputeResources"]["Ec2Configuration"] == [{"ImageType": "ECS_AL2023_NVIDIA"}]
    assert cpu["Properties"]["ComputeResources"]["Ec2Configuration"] == [{"ImageType": "ECS_AL2023"}]


def test_batch_keywords_reach_the_compute_environment(templates: dict[str, dict[str, Any]]) -> None:
    (ce,) = _of_type(templates["BatchComputeOptimal"], "AWS::Batch::ComputeEnvironment").values()
    assert ce["Properties"]["ComputeResources"]["InstanceTypes"] == ["optimal"]
    assert "optimal" not in json.dumps(ce["Properties"]["ComputeResources"].get("Ec2Configuration"))


def test_a_single_instance_type_is_the_only_type_the_environment_launches(templates: dict[str, dict[str, Any]]) -> None:
    """With one type, the type list aws-batch writes is not overridden, so its use_optimal_instance_classes must stay
    off: on, it adds ``optimal`` and AWS Batch may launch c, m or r types of its choosing instead of the one given
    (whose memory the checkpoint-time warning was computed for)."""
    (ce,) = _of_type(templates["BatchComputeOneType"], "AWS::Batch::ComputeEnvironment").values()
    assert ce["Properties"]["ComputeResources"]["InstanceTypes"] == ["m7i.large"]


# ----------------------------------------------------------------------------- one rule, one wording

@pytest.mark.parametrize(("types", "setting_types"), [
    (["m6i.large", "m7g.large"], "m6i.large,m7g.large"),
    (["g5.xlarge", "g6.xlarge"], "g5.xlarge,g6.xlarge"),
    (["a1.large"], "a1.large"),
])
def test_a_construct_words_a_rule_as_the_settings_do(types: list[str], setting_types: str) -> None:
    stack = cdk.Stack(cdk.App(context=CDK_JSON_CONTEXT), "Check")
    vpc = _vpc(stack)
    with pytest.raises(ValueError) as from_construct:
        BatchCompute(stack, "Compute", vpc=vpc, storage=CheckpointStorageEfs(stack, "Storage", vpc=vpc), agent=AGENT,
                     instance_types=types)
    with pytest.raises(ConfigError) as from_settings:
        MmBatchConfig.from_mapping({"instanceTypes": setting_types})
    construct_text = str(from_construct.value)
    assert construct_text.startswith("Check/Compute: instance_types: ")
    assert construct_text.removeprefix("Check/Compute: instance_types: ") == "; ".join(
        p.removeprefix("instanceTypes: ") for p in from_settings.value.problems)


_SOURCE_PROPS: dict[str, tuple[str, Callable[[cdk.Stack, str], Any]]] = {
    "mmabSource": ("mmab_source", lambda s, v: ManagementServer(s, "Server", vpc=_vpc(s), mmab_source=v)),
    "juicefsSource": ("juicefs_source", lambda s, v: CheckpointStorageJuiceFs(s, "Storage", vpc=_vpc(s), juicefs_source=v)),
    "cloudWatchAgentServerSource": ("server_agent_source", lambda s, v: LogShipping(s, "Logs", server_agent_source=v)),
    "awsCliSource": ("awsCliSource", lambda s, v: aws_cli_install_script(source=v)),
}


@pytest.mark.parametrize("value", ["s3://Artifacts/pkg.deb", "s3://art..ifacts/pkg.deb", "s3://192.168.1.1/pkg.deb",
                                   "https://example.org/pkg-$(id).deb", "s3://bucket-only", "ftp://example.org/pkg.deb"])
@pytest.mark.parametrize("key", list(_SOURCE_PROPS))
def test_a_download_source_is_refused_by_one_rule_in_the_settings_and_the_constructs(key: str, value: str) -> None:
    """package_source.package_source_problem behind every source setting and construct prop: a library user's
    ManagementServer(mmab_source=) or CheckpointStorageJuiceFs(juicefs_source=) is held to what the setting is."""
    problem = package_source_problem(value)
    assert problem is not None
    with pytest.raises(ConfigError) as setting:
        MmBatchConfig.from_mapping({key: value})
    (found,) = [p for p in setting.value.problems if p.startswith(f"{key}: ")]
    if "bucket" in problem:
        assert found == f"{key}: {problem}"  # the bucket named as the problem, not a generic "not accepted"
    prop, build = _SOURCE_PROPS[key]
    with pytest.raises(ValueError) as construct:
        build(cdk.Stack(cdk.App(context=CDK_JSON_CONTEXT), "Check"), value)
    assert prop in str(construct.value) and problem in str(construct.value)


def test_a_download_source_names_its_bucket_key_only_when_s3_can_name_the_bucket() -> None:
    assert s3_object("s3://artifacts/mmab/mmab-{version}.deb") == ("artifacts", "mmab/mmab-{version}.deb")
    assert s3_object("s3://Artifacts/mmab.deb") is None and s3_object("https://artifacts/mmab.deb") is None
    assert package_source_problem("https://example.org/mmab-{version}.deb") is None


_WHOLE_NUMBER_PROPS: dict[str, tuple[str, Callable[[cdk.Stack, Any], Any]]] = {
    "juicefsCacheGib": ("cache_size_gib", lambda s, v: CheckpointStorageJuiceFs(s, "Storage", vpc=_vpc(s), cache_size_gib=v)),
    "juicefsMaxUploads": ("max_uploads", lambda s, v: CheckpointStorageJuiceFs(s, "Storage", vpc=_vpc(s), max_uploads=v)),
    "juicefsBufferSizeMib": ("buffer_size_mib",
                             lambda s, v: CheckpointStorageJuiceFs(s, "Storage", vpc=_vpc(s), buffer_size_mib=v)),
    "efsProvisionedMibps": ("provisioned_throughput_mibps", lambda s, v: CheckpointStorageEfs(
        s, "Storage", vpc=_vpc(s), throughput_mode=efs.ThroughputMode.PROVISIONED, provisioned_throughput_mibps=v)),
    "agentWaitSeconds": ("node_settings.agent_wait_seconds", lambda s, v: BatchCompute(
        s, "Compute", vpc=_vpc(s), storage=_efs(s), agent=AGENT, node_settings=NodeSettings(agent_wait_seconds=v))),
}


@pytest.mark.parametrize("key", list(_WHOLE_NUMBER_PROPS))
def test_a_construct_refuses_past_the_bounds_its_setting_has_naming_the_prop(key: str) -> None:
    """One range per fact, behind the setting and the construct prop: a library user gets the same bounds, which
    the settings' own table (NUMERIC_BOUNDS) pins."""
    prop, build = _WHOLE_NUMBER_PROPS[key]
    low, high = NUMERIC_BOUNDS[key]
    for value in (low - 1, high + 1, True):
        stack = cdk.Stack(cdk.App(context=CDK_JSON_CONTEXT), "Check")
        with pytest.raises(ValueError, match=rf"^Check/\w+: {re.escape(prop)}: {value!r} is not accepted; expected "
                                             rf"whole \S+ from {low} to {high}$"):
            build(stack, value)


def test_a_juicefs_block_size_juicefs_cannot_format_is_refused_by_the_construct() -> None:
    stack = cdk.Stack(cdk.App(context=CDK_JSON_CONTEXT), "Check")
    with pytest.raises(ValueError, match=r"^Check/Storage: block_size_mib: 3 is not accepted; expected one of 1, 2, 4, 8, 16"):
        CheckpointStorageJuiceFs(stack, "Storage", vpc=_vpc(stack), block_size_mib=3)


@pytest.mark.parametrize("minutes", [-5, 61, 1.5, "5", True])
def test_a_fatal_shutdown_delay_shutdown_cannot_take_is_refused_by_the_construct(minutes: Any) -> None:
    """`shutdown -h +-5` or `+1.5` fails, so the failed node would stay up, gated off and billed, with nothing
    replacing it; the settings refuse these too (fatalShutdownMinutes: 0 to 60, or never)."""
    stack = cdk.Stack(cdk.App(context=CDK_JSON_CONTEXT), "Check")
    with pytest.raises(ValueError, match=rf"^Check/Compute: node_settings.fatal_shutdown_minutes: {re.escape(repr(minutes))} "
                                         r"is not accepted; expected whole minutes from 0 to 60$"):
        BatchCompute(stack, "Compute", vpc=_vpc(stack), storage=_efs(stack), agent=AGENT,
                     node_settings=NodeSettings(fatal_shutdown_minutes=minutes))



@pytest.mark.parametrize("minutes", [0, 60, None])
def test_a_fatal_shutdown_delay_from_zero_to_sixty_or_never_synthesizes(minutes: Any) -> None:
    stack = cdk.Stack(cdk.App(context=CDK_JSON_CONTEXT), "Check")
    BatchCompute(stack, "Compute", vpc=_vpc(stack), storage=_efs(stack), agent=AGENT,
                 node_settings=NodeSettings(fatal_shutdown_minutes=minutes))
    assertions.Template.from_stack(stack).resource_count_is("AWS::EC2::LaunchTemplate", 1)


def test_the_fatal_shutdown_delay_reaches_either_storages_mount_script() -> None:
    """The mount script runs first and fails first on most broken nodes (no route to the storage, a volume never
    formatted): fatalShutdownMinutes, ``never`` to keep a node up for debugging, must reach it and not be replaced
    by the script's own default of one minute."""
    stack = cdk.Stack(cdk.App(context=CDK_JSON_CONTEXT), "Check")
    vpc = _vpc(stack)
    for storage in (CheckpointStorageEfs(stack, "Efs", vpc=vpc), CheckpointStorageJuiceFs(stack, "Jfs", vpc=vpc)):
        for minutes, rendered in ((None, "never"), (7, "7")):
            script = storage.node_mount_script(NodeSettings(fatal_shutdown_minutes=minutes).boot_settings)
            assert f"export FATAL_SHUTDOWN_MINUTES={rendered}\n" in script, (storage.node.id, minutes)


def test_the_servers_root_volume_takes_the_size_asked_for() -> None:
    """managementRootVolumeGib reaches the server: MMAB's database and logs live on the root volume, and a volume
    left at 30 GiB fills up on a server sized for more."""
    stack = cdk.Stack(cdk.App(context=CDK_JSON_CONTEXT), "Check")
    server = ManagementServer(stack, "Server", vpc=_vpc(stack), root_volume_gib=100)
    (device,) = stack.resolve(server.instance.node.default_child.block_device_mappings)
    assert device == {"deviceName": "/dev/sda1", "ebs": {"deleteOnTermination": True, "encrypted": True, "volumeSize": 100,
                                                         "volumeType": "gp3"}}


def test_an_ipv6_admin_range_opens_the_dashboard_to_that_range() -> None:
    """adminCidr takes an IPv6 range, as the settings do: it becomes a CidrIpv6 rule, not a refusal at synth."""
    stack = cdk.Stack(cdk.App(context=CDK_JSON_CONTEXT), "Check")
    server = ManagementServer(stack, "Server", vpc=_vpc(stack), admin_cidr="2001:db8:1234::/48")
    assert stack.resolve(server.security_group.node.default_child.security_group_ingress) == [
        {"cidrIpv6": "2001:db8:1234::/48", "ipProtocol": "tcp", "fromPort": 8080, "toPort": 8080,
         "description": "MMAB dashboard and API from adminCidr"}]


@pytest.mark.parametrize("scope", ["Tag", "tagged", "none", ""])
def test_an_ebs_scope_other_than_tag_or_account_is_refused_by_the_construct(scope: str) -> None:
    """Any other value would get the tag-conditioned statements without MMAB being told to tag its volumes
    (MMAB_CUSTOM_TAGS is set for ``tag`` alone), so every per-job volume MMAB creates would be refused at run time."""
    stack = cdk.Stack(cdk.App(context=CDK_JSON_CONTEXT), "Check")
    with pytest.raises(ValueError, match=rf"^Check/Server: ebs_scope: {re.escape(repr(scope))} is not accepted; "
                                         r"expected tag or account$"):
        ManagementServer(stack, "Server", vpc=_vpc(stack), ebs_scope=scope)


def test_the_efs_performance_mode_asked_for_is_the_file_systems() -> None:
    """performance_mode reaches the file system (it cannot change after creation, and Monitoring picks its alarms by
    the mode the construct reports)."""
    stack = cdk.Stack(cdk.App(context=CDK_JSON_CONTEXT), "Check")
    storage = CheckpointStorageEfs(stack, "Storage", vpc=_vpc(stack), performance_mode=efs.PerformanceMode.MAX_IO,
                                   throughput_mode=efs.ThroughputMode.BURSTING)
    assert stack.resolve(storage.file_system.node.default_child.performance_mode) == "maxIO"
    assert storage.monitored["efs_performance_mode"] == efs.PerformanceMode.MAX_IO


@pytest.mark.parametrize("character", [" ", "'", '"', "`", "$", "\\"])
def test_a_download_source_with_a_character_the_boot_shell_reads_is_refused(character: str) -> None:
    """package_source's rule: no whitespace, quote, backquote, ``$`` or backslash in a URL or key a boot script
    downloads, whatever quoting the script uses around it."""
    for source in (f"https://example.org/pkg{character}1.deb", f"s3://artifacts/pkg{character}1.deb"):
        assert package_source_problem(source) is not None, source
