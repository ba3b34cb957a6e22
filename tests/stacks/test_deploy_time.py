"""What the composed stacks take from the tunables, which slow types they warn about, and their deploy's critical path."""

from __future__ import annotations

import pytest

from ..templates import shell_parts, user_data_document
from ..conftest import CONFIGS
from ..graph import dependencies, longest_chain

def test_default_deployments_warn_about_exactly_the_slow_defaults(synth) -> None:
    def warned(name: str) -> dict[str, str]:
        return {
            path.split("/", 1)[1].replace("Default/", ""): str(data)
            for path, data in synth(name).metadata("aws:cdk:warning") if "checkpointTime" in str(data)
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

# The longest chain of resources each waiting for the one before, today: VPC, subnet, its route (nothing boots
# before its route out, F9), the management server, its private DNS name (nodes must not look it up before it
# exists: a missing name is cached), the compute environment, the job queue, then what watches the queue (an
# EventBridge rule for its failed jobs, the alarm on that rule, the dashboard showing the alarm). The last three
# take seconds; the server, the environment and the queue take the minutes.
LONGEST_CHAIN_TODAY = 10


NAT_LINKS = 2
"""A new privateOnly VPC adds two links before the server: the NAT gateway waits for its public subnet's route
table association, and the private subnets' default route for the NAT gateway."""
KEY_LINKS = 1
"""compliance=hipaa adds one link before the server: its KMS key, which the server's log group needs first."""


@pytest.mark.parametrize("name", list(CONFIGS))
def test_the_deploy_critical_path_does_not_grow(synth, name: str) -> None:
    context = CONFIGS[name]
    nat = str(context.get("privateOnly", "false")).lower() == "true" and "vpcId" not in context
    key = context.get("compliance", "none") != "none"
    chain = longest_chain(synth(name).template)
    # Both lead to the server: the longer of the two counts, not their sum.
    assert len(chain) <= LONGEST_CHAIN_TODAY + max(NAT_LINKS if nat else 0, KEY_LINKS if key else 0), " -> ".join(chain)


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
