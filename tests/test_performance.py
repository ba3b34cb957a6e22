"""The checkpoint-time model, the tunables that feed it, the synth warning it drives, and the deploy's critical path."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs

from mmbatch_cdk import BatchCompute, CheckpointStorageEfs, CheckpointStorageJuiceFs, ManagementServer, NodeSettings
from mmbatch_cdk.checkpoint_model import SPOT_NOTICE_SECONDS, checkpoint_seconds, family_sizes, instance_profile, model_table
from mmbatch_cdk.config import ConfigError, MmBatchConfig
from mmbatch_cdk.instance_types import sizes

from .cfn import shell_parts, user_data_document
from .conftest import CONFIGS, REPO
from .graph import dependencies, longest_chain

GIB = 1024


# ----------------------------------------------------------------------------- the model

@pytest.mark.parametrize(("instance_type", "memory_gib", "gbps"), [
    ("c7i.large", 4, 0.781), ("m6i.4xlarge", 64, 6.25), ("r7i.8xlarge", 256, 12.5), ("m7i.16xlarge", 256, 25.0),
    ("r6a.12xlarge", 384, 18.75),
])
def test_instance_profile(instance_type: str, memory_gib: int, gbps: float) -> None:
    profile = instance_profile(instance_type)
    assert profile is not None
    assert profile.memory_gib == memory_gib
    assert profile.network_mibps == pytest.approx(gbps * 1e9 / 8 / 2**20)


@pytest.mark.parametrize("instance_type", ["c7g.large", "m7i.metal-24xl", "p4d.24xlarge", "c7i"])
def test_unmodelled_types_get_no_estimate(instance_type: str) -> None:
    assert instance_profile(instance_type) is None
    assert checkpoint_seconds(instance_type, 1500) is None


def test_the_slower_of_network_and_storage_decides() -> None:
    # r7i.8xlarge: 256 GiB; 12.5 Gbps baseline is ~1490 MiB/s, just under EFS Elastic's 1500 per client.
    assert checkpoint_seconds("r7i.8xlarge", 1500) == pytest.approx(256 * GIB / (12.5e9 / 8 / 2**20))
    # m7i.16xlarge: 25 Gbps is ~2980 MiB/s, so the storage's 1500 MiB/s decides.
    assert checkpoint_seconds("m7i.16xlarge", 1500) == pytest.approx(256 * GIB / 1500)
    assert checkpoint_seconds("m7i.16xlarge", 500) == pytest.approx(3 * checkpoint_seconds("m7i.16xlarge", 1500))


# ----------------------------------------------------------------------------- storage limits

@pytest.fixture(scope="module")
def parts() -> dict[str, object]:
    stack = cdk.Stack(cdk.App())
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0, restrict_default_security_group=False)
    return {"stack": stack, "vpc": vpc, "server": ManagementServer(stack, "Server", vpc=vpc)}


def test_efs_per_node_limit_follows_the_throughput_mode(parts) -> None:
    stack, vpc = parts["stack"], parts["vpc"]
    elastic = CheckpointStorageEfs(stack, "Elastic", vpc=vpc)
    bursting = CheckpointStorageEfs(stack, "Bursting", vpc=vpc, throughput_mode=efs.ThroughputMode.BURSTING)
    low = CheckpointStorageEfs(stack, "Low", vpc=vpc, throughput_mode=efs.ThroughputMode.PROVISIONED,
                               provisioned_throughput_mibps=128)
    high = CheckpointStorageEfs(stack, "High", vpc=vpc, throughput_mode=efs.ThroughputMode.PROVISIONED,
                                provisioned_throughput_mibps=2000)
    imported = CheckpointStorageEfs(stack, "Imported", vpc=vpc, file_system=efs.FileSystem.from_file_system_attributes(
        stack, "Fs", file_system_id="fs-12345678", security_group=ec2.SecurityGroup(stack, "FsSg", vpc=vpc)))
    assert [s.node_write_mibps for s in (elastic, bursting, low, high, imported)] == [1500, 100, 128, 500, None]
    assert elastic.description == "EFS (elastic)" and low.description == "EFS (provisioned 128 MiB/s)"


def test_juicefs_per_node_limit_scales_with_parallel_uploads(parts) -> None:
    stack, vpc = parts["stack"], parts["vpc"]
    default = CheckpointStorageJuiceFs(stack, "Jfs40", vpc=vpc, name_prefix="a")
    fewer = CheckpointStorageJuiceFs(stack, "Jfs20", vpc=vpc, name_prefix="b", max_uploads=20)
    assert default.node_write_mibps == pytest.approx(40 * 85e6 / 2**20)
    assert fewer.node_write_mibps == pytest.approx(default.node_write_mibps / 2)


def warnings_of(construct) -> list[str]:
    return [str(e.data) for e in construct.node.metadata if e.type == "aws:cdk:warning" and "checkpointTime" in str(e.data)]


def test_batch_compute_warns_naming_each_type_that_cannot_checkpoint_in_time(parts) -> None:
    stack, vpc, server = parts["stack"], parts["vpc"], parts["server"]
    storage = CheckpointStorageEfs(stack, "Store", vpc=vpc)
    compute = BatchCompute(stack, "Mixed", vpc=vpc, storage=storage, management_server=server,
                           instance_types=["m6i.8xlarge", "m6i.12xlarge", "r7i", "m5.24xlarge"])
    (warning,) = warnings_of(compute)
    assert "m6i.12xlarge (~131 s)" in warning and "r7i.large (~176 s)" in warning and "r7i.16xlarge" in warning
    assert "r7i.48xlarge" in warning  # AWS Batch may launch any size of a bare family
    assert "m6i.8xlarge" not in warning and "m5" not in warning  # within 110 s / not modelled
    assert "110 s" in warning and "EFS (elastic)" in warning
    family = BatchCompute(stack, "Family", vpc=vpc, storage=storage, management_server=server, instance_types=["c7i"])
    assert warnings_of(family)[0].startswith("c7i.24xlarge (~131 s), c7i.48xlarge (~262 s): ")
    fine = BatchCompute(stack, "Fine", vpc=vpc, storage=storage, management_server=server, instance_types=sizes("c7i"))
    assert warnings_of(fine) == []
    environments = {
        k: v["Properties"]["ComputeResources"]["InstanceTypes"]
        for k, v in assertions.Template.from_stack(stack).find_resources("AWS::Batch::ComputeEnvironment").items()
    }
    assert ["c7i"] in environments.values()
    assert ["m6i.8xlarge", "m6i.12xlarge", "r7i", "m5.24xlarge"] in environments.values()


def test_family_sizes_cover_what_batch_may_launch() -> None:
    assert family_sizes("c7i")[-2:] == ("c7i.24xlarge", "c7i.48xlarge")
    assert family_sizes("m6i")[-2:] == ("m6i.24xlarge", "m6i.32xlarge")
    assert family_sizes("c7g") == ()


def test_the_budget_is_the_stop_timeout_or_the_notice_whichever_is_shorter(parts) -> None:
    stack, vpc, server = parts["stack"], parts["vpc"], parts["server"]
    storage = CheckpointStorageEfs(stack, "Store2", vpc=vpc)
    short = BatchCompute(stack, "Short", vpc=vpc, storage=storage, management_server=server,
                         instance_types=["c7i.16xlarge"], ecs_stop_timeout="60s")  # 128 GiB at 1500 MiB/s: ~87 s
    long = BatchCompute(stack, "Long", vpc=vpc, storage=storage, management_server=server,
                        instance_types=["m6i.12xlarge"], ecs_stop_timeout="10m")  # ~131 s > the 120 s notice
    go_style = BatchCompute(stack, "GoStyle", vpc=vpc, storage=storage, management_server=server,
                            instance_types=["c7i.16xlarge"], ecs_stop_timeout="1m20s")  # ECS takes Go durations
    assert "c7i.16xlarge (~87 s)" in warnings_of(short)[0] and "60 s" in warnings_of(short)[0]
    assert f"{SPOT_NOTICE_SECONDS} s a stopping job gets" in warnings_of(long)[0]
    assert "c7i.16xlarge (~87 s)" in warnings_of(go_style)[0] and "80 s a stopping job gets" in warnings_of(go_style)[0]


def test_a_timeout_that_is_not_a_duration_is_named(parts) -> None:
    stack, vpc, server = parts["stack"], parts["vpc"], parts["server"]
    with pytest.raises(ValueError, match="Bad: node_settings.ecs_stop_timeout: 'soon' is not accepted; expected a duration from 30s to 1h"):
        BatchCompute(stack, "Bad", vpc=vpc, storage=CheckpointStorageEfs(stack, "Store3", vpc=vpc),
                     agent=server.agent_installer, node_settings=NodeSettings(ecs_stop_timeout="soon"))


def test_default_deployments_warn_about_exactly_the_slow_defaults(synth) -> None:
    def warned(name: str) -> dict[str, str]:
        return {
            path.split("/", 1)[1].replace("Default/", ""): str(entry["data"])
            for path, entries in _metadata(synth(name)).items()
            for entry in entries if entry["type"] == "aws:cdk:warning" and "checkpointTime" in str(entry["data"])
        }

    efs_default = warned("efs")
    assert list(efs_default) == ["Compute"]
    assert efs_default["Compute"].startswith("m6i.12xlarge (~131 s), m6i.16xlarge (~175 s): ")
    multi = warned("efs-multiqueue")
    assert sorted(multi) == ["Queues/Jq2", "Queues/Jq3"]  # c7i (2 GiB per vCPU) fits
    assert multi["Queues/Jq2"].startswith("m7i.12xlarge (~131 s), m7i.16xlarge (~175 s): ")
    assert multi["Queues/Jq3"].startswith("r7i.large (~176 s), r7i.xlarge (~176 s), ")
    # 40 parallel uploads keep up with the network of every default m6i size.
    assert warned("juicefs") == {}
    # Jq3 there is r7g, which the model does not cover; c7i and m7i fit.
    assert warned("juicefs-multiqueue") == {}


def _metadata(s) -> dict[str, list[dict[str, object]]]:
    return {c.node.path: [{"type": e.type, "data": e.data} for e in c.node.metadata] for c in s.stack.node.find_all()}


# ----------------------------------------------------------------------------- tunables

def test_tunables_are_validated_with_clear_messages() -> None:
    with pytest.raises(ConfigError) as err:
        MmBatchConfig.from_mapping({"backend": "juicefs", "juicefsBlockSizeMib": "3", "juicefsMaxUploads": "0",
                                    "juicefsBufferSizeMib": "big", "efsThroughputMode": "fast"})
    text = str(err.value)
    assert "juicefsBlockSizeMib: 3 is not accepted; expected one of: 1, 2, 4, 8, 16" in text
    assert "juicefsMaxUploads: 0 is out of range; expected a whole number >= 1 and <= 200" in text
    assert "juicefsBufferSizeMib: 'big' is not accepted; expected a whole number >= 32 and <= 16384" in text
    assert "efsThroughputMode: 'fast' is not accepted; expected one of: elastic, bursting, provisioned" in text
    with pytest.raises(ConfigError, match="efsProvisionedMibps: required with efsThroughputMode=provisioned"):
        MmBatchConfig.from_mapping({"efsThroughputMode": "provisioned"})
    with pytest.raises(ConfigError, match="efsProvisionedMibps: only used with efsThroughputMode=provisioned"):
        MmBatchConfig.from_mapping({"efsProvisionedMibps": "100"})


def test_settings_of_the_other_backend_are_ignored_with_a_warning() -> None:
    # One cdk.json can carry both backends' settings; -c backend=... picks one.
    efs = MmBatchConfig.from_mapping({"juicefsMaxUploads": "80", "redisNodeType": "db.r7g.large"})
    assert [(w.id, w.message) for w in efs.warnings] == [
        ("unusedSetting", "redisNodeType has no effect: it applies to backend=juicefs, and backend=efs."),
        ("unusedSetting", "juicefsMaxUploads has no effect: it applies to backend=juicefs, and backend=efs."),
    ]
    juicefs = MmBatchConfig.from_mapping({"backend": "juicefs", "efsThroughputMode": "bursting"})
    assert [w.message for w in juicefs.warnings] == ["efsThroughputMode has no effect: it applies to backend=efs, and backend=juicefs."]


def test_a_buffer_too_small_for_the_uploads_is_warned_about() -> None:
    small = MmBatchConfig.from_mapping({"backend": "juicefs", "juicefsMaxUploads": 100, "juicefsBufferSizeMib": 300})
    assert any("juicefsBufferSizeMib (300) is below juicefsMaxUploads x juicefsBlockSizeMib (400 MiB)" in w.message
               for w in small.warnings)
    assert MmBatchConfig.from_mapping({"backend": "juicefs"}).warnings == ()


def test_efs_throughput_settings_reach_the_file_system(synth) -> None:
    default = synth("efs").one("AWS::EFS::FileSystem")["Properties"]
    provisioned = synth("efs-existing-vpc").one("AWS::EFS::FileSystem")["Properties"]
    assert default["ThroughputMode"] == "elastic" and "ProvisionedThroughputInMibps" not in default
    assert provisioned["ThroughputMode"] == "provisioned" and provisioned["ProvisionedThroughputInMibps"] == 256


def test_juicefs_tuning_reaches_mount_and_format(synth) -> None:
    def scripts(name: str) -> str:
        s = synth(name)
        text = ""
        for lt in s.resources("AWS::EC2::LaunchTemplate").values():
            data = lt["Properties"]["LaunchTemplateData"].get("UserData")
            if data:
                text += "".join(shell_parts(user_data_document(data)))
        for instance in s.resources("AWS::EC2::Instance").values():
            text += "".join(shell_parts(user_data_document(instance["Properties"]["UserData"])))
        return text

    default, tuned = scripts("juicefs"), scripts("juicefs-existing-vpc")
    for expected in ("MAX_UPLOADS=40\n", "BUFFER_SIZE_MIB=300\n", "BLOCK_SIZE_KIB=4096\n"):
        assert f"export {expected}" in default
    for expected in ("MAX_UPLOADS=80\n", "BUFFER_SIZE_MIB=600\n", "BLOCK_SIZE_KIB=8192\n"):
        assert f"export {expected}" in tuned


# ----------------------------------------------------------------------------- deploy time

# The longest chain of resources each waiting for the one before, today. Every one runs through the
# management server's instance, because each node's user data carries its private address.
LONGEST_CHAIN_TODAY = 6


@pytest.mark.parametrize("name", list(CONFIGS))
def test_the_deploy_critical_path_does_not_grow(synth, name: str) -> None:
    chain = longest_chain(synth(name).template)
    assert len(chain) <= LONGEST_CHAIN_TODAY, " -> ".join(chain)


@pytest.mark.parametrize("name", ["juicefs", "juicefs-multiqueue"])
def test_nothing_waits_for_memorydb(synth, name: str) -> None:
    template = synth(name).template
    clusters = set(synth(name).resources("AWS::MemoryDB::Cluster"))
    assert len(clusters) == 2
    graph = dependencies(template)
    waiting, grew = set(), True
    while grew:  # everything that waits for a cluster, directly or through another resource
        now = {res for res, deps in graph.items() if deps & (clusters | waiting)}
        grew, waiting = now != waiting, now
    assert not waiting, f"{sorted(waiting)} wait for MemoryDB"


def test_the_graph_reader_sees_real_chains() -> None:
    template = {"Resources": {
        "A": {"Type": "T"},
        "B": {"Type": "T", "Properties": {"X": {"Ref": "A"}}},
        "C": {"Type": "T", "Properties": {"Y": {"Fn::GetAtt": ["B", "Arn"]}}},
        "D": {"Type": "T", "Properties": {"Z": {"Fn::Sub": "${C.Arn}/x"}}},
        "E": {"Type": "T", "DependsOn": ["D"]},
    }}
    assert longest_chain(template) == ["A", "B", "C", "D", "E"]


# ----------------------------------------------------------------------------- README

README_TYPES = ("c7i.large", "c7i.16xlarge", *sizes("m6i"), "r7i.large", "r7i.16xlarge")
README_STORAGES = {
    "EFS Elastic": 1500.0,
    "EFS, efs-utils < 2": 500.0,
    "JuiceFS, 20 uploads": 20 * 85e6 / 2**20,
    "JuiceFS, 40 uploads (default)": 40 * 85e6 / 2**20,
}


def test_readme_carries_the_model_table() -> None:
    table = model_table(README_TYPES, README_STORAGES)
    assert table in (REPO / "README.md").read_text(), "README's checkpoint table is stale:\n" + table
