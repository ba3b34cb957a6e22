"""Config: defaults, parsing of CLI strings and JSON types, and every rejected value."""

from __future__ import annotations

import re

import pytest

from mmbatch_cdk.config import DEFAULT_INSTANCE_TYPES, SETTINGS, ConfigError, MmBatchConfig
from mmbatch_cdk.instance_types import architecture

def problems(context: dict) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        MmBatchConfig.from_mapping(context)
    return caught.value.problems


def test_defaults_describe_an_efs_deployment_in_a_new_vpc() -> None:
    config = MmBatchConfig.from_mapping({})
    assert config.backend == "efs"
    assert config.prefix == "mmbatch"
    assert config.vpc_id is None and config.subnet_ids == ()
    assert config.instance_types == DEFAULT_INSTANCE_TYPES
    assert (config.min_vcpus, config.max_vcpus) == (0, 256)
    assert config.mmab_version == "1.4.0-release"
    assert config.redis_node_type == "db.t4g.small"
    assert config.spot is True and config.multi_queue is False and config.private_only is False
    assert config.removal_policy == "retain"
    assert config.admin_cidr is None and config.key_name is None


def test_cli_strings_and_json_types_give_the_same_config() -> None:
    from_cli = MmBatchConfig.from_mapping(
        {"maxvCpus": "64", "minvCpus": "2", "spot": "false", "multiQueue": "TRUE", "instanceTypes": "c6i.large, c6i.xlarge"}
    )
    from_json = MmBatchConfig.from_mapping(
        {"maxvCpus": 64, "minvCpus": 2, "spot": False, "multiQueue": True, "instanceTypes": ["c6i.large", "c6i.xlarge"]}
    )
    assert from_cli == from_json
    assert from_cli.max_vcpus == 64 and from_cli.spot is False and from_cli.instance_types == ("c6i.large", "c6i.xlarge")


def test_existing_vpc_settings_are_parsed() -> None:
    config = MmBatchConfig.from_mapping(
        {"vpcId": "vpc-0123456789abcdef0", "subnetIds": "subnet-0123456789abcdef0,subnet-12345678", "securityGroupId": "sg-12345678"}
    )
    assert config.uses_existing_vpc
    assert config.subnet_ids == ("subnet-0123456789abcdef0", "subnet-12345678")


@pytest.mark.parametrize(
    ("context", "key", "fragment"),
    [
        ({"backend": "fsx"}, "backend", "efs, juicefs"),
        ({"prefix": "MyPrefix"}, "prefix", "lowercase"),
        ({"prefix": "a" * 21}, "prefix", "1-20"),
        ({"prefix": "bad--prefix"}, "prefix", "single hyphens"),
        ({"maxvCpus": "lots"}, "maxvCpus", "whole number"),
        ({"maxvCpus": 0}, "maxvCpus", ">= 1"),
        ({"minvCpus": -1}, "minvCpus", ">= 0"),
        ({"minvCpus": True}, "minvCpus", "whole number"),
        ({"minvCpus": 10, "maxvCpus": 4}, "minvCpus", "minvCpus <= maxvCpus"),
        ({"spot": "maybe"}, "spot", "true or false"),
        ({"vpcId": "vpc-xyz", "subnetIds": "subnet-12345678"}, "vpcId", "vpc-0123456789abcdef0"),
        ({"vpcId": "vpc-12345678", "subnetIds": "subnet-1234,subnet-12345678"}, "subnetIds", "'subnet-1234'"),
        ({"vpcId": "vpc-12345678", "subnetIds": "subnet-12345678,subnet-12345678"}, "subnetIds", "more than once"),
        ({"vpcId": "vpc-12345678"}, "subnetIds", "required with vpcId"),
        ({"subnetIds": "subnet-12345678"}, "subnetIds", "set vpcId"),
        ({"managementSubnetId": "subnet-12345678"}, "managementSubnetId", "set vpcId"),
        ({"securityGroupId": "sg-12345678"}, "securityGroupId", "set vpcId"),
        ({"vpcId": "vpc-12345678", "subnetIds": "subnet-12345678", "securityGroupId": "sg-nope"}, "securityGroupId", "sg-"),
        ({"adminCidr": "10.0.0.1/8"}, "adminCidr", "CIDR"),
        ({"adminCidr": "everyone"}, "adminCidr", "CIDR"),
        ({"adminCidr": "0.0.0.0/0"}, "adminCidr", "whole internet"),
        ({"adminCidr": "::/0"}, "adminCidr", "whole internet"),
        ({"instanceTypes": "m6i.large,not a type"}, "instanceTypes", "'not a type'"),
        ({"instanceTypes": ""}, "instanceTypes", "the value is empty; give a value, or leave instanceTypes out for its default"),
        ({"instanceTypes": "m6i.large,m7g.large"}, "instanceTypes", "architecture"),
        ({"removalPolicy": "snapshot"}, "removalPolicy", "retain, destroy"),
        ({"redisNodeType": "cache.t4g.small"}, "redisNodeType", "db.t4g.small"),
        ({"mmabVersion": "1.4; rm -rf /"}, "mmabVersion", "release name"),
        ({"mmabSource": "http://example.com/mmab.deb"}, "mmabSource", "https://"),
        ({"mmabSource": "https://example.com/$(reboot)"}, "mmabSource", "https://"),
        ({"mmabSha256": "abc", "mmabSource": "https://example.com/x"}, "mmabSha256", "64 lowercase hex"),
        ({"mmabSha256": "a" * 64}, "mmabSha256", "set mmabSource"),
        ({"keyName": "x" * 256}, "keyName", "key pair"),
        ({"ckptInterval": "1m"}, "ckptInterval", "from 3m to 24h"),
        ({"ecsStopTimeout": "soon"}, "ecsStopTimeout", "duration"),
        ({"rootVolumeGib": 8}, "rootVolumeGib", ">= 30"),
        ({"maxVcpus": 10}, "maxVcpus", "did you mean 'maxvCpus'"),
    ],
)
def test_each_bad_value_is_named_with_what_is_accepted(context: dict, key: str | None, fragment: str | None) -> None:
    found = problems(context)
    assert any(p.startswith(f"{key}: ") and fragment in p for p in found), found


def test_juicefs_in_an_existing_vpc_needs_two_subnets() -> None:
    found = problems({"backend": "juicefs", "vpcId": "vpc-12345678", "subnetIds": "subnet-12345678"})
    assert found == [
        "subnetIds: the juicefs backend needs at least 2 subnets in different availability zones "
        "(MemoryDB keeps a replica in a second zone)"
    ]


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        MmBatchConfig.from_mapping({"backend": "nfs", "maxvCpus": "x", "prefix": "UP", "adminCidr": "0.0.0.0/0"})
    message = str(caught.value)
    assert message.splitlines()[0] == "mmbatch-cdk: 4 settings not valid; nothing was synthesized."
    for key in ("backend", "maxvCpus", "prefix", "adminCidr"):
        assert f"\n  - {key}: " in message


def test_foreign_context_keys_are_ignored() -> None:
    config = MmBatchConfig.from_mapping({"@aws-cdk/core:checkSecretUsage": True, "aws:cdk:enable-path-metadata": True})
    assert config == MmBatchConfig.from_mapping({})


def test_key_pair_without_admin_cidr_warns_that_ssh_stays_closed() -> None:
    assert MmBatchConfig.from_mapping({"keyName": "ops"}).warnings
    assert not MmBatchConfig.from_mapping({"keyName": "ops", "adminCidr": "203.0.113.0/24"}).warnings


def test_every_setting_reads_as_an_attribute_and_by_key() -> None:
    config = MmBatchConfig.from_mapping({})
    for setting in SETTINGS:
        assert getattr(config, setting.attr) == config[setting.key] == setting.default, setting.key


@pytest.mark.parametrize(
    ("instance_type", "arch"),
    [("m6i.large", "x86_64"), ("c7gn.xlarge", "arm64"), ("r8g", "arm64"), ("a1.large", "arm64"),
     ("g5.xlarge", "x86_64"), ("g5g.xlarge", "arm64"), ("x2gd.large", "arm64"), ("m7i-flex.large", "x86_64"),
     # Graviton families whose letters before the generation are more than one: taken for x86_64, a queue of them
     # passed the one-architecture rule beside m6i and its checksums picked the wrong CLI and JuiceFS builds.
     ("im4gn.large", "arm64"), ("is4gen.xlarge", "arm64"), ("hpc7g.4xlarge", "arm64"), ("im4gn", "arm64")],
)
def test_architecture_follows_the_family(instance_type: str, arch: str) -> None:
    assert architecture(instance_type) == arch


def test_every_setting_is_documented_with_its_seed_parameter() -> None:
    seeds = {s.seed for s in SETTINGS if s.seed}
    for parameter in ("UniquePrefix", "VpcId / VPCID", "SecurityGroupId", "KeyName", "InstanceTypes", "MinvCpus",
                      "MaxvCpus", "MMABVersion", "RedisNodeType", "EnableMultiQueue"):
        assert parameter in seeds
    assert all(re.match(r"^[a-z][A-Za-z0-9]+$", s.key) for s in SETTINGS)


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
    # One warning names every such setting once, and each backend once.
    assert [(w.id, w.message) for w in efs.warnings] == [
        ("unusedSetting", "redisNodeType and juicefsMaxUploads have no effect with backend=efs: they apply to the juicefs "
                          "backend only."),
    ]
    juicefs = MmBatchConfig.from_mapping({"backend": "juicefs", "efsThroughputMode": "bursting"})
    assert [w.message for w in juicefs.warnings] == ["efsThroughputMode has no effect with backend=juicefs: it applies to the "
                                                     "efs backend only."]


def test_a_buffer_too_small_for_the_uploads_is_warned_about() -> None:
    small = MmBatchConfig.from_mapping({"backend": "juicefs", "juicefsMaxUploads": 100, "juicefsBufferSizeMib": 300})
    assert any("juicefsBufferSizeMib (300) is below juicefsMaxUploads x juicefsBlockSizeMib (400 MiB)" in w.message
               for w in small.warnings)
    assert MmBatchConfig.from_mapping({"backend": "juicefs"}).warnings == ()


@pytest.mark.parametrize(
    ("context", "fragment"),
    [
        ({"jq1InstanceTypes": "c7i.large,c7g.large"}, "jq1InstanceTypes: mixes CPU architectures"),
        ({"jq2MaxvCpus": "0"}, "jq2MaxvCpus: 0 is out of range"),
        ({"jq3MinvCpus": 64, "jq3MaxvCpus": 32}, "jq3MinvCpus: 64 is greater than jq3MaxvCpus (32)"),
        ({"jq1InstanceTypes": "c7i large"}, "jq1InstanceTypes: 'c7i large' not accepted"),
    ],
)
def test_bad_per_queue_settings_are_named(context: dict, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        MmBatchConfig.from_mapping({"multiQueue": True, **context})
    assert any(p.startswith(fragment) for p in caught.value.problems), caught.value.problems


def test_a_minimum_equal_to_the_maximum_is_accepted() -> None:
    """minvCpus = maxvCpus is a fixed-size queue that keeps its nodes warm: AWS Batch takes it, so the check refuses only
    a minimum above the maximum."""
    single = MmBatchConfig.from_mapping({"minvCpus": 64, "maxvCpus": 64})
    assert (single.queues[0].min_vcpus, single.queues[0].max_vcpus) == (64, 64)
    multi = MmBatchConfig.from_mapping({"multiQueue": True, "jq3MinvCpus": 32, "jq3MaxvCpus": 32})
    assert (multi.queues[2].min_vcpus, multi.queues[2].max_vcpus) == (32, 32)


def test_a_setting_reaches_the_construct_prop_it_declares() -> None:
    config = MmBatchConfig.from_mapping({"managementRootVolumeGib": "64", "rootVolumeGib": 40, "privateOnly": True})
    assert config.props("server")["root_volume_gib"] == 64
    assert config.props("nodes")["root_volume_gib"] == 40
    assert config.props("network")["private_only"] is True


def test_nodes_install_the_pinned_aws_cli_by_default_checked_against_its_checksums() -> None:
    from mmbatch_cdk.aws_cli import AWS_CLI_PINNED_SHA256, AWS_CLI_PINNED_SOURCE, AwsCliInstall

    default = MmBatchConfig.from_mapping({})
    assert default.installs_aws_cli is True
    install = AwsCliInstall(**default.props("awscli"))
    assert install == AwsCliInstall()
    assert (install.source, install.pgp_key_source) == (AWS_CLI_PINNED_SOURCE, None)
    assert (install.sha256_x86_64, install.sha256_aarch64) == (AWS_CLI_PINNED_SHA256["x86_64"], AWS_CLI_PINNED_SHA256["aarch64"])
    checksums_only = MmBatchConfig.from_mapping({"awsCliPgpKeySource": "none", "awsCliSha256X86": "d" * 64})
    assert checksums_only.props("awscli")["pgp_key_source"] is None
    assert MmBatchConfig.from_mapping({"awsCli": "false"}).installs_aws_cli is False
