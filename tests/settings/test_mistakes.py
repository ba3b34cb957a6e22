"""Every class of settings mistake stops synth with a message naming the setting and what is accepted, or, where
the setting is legal but has no effect, warns naming it. One table per class; other cases of each class go in
the same table."""

from __future__ import annotations

from typing import Any

import pytest

from mmbatch_cdk.config import SETTINGS, ConfigError, MmBatchConfig

X86, ARM = "a" * 64, "b" * 64


def problems(context: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        MmBatchConfig.from_mapping(context)
    return caught.value.problems


def warning_texts(context: dict[str, Any]) -> list[str]:
    return [w.text for w in MmBatchConfig.from_mapping(context).warnings]


def assert_named(found: list[str], key: str, fragment: str) -> None:
    assert any(p.startswith(f"{key}: ") and fragment in p for p in found), found


# ----------------------------------------------------------------------------- keys that are not settings

@pytest.mark.parametrize(("key", "fragment"), [
    ("MaxvCpus", "did you mean 'maxvCpus'?"),
    ("maxvcpus", "did you mean 'maxvCpus'?"),
    ("MAXVCPUS", "did you mean 'maxvCpus'?"),
    ("maxVcpus", "did you mean 'maxvCpus'?"),
    ("instancetype", "did you mean 'instanceTypes'?"),
    ("juicefsCache", "did you mean 'juicefsCacheGib'?"),
    ("Backend", "did you mean 'backend'?"),
    ("region", "unknown setting; the accepted keys are listed in docs/reference/settings.md"),
    ("enableMultiQueue", "unknown setting"),
])
def test_a_key_that_is_no_setting_stops_synth(key: str, fragment: str) -> None:
    assert_named(problems({key: "1"}), key, fragment)


@pytest.mark.parametrize("key", ["@aws-cdk/core:checkSecretUsage", "aws:cdk:enable-path-metadata", "aws-cdk:x"])
def test_cdks_own_keys_are_left_alone(key: str) -> None:
    assert MmBatchConfig.from_mapping({key: True}).warnings == ()


# ----------------------------------------------------------------------------- settings without effect

@pytest.mark.parametrize(("context", "key", "why"), [
    ({"jq2MaxvCpus": 64}, "jq2MaxvCpus", "has no effect without multiQueue=true: it sets queues JQ1-JQ3"),
    ({"jq1InstanceTypes": "c7i.large"}, "jq1InstanceTypes", "has no effect without multiQueue=true"),
    ({"multiQueue": True, "instanceTypes": "c7i.large"}, "instanceTypes", "has no effect with multiQueue=true: it sets the single queue"),
    ({"multiQueue": True, "maxvCpus": 64}, "maxvCpus", "and jq1-jq3 settings set the three queues"),
    ({"juicefsCacheGib": 10}, "juicefsCacheGib", "has no effect with backend=efs: it applies to the juicefs backend only"),
    ({"redisNodeType": "db.r7g.large"}, "redisNodeType", "it applies to the juicefs backend only"),
    ({"backend": "juicefs", "efsThroughputMode": "bursting"}, "efsThroughputMode", "with backend=juicefs: it applies to the efs backend only"),
])
def test_a_setting_without_effect_is_named_in_a_warning(context: dict[str, Any], key: str, why: str) -> None:
    texts = warning_texts(context)
    assert any(t.startswith(f"{key} has no effect ") and why in t for t in texts), texts
    assert all("-c acknowledge=unusedSetting" in t for t in texts if "has no effect" in t)


def test_a_setting_without_effect_is_still_validated_for_its_own_value() -> None:
    assert_named(problems({"jq2MaxvCpus": "many"}), "jq2MaxvCpus", "whole number")


# ----------------------------------------------------------------------------- values AWS would reject

@pytest.mark.parametrize(("context", "key", "fragment"), [
    ({"rootVolumeGib": 16385}, "rootVolumeGib", "<= 16384"),
    ({"backend": "juicefs", "juicefsCacheGib": 7400, "rootVolumeGib": 200}, "rootVolumeGib", "over gp3's limit of 16384 GiB"),
    ({"instanceTypes": "a1.large,a1.xlarge"}, "instanceTypes", "Amazon Linux 2023"),
    ({"multiQueue": True, "jq3InstanceTypes": "a1"}, "jq3InstanceTypes", "Amazon Linux 2023"),
    ({"instanceTypes": "m6i.huge"}, "instanceTypes", "'m6i.huge' not accepted"),
    ({"managementInstanceType": "m6i"}, "managementInstanceType", "with its size"),
    ({"efsThroughputMode": "provisioned", "efsProvisionedMibps": 5000}, "efsProvisionedMibps", "<= 3414"),
    ({"backend": "juicefs", "redisNodeType": "db.r6gd.xlarge"}, "redisNodeType", "data tiering"),
    ({"backend": "juicefs", "redisNodeType": "db.m7g.large"}, "redisNodeType", "not a MemoryDB node type"),
    ({"juicefsCacheGib": 9000, "backend": "juicefs"}, "juicefsCacheGib", "<= 7400"),
    ({"ecsStopTimeout": "2h"}, "ecsStopTimeout", "from 30s to 1h"),
])
def test_a_value_aws_would_reject_stops_synth(context: dict[str, Any], key: str, fragment: str) -> None:
    assert_named(problems(context), key, fragment)


def test_an_out_of_range_value_is_reported_once() -> None:
    found = problems({"efsThroughputMode": "provisioned", "efsProvisionedMibps": 5000})
    assert len(found) == 1, found


# ----------------------------------------------------------------------------- one value for two places

@pytest.mark.parametrize(("context", "fragment"), [
    ({"instanceTypes": "m7g.large", "juicefsSha256": X86}, "one checksum cannot match both"),
    ({"multiQueue": True, "jq3InstanceTypes": "r7g.large", "juicefsSha256": X86}, "one checksum cannot match both"),
    ({"instanceTypes": "m7g.large", "juicefsSha256": f"amd64:{X86}"}, "no checksum for arm64"),
    ({"managementInstanceType": "m7g.large", "juicefsSha256": f"amd64:{X86}"}, "no checksum for arm64"),
    ({"juicefsSha256": f"amd64:{X86},riscv:{ARM}"}, "amd64:<sha256>,arm64:<sha256>"),
])
def test_one_checksum_for_two_architectures_stops_synth(context: dict[str, Any], fragment: str) -> None:
    assert_named(problems({"backend": "juicefs", **context}), "juicefsSha256", fragment)


@pytest.mark.parametrize("value", [X86, f"amd64:{X86}", f"x86_64:{X86}"])
def test_a_checksum_for_each_architecture_in_use_is_accepted(value: str) -> None:
    MmBatchConfig.from_mapping({"backend": "juicefs", "juicefsSha256": value})


def test_per_architecture_checksums_reach_the_storage_construct() -> None:
    config = MmBatchConfig.from_mapping(
        {"backend": "juicefs", "instanceTypes": "m7g.large", "juicefsSha256": f"amd64:{X86},arm64:{ARM}"})
    assert config.props("juicefs")["juicefs_sha256"] == {"x86_64": X86, "arm64": ARM}
    assert MmBatchConfig.from_mapping({"backend": "juicefs", "juicefsSha256": X86}).props("juicefs")["juicefs_sha256"] == X86


# ----------------------------------------------------------------------------- messages that contradict themselves

@pytest.mark.parametrize("setting", [s for s in SETTINGS if s.key in ("ckptInterval", "ecsStopTimeout", "ecsStartTimeout",
                                                                      "ecsCreateTimeout")], ids=lambda s: s.key)
def test_a_duration_error_offers_examples_that_are_accepted(setting) -> None:
    for rejected in ("1s", "90s", "25h", "soon"):
        found = [p for p in _problems_or_none({setting.key: rejected}) if p.startswith(setting.key)]
        if not found:
            continue
        examples = found[0].split("such as ")[1].split(" (")[0].split(" or ")
        assert rejected not in examples
        for example in examples:
            MmBatchConfig.from_mapping({setting.key: example})


@pytest.mark.parametrize("value", ["1d", "15min", "1h30", "90sec", "2 h"])
def test_a_duration_go_cannot_parse_stops_synth(value: str) -> None:
    """MMAB and the ECS agent read these with Go's time.ParseDuration, which knows no days and no trailing text: a value
    taken here (1d is within ckptInterval's 3m to 24h) would reach them and fail there, on every node, after deploy."""
    for key in ("ckptInterval", "ecsStopTimeout"):
        assert_named(problems({key: value}), key, "is not accepted; expected a duration")


def _problems_or_none(context: dict[str, Any]) -> list[str]:
    try:
        MmBatchConfig.from_mapping(context)
    except ConfigError as err:
        return err.problems
    return []


@pytest.mark.parametrize(("keyword", "arch"), [("optimal", "x86_64"), ("default_x86_64", "x86_64"), ("default_arm64", "arm64")])
def test_aws_batch_keywords_are_accepted_with_their_architecture(keyword: str, arch: str) -> None:
    assert MmBatchConfig.from_mapping({"instanceTypes": keyword}).queues[0].instance_types == (keyword,)
    other = "m7g.large" if arch == "x86_64" else "m6i.large"
    assert_named(problems({"instanceTypes": f"{keyword},{other}"}), "instanceTypes", "mixes CPU architectures")


# ----------------------------------------------------------------------------- GPU instance types

@pytest.mark.parametrize(("types", "fragment"), [
    ("g5.xlarge,g6.xlarge", "mixes GPU models"),
    ("g5.xlarge,m6i.large", "mixes GPU types (g5.xlarge) with CPU types (m6i.large)"),
    ("g5.12xlarge", "more than one GPU"),
    ("p3.8xlarge", "more than one GPU"),
    ("g5", "bare GPU family"),
    ("p4d.24xlarge", "not an NVIDIA x86_64 GPU family mmbatch-cdk supports"),
    ("g4ad.xlarge", "not an NVIDIA x86_64 GPU family mmbatch-cdk supports"),
    # gr6 (G6's NVIDIA L4 with more memory per vCPU) is a GPU family too: taken for a CPU type, it passed, and its
    # nodes booted the CPU image, where the GPU is of no use.
    ("gr6.4xlarge", "not an NVIDIA x86_64 GPU family mmbatch-cdk supports"),
])
def test_gpu_queues_of_one_single_gpu_model_only(types: str, fragment: str) -> None:
    assert_named(problems({"instanceTypes": types}), "instanceTypes", fragment)


def test_a_single_gpu_model_queue_is_accepted() -> None:
    MmBatchConfig.from_mapping({"instanceTypes": "g5.xlarge,g5.2xlarge,g5.4xlarge"})


# ----------------------------------------------------------------------------- address ranges and existing VPCs

@pytest.mark.parametrize(("cidr", "fragment"), [
    ("8.0.0.0/8", "far more than one organisation owns"),
    ("2600::/16", "far more than one organisation owns"),
    ("0.0.0.0/0", "whole internet"),
])
def test_an_admin_range_far_larger_than_an_organisation_stops_synth(cidr: str, fragment: str) -> None:
    assert_named(problems({"adminCidr": cidr}), "adminCidr", fragment)


def test_a_wide_private_admin_range_warns() -> None:
    texts = warning_texts({"adminCidr": "10.0.0.0/8"})
    assert any("16,777,216 private addresses" in t and "-c acknowledge=adminCidrWide" in t for t in texts), texts
    assert warning_texts({"adminCidr": "203.0.113.0/24"}) == []


def test_a_private_admin_range_warns_from_more_than_a_slash_16() -> None:
    """The edge of adminCidrWide: a /16 (65,536 addresses, one site's network) passes quietly, anything wider warns,
    172.16.0.0/12 (all of RFC 1918's middle block) among them; a threshold moved by a few bits let such a range reach
    the dashboard and API unremarked."""
    assert [w.id for w in MmBatchConfig.from_mapping({"adminCidr": "10.1.0.0/16"}).warnings] == []
    for wide in ("10.0.0.0/15", "172.16.0.0/12"):
        assert [w.id for w in MmBatchConfig.from_mapping({"adminCidr": wide}).warnings] == ["adminCidrWide"], wide


def test_private_only_with_an_existing_vpc_says_what_happens() -> None:
    texts = warning_texts({"vpcId": "vpc-12345678", "subnetIds": "subnet-12345678", "privateOnly": True})
    assert any("compute nodes get one whenever your subnets assign public IPs" in t for t in texts), texts


# ----------------------------------------------------------------------------- warnings a command-line user can act on

@pytest.mark.parametrize("context", [
    {"keyName": "ops"},
    {"jq1MaxvCpus": 8},
    {"backend": "juicefs", "juicefsMaxUploads": 100},
    {"adminCidr": "10.0.0.0/8"},
])
def test_every_warning_says_how_to_accept_it_and_accepting_silences_it(context: dict[str, Any]) -> None:
    (warning,) = MmBatchConfig.from_mapping(context).warnings
    assert warning.text.endswith(f"To accept it: -c acknowledge={warning.id}.")
    assert MmBatchConfig.from_mapping({**context, "acknowledge": warning.id}).warnings == ()
    assert MmBatchConfig.from_mapping({**context, "acknowledge": f"Annotation::mmbatch:{warning.id}"}).warnings == ()


def test_acknowledging_an_unknown_warning_stops_synth() -> None:
    assert_named(problems({"acknowledge": "checkpointTime,nope"}), "acknowledge", "'nope' is not a warning mmbatch-cdk raises")


# ----------------------------------------------------------------------------- observability and cost settings

@pytest.mark.parametrize(("context", "key", "fragment"), [
    ({"monthlyBudgetUsd": 100}, "monthlyBudgetUsd", "set alarmEmail too"),
    ({"monthlyBudgetUsd": 0, "alarmEmail": "ops@example.org"}, "monthlyBudgetUsd", ">= 0.01"),
    ({"alarmEmail": "ops"}, "alarmEmail", "an email address"),
    ({"tags": "team"}, "tags", "key=value"),
    ({"tags": {"aws:x": "1"}}, "tags", "not starting with aws:"),
    ({"logRetentionDays": 45}, "logRetentionDays", "one of: 1, 3, 5"),
    ({"runnableTimeoutMinutes": 5}, "runnableTimeoutMinutes", ">= 10"),
    ({"cloudWatchAgentServerSource": "dnf"}, "cloudWatchAgentServerSource", "Ubuntu"),
    ({"alarmEfsPercentIoLimit": 150}, "alarmEfsPercentIoLimit", "<= 100"),
])
def test_observability_settings_name_what_is_accepted(context: dict[str, Any], key: str, fragment: str) -> None:
    assert_named(problems(context), key, fragment)


def test_tags_from_the_command_line_and_from_cdk_json_agree() -> None:
    cli = MmBatchConfig.from_mapping({"tags": "team=genomics, project=rnaseq"})
    json_form = MmBatchConfig.from_mapping({"tags": {"team": "genomics", "project": "rnaseq"}})
    assert cli.props("cost") == json_form.props("cost") == {"tags": {"team": "genomics", "project": "rnaseq"}}


OTHER_CLI = "https://awscli.amazonaws.com/awscli-exe-linux-{arch}-2.40.0.zip"


@pytest.mark.parametrize(("context", "key", "fragment"), [
    ({"instanceTypes": "m7g.large", "awsCliSha256X86": X86, "awsCliSource": OTHER_CLI}, "awsCliSha256Arm64",
     "checksum for each architecture the queues use (arm64)"),
    ({"awsCliSource": OTHER_CLI, "awsCliPgpKeySource": "none"}, "awsCliSha256X86", "whose checksums are the defaults"),
    ({"awsCli": False, "awsCliSha256X86": X86}, "awsCliSha256X86", "only used when nodes install the AWS CLI"),
    # Every queue's architecture counts, not the first queue's: jq3's Graviton nodes would fail the x86 checksum.
    ({"multiQueue": True, "jq3InstanceTypes": "r7g.large", "awsCliSha256X86": X86, "awsCliSource": OTHER_CLI},
     "awsCliSha256Arm64", "checksum for each architecture the queues use (arm64, x86_64)"),
    ({"cloudWatchAgentNodeSource": "https://example.org/agent-{arch}.deb"}, "cloudWatchAgentNodeSource", ".rpm"),
    ({"cloudWatchAgentNodeSource": "https://example.org/agent-{arch}.DEB"}, "cloudWatchAgentNodeSource", ".rpm"),
    ({"cloudWatchAgentNodeSource": "https://example.org/agent"}, "cloudWatchAgentNodeSource", "ending in .rpm"),
    ({"cloudWatchAgentNodeSource": "https://example.org/agent.RPM"}, "cloudWatchAgentNodeSource", "ending in .rpm"),
    ({"cloudWatchAgentNodeSource": "https://b.s3.amazonaws.com/agent.rpm?X-Amz-Signature=a"}, "cloudWatchAgentNodeSource",
     "no query string"),
    # cloudwatch_agent.sh picks dpkg by the file name's .deb: anything else went to dnf, which Ubuntu does not have.
    ({"cloudWatchAgentServerSource": "https://example.org/agent.rpm"}, "cloudWatchAgentServerSource", "ending in .deb"),
    ({"cloudWatchAgentServerSource": "https://example.org/agent.DEB"}, "cloudWatchAgentServerSource", "ending in .deb"),
    ({"cloudWatchAgentServerSource": "https://b.s3.amazonaws.com/agent.deb?X-Amz-Signature=abc"}, "cloudWatchAgentServerSource",
     "no query string"),
    ({"multiQueue": True, "jq3InstanceTypes": "r7g.large", "cloudWatchAgentNodeSource": "s3://my-artifacts/agent-{arch}.rpm",
      "cloudWatchAgentNodeSha256": X86}, "cloudWatchAgentNodeSha256", "both architectures"),
    ({"drill": True, "spot": False}, "drill", "spot=false runs On-Demand nodes only"),
])
def test_one_value_cannot_serve_two_places_and_a_drill_needs_spot(context: dict[str, Any], key: str, fragment: str) -> None:
    assert_named(problems(context), key, fragment)


@pytest.mark.parametrize("value", ["59", "3601", "ten", "true"])
def test_boot_check_seconds_is_bounded(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        MmBatchConfig.from_mapping({"bootCheckSeconds": value})
    (problem,) = caught.value.problems
    assert problem.startswith("bootCheckSeconds: ") and "60" in problem and "3600" in problem
