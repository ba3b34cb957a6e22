"""The checkpoint-time model, the storage limits that feed it, and the warning BatchCompute gives (its own rule)."""

from __future__ import annotations

import re

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs

from mmbatch_cdk import BatchCompute, CheckpointStorageEfs, CheckpointStorageJuiceFs, ManagementServer, NodeSettings
from mmbatch_cdk.checkpoint_model import SPOT_NOTICE_SECONDS, checkpoint_seconds, family_sizes, instance_profile, model_table
from mmbatch_cdk.instance_types import sizes

from ..conftest import REPO

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


@pytest.mark.parametrize(("instance_type", "memory_gib", "gbps"), [
    ("m6i.24xlarge", 384, 37.5), ("m6i.32xlarge", 512, 50.0), ("c7i.48xlarge", 384, 50.0),
])
def test_sizes_past_16xlarge_have_their_own_baseline(instance_type: str, memory_gib: int, gbps: float) -> None:
    """A bare family lets AWS Batch launch these sizes, and the warning names each with the time it models; their
    bandwidth (EC2's network specifications, no burst above 16xlarge) is what that time is divided by."""
    profile = instance_profile(instance_type)
    assert profile is not None and profile.memory_gib == memory_gib
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
    compute = BatchCompute(stack, "Mixed", vpc=vpc, storage=storage, agent=server.agent_installer,
                           instance_types=["m6i.8xlarge", "m6i.12xlarge", "r7i", "m5.24xlarge"])
    (warning,) = warnings_of(compute)
    assert "m6i.12xlarge (~131 s)" in warning and "r7i.large (~176 s)" in warning and "r7i.16xlarge" in warning
    assert "r7i.48xlarge" in warning  # AWS Batch may launch any size of a bare family
    assert "m6i.8xlarge" not in warning and "m5" not in warning  # within 110 s / not modelled
    assert "120 s Spot interruption notice" in warning and "EFS (elastic)" in warning
    family = BatchCompute(stack, "Family", vpc=vpc, storage=storage, agent=server.agent_installer, instance_types=["c7i"])
    assert warnings_of(family)[0].startswith("c7i.24xlarge (~131 s), c7i.48xlarge (~262 s): ")
    fine = BatchCompute(stack, "Fine", vpc=vpc, storage=storage, agent=server.agent_installer, instance_types=sizes("c7i"))
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


def test_the_budget_is_the_spot_notice_whatever_the_stop_timeout(parts) -> None:
    # ECS Spot draining does not stop Batch jobs (standalone tasks), so ECS_CONTAINER_STOP_TIMEOUT is no window
    # after a notice (pre-deploy review F4): a short stop timeout warns about nothing more, a long one hides nothing.
    stack, vpc, server = parts["stack"], parts["vpc"], parts["server"]
    storage = CheckpointStorageEfs(stack, "Store2", vpc=vpc)
    short = BatchCompute(stack, "Short", vpc=vpc, storage=storage, agent=server.agent_installer,
                         instance_types=["c7i.16xlarge"], node_settings=NodeSettings(ecs_stop_timeout="60s"))  # ~87 s
    long = BatchCompute(stack, "Long", vpc=vpc, storage=storage, agent=server.agent_installer,
                        instance_types=["m6i.12xlarge"], node_settings=NodeSettings(ecs_stop_timeout="1h"))  # ~131 s
    assert warnings_of(short) == []
    (warning,) = warnings_of(long)
    assert warning.startswith(f"m6i.12xlarge (~131 s): a checkpoint of the whole memory would take longer than the "
                              f"{SPOT_NOTICE_SECONDS} s Spot interruption notice")
    assert "ecsStopTimeout" not in warning
    assert ('To accept it: -c acknowledge=checkpointTime with the mmbatch-cdk app; in your own app, '
            'Annotations.of(<this construct>).acknowledge_warning("mmbatch:checkpointTime", "<why>").') in warning


def test_the_acknowledgement_the_warning_names_silences_it_in_your_own_app(parts) -> None:
    """What the warning tells an app of your own to call, called as it says, silences it (on the construct it names)."""
    stack, vpc, server = parts["stack"], parts["vpc"], parts["server"]
    compute = BatchCompute(stack, "Acknowledged", vpc=vpc, storage=CheckpointStorageEfs(stack, "Store4", vpc=vpc),
                           agent=server.agent_installer, instance_types=["m6i.12xlarge"])
    (warning,) = warnings_of(compute)
    call = re.search(r'Annotations\.of\(<this construct>\)\.acknowledge_warning\("([^"]+)", "<why>"\)', warning)
    assert call is not None, warning
    cdk.Annotations.of(compute).acknowledge_warning(call.group(1), "jobs here dirty little of their memory")
    assert warnings_of(compute) == []


def test_a_timeout_that_is_not_a_duration_is_named(parts) -> None:
    stack, vpc, server = parts["stack"], parts["vpc"], parts["server"]
    with pytest.raises(ValueError, match="Bad: node_settings.ecs_stop_timeout: 'soon' is not accepted; expected a duration from 30s to 1h"):
        BatchCompute(stack, "Bad", vpc=vpc, storage=CheckpointStorageEfs(stack, "Store3", vpc=vpc),
                     agent=server.agent_installer, node_settings=NodeSettings(ecs_stop_timeout="soon"))


# ----------------------------------------------------------------------------- docs/performance.md

TABLE_TYPES = ("c7i.large", "c7i.16xlarge", *sizes("m6i"), "r7i.large", "r7i.16xlarge")
TABLE_STORAGES = {
    "EFS Elastic": 1500.0,
    "EFS, efs-utils < 2": 500.0,
    "JuiceFS, 20 uploads": 20 * 85e6 / 2**20,
    "JuiceFS, 40 uploads (default)": 40 * 85e6 / 2**20,
}


def test_the_performance_page_carries_the_model_table() -> None:
    table = model_table(TABLE_TYPES, TABLE_STORAGES)
    assert table in (REPO / "docs" / "performance.md").read_text(), "docs/performance.md's checkpoint table is stale:\n" + table



def test_the_checkpoint_time_rule_alone() -> None:
    from mmbatch_cdk.checkpoint_model import checkpoint_time_warning

    warning = checkpoint_time_warning(["c7i.16xlarge", "m6i.16xlarge"], 1500.0, "EFS (elastic)")
    assert warning is not None and warning.startswith("m6i.16xlarge (~175 s): ")  # c7i.16xlarge: ~87 s, within the notice
    assert checkpoint_time_warning(["c7i.16xlarge"], 1500.0, "EFS (elastic)") is None
    assert checkpoint_time_warning(["m6i.16xlarge"], None, "an imported file system") is None, "no limit known, no guess"
    assert "c7i.48xlarge" in (checkpoint_time_warning(["c7i"], 1500.0, "EFS") or ""), "a bare family: every size Batch may launch"
