"""F12: a new VPC's zones named by the user, and compute kept to fewer zones than storage spans, with the
constraints between them (MemoryDB's replica needs a second zone; EFS has a mount target in every compute zone)
refused before synth by name."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2

from mmbatch_cdk import CheckpointStorageEfs, CheckpointStorageJuiceFs
from mmbatch_cdk.config import ConfigError, MmBatchConfig
from mmbatch_cdk.network import Network

ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"]


def _problems(context: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        MmBatchConfig.from_mapping(context)
    return caught.value.problems


def _stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Zones")  # environment-agnostic, as the app's stacks are


def _zones(stack: cdk.Stack, selection: ec2.SubnetSelection, network: Network) -> list[str]:
    return [stack.resolve(s.availability_zone) for s in network.vpc.select_subnets(subnets=selection.subnets).subnets] \
        if selection.subnets else [stack.resolve(s.availability_zone)
                                   for s in network.vpc.select_subnets(subnet_type=selection.subnet_type).subnets]


def test_named_zones_become_the_new_vpcs_subnets_in_an_environment_agnostic_stack() -> None:
    stack = _stack()
    Network(stack, "Network", availability_zones=ZONES, private_only=True)
    subnets = cdk.assertions.Template.from_stack(stack).find_resources("AWS::EC2::Subnet")
    zones = sorted({s["Properties"]["AvailabilityZone"] for s in subnets.values()})
    assert zones == ZONES and len(subnets) == 6  # a public and a private subnet in each, the names as literals


def test_a_zone_named_twice_is_refused_by_the_construct() -> None:
    """Two subnets of one zone would pass for two zones: MemoryDB's replica and the EFS mount targets would then
    all sit in one zone, with nothing left when it fails. The settings refuse it too (availabilityZones)."""
    with pytest.raises(ValueError, match="^Network: availability_zones names a zone twice$"):
        Network(_stack(), "Network", availability_zones=["us-east-1a", "us-east-1a"])


def test_compute_keeps_to_its_first_zones_while_storage_keeps_them_all() -> None:
    stack = _stack()
    network = Network(stack, "Network", availability_zones=ZONES[:2], compute_az_count=1)
    assert _zones(stack, network.storage_subnets, network) == ZONES[:2]
    assert _zones(stack, network.compute_subnets, network) == ZONES[:1]


def test_efs_gets_a_mount_target_in_every_zone_even_when_compute_uses_one() -> None:
    stack = _stack()
    network = Network(stack, "Network", availability_zones=ZONES[:2], compute_az_count=1)
    CheckpointStorageEfs(stack, "Efs", vpc=network.vpc, vpc_subnets=network.storage_subnets)
    targets = cdk.assertions.Template.from_stack(stack).find_resources("AWS::EFS::MountTarget")
    assert len(targets) == 2


def test_by_default_compute_and_storage_share_the_same_subnets() -> None:
    network = Network(_stack(), "Network")
    assert network.compute_subnets is network.storage_subnets


def test_an_existing_vpcs_compute_subnets_are_a_subset_of_the_storage_subnets() -> None:
    stack = _stack()
    network = Network(stack, "Network", vpc_id="vpc-12345678", subnet_ids=["subnet-11111111", "subnet-22222222"],
                      compute_subnet_ids=["subnet-22222222"])
    assert [s.subnet_id for s in network.compute_subnets.subnets or []] == ["subnet-22222222"]
    assert [s.subnet_id for s in network.storage_subnets.subnets or []] == ["subnet-11111111", "subnet-22222222"]
    with pytest.raises(ValueError, match="compute_subnet_ids must be among subnet_ids"):
        Network(_stack(), "Network", vpc_id="vpc-12345678", subnet_ids=["subnet-11111111"],
                compute_subnet_ids=["subnet-22222222"])


@pytest.mark.parametrize("count", [0, 3])
def test_a_compute_zone_count_outside_one_to_the_vpcs_zones_is_refused_by_the_construct(count: int) -> None:
    """0 would leave compute with no subnet at all; 3 is more than the two zones of this VPC."""
    with pytest.raises(ValueError, match=r"^Network: compute_az_count must be 1-2, the VPC's number of availability zones$"):
        Network(_stack(), "Network", availability_zones=ZONES[:2], compute_az_count=count)


def test_memorydb_in_one_named_zone_is_refused_by_the_construct() -> None:
    stack = _stack()
    network = Network(stack, "Network", availability_zones=ZONES[:1])
    with pytest.raises(ValueError, match="span 1 availability zone"):
        CheckpointStorageJuiceFs(stack, "JuiceFs", vpc=network.vpc, vpc_subnets=network.storage_subnets)


@pytest.mark.parametrize(("context", "key", "fragment"), [
    ({"backend": "juicefs", "availabilityZones": "us-east-1a"}, "availabilityZones", "MemoryDB keeps a replica"),
    ({"availabilityZones": "us-east-1a,us-west-2b"}, "availabilityZones", "zones of 2 regions"),
    ({"availabilityZones": "us-east-1a,us-east-1b,us-east-1c,us-east-1d"}, "availabilityZones", "at most 3"),
    ({"availabilityZones": "use1-az1"}, "availabilityZones", "availability zone names"),
    ({"computeAzCount": 3}, "computeAzCount", "more than the new VPC's 2 zones"),
    ({"availabilityZones": "us-east-1a", "computeAzCount": 2}, "computeAzCount", "more than the new VPC's 1 zones"),
    ({"vpcId": "vpc-12345678", "subnetIds": "subnet-11111111", "availabilityZones": "us-east-1a"},
     "availabilityZones", "only used with a new VPC"),
    ({"vpcId": "vpc-12345678", "subnetIds": "subnet-11111111", "computeAzCount": 1}, "computeAzCount",
     "computeSubnetIds restricts compute"),
    ({"vpcId": "vpc-12345678", "subnetIds": "subnet-11111111", "computeSubnetIds": "subnet-22222222"},
     "computeSubnetIds", "where EFS has its mount targets"),
    ({"computeSubnetIds": "subnet-22222222"}, "computeSubnetIds", "only used with an existing VPC"),
])
def test_zone_settings_that_cannot_deploy_are_refused_by_name(context: dict[str, Any], key: str, fragment: str) -> None:
    found = _problems(context)
    assert any(p.startswith(f"{key}: ") and fragment in p for p in found), found


@pytest.mark.parametrize("context", [
    {"availabilityZones": "us-east-1a"},
    {"availabilityZones": "us-east-1a,us-east-1b", "computeAzCount": 1, "backend": "juicefs"},
    {"availabilityZones": "eu-west-1a,eu-west-1b,eu-west-1c", "privateOnly": "true"},
    {"vpcId": "vpc-12345678", "subnetIds": "subnet-11111111,subnet-22222222", "computeSubnetIds": "subnet-22222222"},
])
def test_zone_settings_that_can_deploy_are_accepted(context: dict[str, Any]) -> None:
    MmBatchConfig.from_mapping(context)


def test_the_stack_puts_compute_in_its_zones_and_storage_in_all(tmp_path: Any) -> None:
    from tests.conftest import synthesize

    template = synthesize({"availabilityZones": "us-east-1a,us-east-1b", "computeAzCount": 1}, tmp_path).template
    resources = template["Resources"]
    zone_of = {name: r["Properties"]["AvailabilityZone"] for name, r in resources.items() if r["Type"] == "AWS::EC2::Subnet"}
    environments = [r for r in resources.values() if r["Type"] == "AWS::Batch::ComputeEnvironment"
                    and "ComputeResources" in r["Properties"]]
    assert environments
    for environment in environments:
        subnets = environment["Properties"]["ComputeResources"]["Subnets"]
        assert [zone_of[s["Ref"]] for s in subnets] == ["us-east-1a"]
    targets = [r["Properties"]["SubnetId"]["Ref"] for r in resources.values() if r["Type"] == "AWS::EFS::MountTarget"]
    assert sorted(zone_of[t] for t in targets) == ["us-east-1a", "us-east-1b"]
