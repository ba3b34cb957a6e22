"""Values past what AWS accepts, repeated keys, empty values and lists that lost an item: each refused by name, once.

Where a bound is AWS's, the construct that uses the value checks the same bound (one fact, one check): the tests below
compare the two, so a bound changed in one place only fails here."""

from __future__ import annotations

import re
from typing import Any

import pytest

from mmbatch_cdk import cost, monitoring
from mmbatch_cdk.config import SETTINGS, ConfigError, MmBatchConfig
from mmbatch_cdk.job_definition import validate_spot_attempts

from ..conftest import CONFIGS
from .test_mistakes import assert_named, problems

X86, ARM = "a" * 64, "b" * 64


def accepted(context: dict[str, Any]) -> bool:
    try:
        MmBatchConfig.from_mapping(context)
    except ConfigError:
        return False
    return True


# ----------------------------------------------------------------------------- one bound, in one place

def test_spot_attempts_of_one_is_refused_by_the_settings_in_the_job_definitions_words() -> None:
    found = problems({"spotAttempts": "1"})
    assert found == ["spotAttempts: 1 is not accepted; expected an integer from 2 to 10 (AWS Batch attempts: the first run "
                     "plus the retries a Spot reclaim may use; MMBatch restores into a retry)"]
    with pytest.raises(ValueError) as construct:
        validate_spot_attempts(1, "CheckpointedJobDefinition")
    assert str(construct.value) == "CheckpointedJobDefinition: spot_attempts " + found[0].partition(": ")[2]


@pytest.mark.parametrize("attempts", range(0, 13))
def test_the_setting_accepts_exactly_the_spot_attempts_the_construct_accepts(attempts: int) -> None:
    try:
        validate_spot_attempts(attempts)
        construct_ok = True
    except ValueError:
        construct_ok = False
    assert accepted({"spotAttempts": str(attempts)}) == construct_ok
    assert construct_ok == (2 <= attempts <= 10), "AWS Batch: 1-10 attempts; one is no retry, so nothing restores"


@pytest.mark.parametrize("key", ["runnableTimeoutMinutes", "misconfiguredTimeoutMinutes"])
def test_runnable_time_limits_take_aws_batchs_bounds_from_the_construct(key: str) -> None:
    low, high = (s // 60 for s in monitoring.TIME_LIMIT_RANGE_S)
    assert (low, high) == (10, 1440)  # AWS Batch maxTimeSeconds: 600 to 86,400
    assert accepted({key: low}) and accepted({key: high})
    assert_named(problems({key: low - 1}), key, f">= {low} and <= {high}")
    assert_named(problems({key: high + 1}), key, f">= {low} and <= {high}")


@pytest.mark.parametrize("key", ["alarmEfsPercentIoLimit", "alarmMemoryDbCpuPercent", "alarmMemoryDbEngineCpuPercent",
                                 "alarmMemoryDbMemoryPercent"])
def test_percent_thresholds_are_what_the_monitoring_construct_takes(key: str) -> None:
    backend = {"backend": "juicefs"} if "MemoryDb" in key else {}
    assert accepted({**backend, key: 0.5}), "the construct takes any percentage above 0"
    assert_named(problems({**backend, key: 0}), key, "> 0 and <= 100")
    assert_named(problems({**backend, key: 100.5}), key, "<= 100")


# ----------------------------------------------------------------------------- values no template may carry

@pytest.mark.parametrize(("context", "key"), [
    ({"monthlyBudgetUsd": "inf", "alarmEmail": "ops@example.org"}, "monthlyBudgetUsd"),
    ({"monthlyBudgetUsd": "1e999", "alarmEmail": "ops@example.org"}, "monthlyBudgetUsd"),
    ({"monthlyBudgetUsd": "nan", "alarmEmail": "ops@example.org"}, "monthlyBudgetUsd"),
    ({"alarmEfsBurstCreditGib": "Infinity"}, "alarmEfsBurstCreditGib"),
])
def test_a_number_json_cannot_write_is_refused(context: dict[str, Any], key: str) -> None:
    assert_named(problems(context), key, "a number")


@pytest.mark.parametrize("key", ["maxvCpus", "minvCpus", "jq1MaxvCpus"])
def test_vcpus_past_an_aws_api_integer_are_refused(key: str) -> None:
    context = {"multiQueue": True} if key.startswith("jq") else {}
    assert_named(problems({**context, key: 2**31}), key, "<= 2147483647")


def test_more_tags_than_aws_allows_on_a_resource_are_refused_by_count() -> None:
    many = {f"k{n}": "v" for n in range(cost.MAX_USER_TAGS + 1)}
    assert problems({"tags": many}) == [f"tags: {cost.MAX_USER_TAGS + 1} tags given; expected at most 46 tags (AWS allows 50 "
                                        "per resource, and mmbatch-cdk uses up to 4)"]
    assert accepted({"tags": dict(list(many.items())[:cost.MAX_USER_TAGS])})


@pytest.mark.parametrize("name", ["efs", "efs-existing-vpc"])
def test_no_resource_carries_more_of_the_apps_own_tags_than_the_tag_limit_leaves_for(synth: Any, name: str) -> None:
    user = set(MmBatchConfig.from_mapping(CONFIGS[name]).values["tags"])

    def own(tags: Any) -> int:
        keys = [t["Key"] for t in tags] if isinstance(tags, list) else list(tags)
        return len([k for k in keys if k not in user])

    def walk(node: Any) -> list[int]:
        if isinstance(node, dict):
            found = [own(v) for k, v in node.items() if k == "Tags" and isinstance(v, (list, dict))]
            return found + [n for v in node.values() for n in walk(v)]
        return [n for v in node for n in walk(v)] if isinstance(node, list) else []

    counts = walk(synth(name).template["Resources"])
    assert counts and max(counts) <= 50 - cost.MAX_USER_TAGS



@pytest.mark.parametrize("key", [*cost.OWN_TAG_KEYS, cost.PREFIX_TAG.upper(), "Mmbatch-Stack"])
def test_a_tag_key_of_the_apps_own_is_refused_as_it_would_replace_the_apps_tag(key: str) -> None:
    """mmbatch:prefix feeds the budget's filter, mmbatch-stack and mmbatch:queue the drill's targets and the tag-scoped
    permissions: a user tag of the same key (in any case) would replace the app's on every resource it reaches."""
    own = next(k for k in cost.OWN_TAG_KEYS if k.lower() == key.lower())
    assert_named(problems({"tags": {key: "x"}}), "tags", f"tag key {key!r} is mmbatch-cdk's own ({own}, set by the app)")


@pytest.mark.parametrize("tags", [{"Team": "a", "team": "b"}, "Team=a,team=b"])
def test_tag_keys_that_differ_only_in_case_are_refused_as_iam_refuses_them(tags: Any) -> None:
    assert_named(problems({"tags": tags}), "tags", "tag keys 'Team' and 'team' differ only in case")


def test_the_construct_refuses_the_tags_the_setting_refuses_in_the_same_words() -> None:
    """One check (cost.tags_problem) behind the ``tags`` setting and ``apply_cost_tags``."""
    import aws_cdk as cdk

    for tags in ({"mmbatch:queue": "x"}, {"Team": "a", "team": "b"}):
        (found,) = problems({"tags": tags})
        with pytest.raises(ValueError) as construct:
            cost.apply_cost_tags(cdk.Stack(), "mmbatch", tags)
        assert str(construct.value) == found


# ----------------------------------------------------------------------------- repeated keys in map-valued settings

@pytest.mark.parametrize(("context", "key", "fragment"), [
    ({"tags": "team=a,team=b"}, "tags", "tag 'team' is given more than once ('a', 'b')"),
    ({"backend": "juicefs", "juicefsSha256": f"amd64:{X86},amd64:{ARM}"}, "juicefsSha256", "x86_64 is given more than once"),
    ({"backend": "juicefs", "juicefsSha256": f"amd64:{X86},x86_64:{ARM}"}, "juicefsSha256", "x86_64 is given more than once"),
])
def test_a_key_given_twice_in_a_map_is_refused_rather_than_the_last_winning(context: dict[str, Any], key: str,
                                                                             fragment: str) -> None:
    assert_named(problems(context), key, fragment)


# ----------------------------------------------------------------------------- empty values and lost list items

@pytest.mark.parametrize("setting", [s for s in SETTINGS if s.key not in ("backend",)], ids=lambda s: s.key)
def test_an_empty_value_is_refused_by_name_not_read_as_the_default(setting: Any) -> None:
    found = problems({setting.key: "  "})
    assert found == [found[0]] and found[0].startswith(f"{setting.key}: the value is empty; give a value, or leave "
                                                       f"{setting.key} out for its default")


def test_an_empty_backend_names_the_default_it_would_have_had() -> None:
    assert problems({"backend": ""}) == ["backend: the value is empty; give a value, or leave backend out for its default (efs)"]


@pytest.mark.parametrize(("key", "value"), [
    ("instanceTypes", "m6i.large,"),        # -c instanceTypes=m6i.large, c6i.large: the shell passed "m6i.large,"
    ("instanceTypes", "m6i.large,,c6i.large"),
    ("subnetIds", ",subnet-12345678"),
    ("acknowledge", "checkpointTime,"),
    ("tags", "team=genomics,"),
    ("juicefsSha256", f"amd64:{X86},"),
])
def test_a_list_that_lost_an_item_to_shell_quoting_is_refused(key: str, value: str) -> None:
    context = {"vpcId": "vpc-12345678"} if key == "subnetIds" else {"backend": "juicefs"} if key == "juicefsSha256" else {}
    assert_named(problems({**context, key: value}), key, "has an empty item")
    assert_named(problems({**context, key: value}), key, "quote it")


def test_spaces_after_commas_inside_a_quoted_value_are_fine() -> None:
    config = MmBatchConfig.from_mapping({"instanceTypes": "m6i.large, c6i.large", "tags": "team=a, project=b"})
    assert config.queues[0].instance_types == ("m6i.large", "c6i.large")
    assert config.values["tags"] == {"team": "a", "project": "b"}


# ----------------------------------------------------------------------------- one setting, one message

def test_a_setting_that_does_not_parse_gets_no_second_message_about_its_default() -> None:
    # Before: logRetentionDays kept its default (30) and the compliance check then reported 30 as well.
    found = problems({"compliance": "hipaa", "privateOnly": True, "logRetentionDays": "a year"})
    assert len(found) == 1 and found[0].startswith("logRetentionDays: 'a year' is not accepted"), found


def test_a_check_never_names_a_value_the_user_did_not_pass() -> None:
    # Before: "minvCpus: 500 is greater than maxvCpus (256)", 256 being the default that stood in for "lots".
    found = problems({"minvCpus": 500, "maxvCpus": "lots"})
    assert found == ["maxvCpus: 'lots' is not accepted; expected a whole number >= 1 and <= 2147483647"], found


def test_the_head_line_counts_settings_not_messages() -> None:
    with pytest.raises(ConfigError) as caught:
        MmBatchConfig.from_mapping({"vpcId": "vpc-12345678", "subnetIds": "subnet-12345678", "backend": "juicefs",
                                    "rootVolumeGib": 8})
    err = caught.value
    assert len(err.problems) == 2 and str(err).startswith("mmbatch-cdk: 2 settings not valid")
    two_about_one = ConfigError(["tags: first", "tags: second"])
    assert str(two_about_one).startswith("mmbatch-cdk: 1 setting not valid;")


# ----------------------------------------------------------------------------- every numeric bound, stated once more here

NUMERIC_BOUNDS = {
    # key: (lowest accepted, highest accepted or None), and where the bound comes from.
    "computeAzCount": (1, 3),  # a new VPC's zones: availabilityZones takes at most 3
    "managementRootVolumeGib": (8, 16384),  # the Ubuntu AMI's 8 GiB snapshot; gp3's 16 TiB
    "rootVolumeGib": (30, 16384),  # the ECS-optimized AMI's 30 GiB snapshot; gp3's 16 TiB
    "juicefsCacheGib": (1, 7400),
    "juicefsMaxUploads": (1, 200),
    "juicefsBufferSizeMib": (32, 16384),
    "efsProvisionedMibps": (1, 3414),  # EFS provisioned throughput: 1 to 3,414 MiB/s without a quota increase
    "agentWaitSeconds": (60, 3600),
    "bootCheckSeconds": (60, 3600),
    "infrastructureUpdateMinutes": (1, 360),  # Batch UpdatePolicy.jobExecutionTimeoutMinutes
    "workExpiryDays": (1, 3650),
    "headQueueMaxvCpus": (1, 4096),
    "runnableTimeoutMinutes": (10, 1440),  # Batch jobStateTimeLimitActions maxTimeSeconds: 600 to 86,400
    "misconfiguredTimeoutMinutes": (10, 1440),
    "alarmFailedJobs": (1, None),
    "alarmRunnableCancellations": (1, None),
    "alarmSpotInterruptionsPerHour": (1, None),
    "alarmBootFailures": (1, None),
    "minvCpus": (0, 2**31 - 1),  # CloudFormation Integer: 32-bit
    "maxvCpus": (1, 2**31 - 1),
    **{f"jq{n}{key}": bounds for n in (1, 2, 3) for key, bounds in (("MinvCpus", (0, 2**31 - 1)), ("MaxvCpus", (1, 2**31 - 1)))},
}
"""The bounds each whole-number setting must keep: a bound changed in the table alone fails here."""

_BY_KEY = {s.key: s for s in SETTINGS}


def test_every_setting_read_by_the_whole_number_parser_has_its_bounds_stated_here() -> None:
    integers = {s.key for s in SETTINGS if s.parse.__qualname__.startswith("_integer.")}
    assert integers == set(NUMERIC_BOUNDS)


@pytest.mark.parametrize(("key", "bounds"), NUMERIC_BOUNDS.items(), ids=list(NUMERIC_BOUNDS))
def test_a_whole_number_setting_takes_its_bounds_and_refuses_one_past_each_by_naming_them(key: str, bounds: Any) -> None:
    low, high = bounds
    parse = _BY_KEY[key].parse
    assert parse(str(low)) == low
    expected = f"expected a whole number >= {low}" + (f" and <= {high}" if high is not None else "")
    with pytest.raises(ValueError, match=f"^{low - 1} is out of range; {expected}$"):
        parse(str(low - 1))
    if high is not None:
        assert parse(str(high)) == high
        with pytest.raises(ValueError, match=f"^{high + 1} is out of range; {expected}$"):
            parse(str(high + 1))


DECIMAL_BOUNDS = {
    # key: (bound, highest accepted, whether the bound itself is refused), and where they come from.
    "monthlyBudgetUsd": (0.01, 1e20, False),  # cost.BUDGET_USD_RANGE: Budgets' Spend.Amount takes no exponent
    "alarmEfsBurstCreditGib": (0, 1e9, True),  # monitoring.EFS_BURST_CREDIT_GIB_RANGE: bytes stay finite
    **{key: (0, 100, True) for key in ("alarmEfsPercentIoLimit", "alarmMemoryDbCpuPercent",
                                       "alarmMemoryDbEngineCpuPercent", "alarmMemoryDbMemoryPercent")},
}
"""The bounds each decimal setting must keep."""


def test_every_setting_read_by_the_decimal_parser_has_its_bounds_stated_here() -> None:
    assert {s.key for s in SETTINGS if s.parse.__qualname__.startswith("_number.")} == set(DECIMAL_BOUNDS)


@pytest.mark.parametrize(("key", "bounds"), DECIMAL_BOUNDS.items(), ids=list(DECIMAL_BOUNDS))
def test_a_decimal_setting_takes_its_bounds_and_refuses_past_each_by_naming_them(key: str, bounds: Any) -> None:
    low, high, above = bounds
    parse = _BY_KEY[key].parse
    expected = f"expected a number {'>' if above else '>='} {low:g} and <= {high:g}"
    assert parse(high) == high and parse(str(low + 0.5)) == low + 0.5
    for refused in ([low] if above else [low / 2]) + [high * 1.5, 1e300]:
        with pytest.raises(ValueError, match=f"^{re.escape(repr(refused))} is out of range; {re.escape(expected)}$"):
            parse(refused)


@pytest.mark.parametrize("value", ["subnet-123456789", "subnet-0123456789abcdef", "subnet-0123456789ABCDEF0"])
def test_a_subnet_id_of_neither_aws_length_is_refused(value: str) -> None:
    """EC2 resource ids carry 8 (older) or 17 lowercase hex digits; nothing in between."""
    assert_named(problems({"vpcId": "vpc-12345678", "subnetIds": value}), "subnetIds", repr(value))


def test_a_miniwdl_access_point_without_its_file_system_is_refused_by_name() -> None:
    assert_named(problems({"miniwdlEfsAccessPointId": "fsap-0123456789abcdef0"}), "miniwdlEfsFileSystemId",
                 "required with miniwdlEfsAccessPointId")


def test_fatal_shutdown_minutes_says_what_it_takes() -> None:
    assert problems({"fatalShutdownMinutes": "soon"}) == [
        "fatalShutdownMinutes: 'soon' is not accepted; expected whole minutes from 0 to 60, or never"]


@pytest.mark.parametrize(("value", "expected"), [("0", 0), ("60", 60), ("never", None), ("Never", None)])
def test_fatal_shutdown_minutes_takes_zero_to_sixty_or_never(value: str, expected: Any) -> None:
    assert _BY_KEY["fatalShutdownMinutes"].parse(value) == expected


@pytest.mark.parametrize("value", ["61", "-1"])
def test_fatal_shutdown_minutes_one_past_either_end_is_refused_by_name(value: str) -> None:
    """A failed node past an hour is a forgotten, gated node still billed; a negative delay is no shutdown time."""
    assert problems({"fatalShutdownMinutes": value}) == [
        f"fatalShutdownMinutes: {value!r} is not accepted; expected whole minutes from 0 to 60, or never"]


@pytest.mark.parametrize(("cidr", "refused"), [("11.0.0.0/15", True), ("11.0.0.0/16", False),
                                               ("2600::/31", True), ("2600::/32", False)])
def test_a_public_admin_range_may_be_at_most_a_slash_16_or_an_ipv6_slash_32(cidr: str, refused: bool) -> None:
    """About what one organisation holds (a /16, an IPv6 /32 allocation); wider public ranges are someone else's too."""
    if refused:
        assert_named(problems({"adminCidr": cidr}), "adminCidr", "far more than one organisation owns")
    else:
        assert accepted({"adminCidr": cidr})


@pytest.mark.parametrize(("types", "refused"), [("m6i.1xlarge", True), ("m6i.01xlarge", True), ("m6i.xlarge", False),
                                                ("m6i.2xlarge", False), ("m6i.12xlarge", False), ("m7i.metal-24xl", False)])
def test_an_instance_size_ec2_does_not_name_is_refused(types: str, refused: bool) -> None:
    """EC2's sizes go xlarge, 2xlarge, ...: there is no 1xlarge, which Batch would refuse at deploy."""
    if refused:
        assert_named(problems({"instanceTypes": types}), "instanceTypes", repr(types))
    else:
        assert accepted({"instanceTypes": types})


_SOURCE_SETTINGS = ["mmabSource", "juicefsSource", "awsCliSource", "awsCliPgpKeySource", "cloudWatchAgentNodeSource",
                    "cloudWatchAgentServerSource"]
"""Every setting that takes an https:// or s3:// package location."""


@pytest.mark.parametrize("key", _SOURCE_SETTINGS)
@pytest.mark.parametrize("bucket", ["my..bucket", "192.168.1.1", "My-Bucket", "xn--bucket"])
def test_an_s3_source_in_a_bucket_s3_cannot_name_is_refused(key: str, bucket: str) -> None:
    """S3's general purpose bucket naming rules, as workBucket applies them (workspace.bucket_name_problem)."""
    value = f"s3://{bucket}/tools/package.deb"
    assert_named(problems({key: value}), key, repr(value))


@pytest.mark.parametrize("value", ["1e3", "1e-300", "1_000", "\u0661\u0660\u0660", "0x10", "nan", "inf"])
def test_a_number_given_as_text_is_a_plain_decimal(value: str) -> None:
    """As the whole-number settings read text: float() alone takes exponents, underscores and other scripts' digits."""
    assert_named(problems({"monthlyBudgetUsd": value, "alarmEmail": "ops@example.org"}), "monthlyBudgetUsd", repr(value))


@pytest.mark.parametrize(("value", "number"), [(" 1250.50 ", 1250.5), (".5", 0.5), ("+5", 5), ("5.", 5), (12, 12), (1e3, 1000)])
def test_a_plain_decimal_budget_is_taken_as_given(value: Any, number: float) -> None:
    config = MmBatchConfig.from_mapping({"monthlyBudgetUsd": value, "alarmEmail": "ops@example.org"})
    assert config.values["monthlyBudgetUsd"] == number


def test_a_number_past_any_float_is_refused_by_name_not_with_a_traceback() -> None:
    assert_named(problems({"alarmEfsPercentIoLimit": 10**400}), "alarmEfsPercentIoLimit", "a finite number")


LIST_ITEMS = {
    # key: two spellings of one item (the second as the setting normalises it, where it does), other settings needed.
    "subnetIds": ("subnet-12345678", "subnet-12345678", {"vpcId": "vpc-12345678"}),
    "computeSubnetIds": ("subnet-12345678", "subnet-12345678", {"vpcId": "vpc-12345678", "subnetIds": "subnet-12345678,subnet-87654321"}),
    "availabilityZones": ("eu-west-1a", "eu-west-1a", {}),
    "instanceTypes": ("m6i.large", "m6i.large", {}),
    **{f"jq{n}InstanceTypes": ("m6i.large", "m6i.large", {"multiQueue": "true"}) for n in (1, 2, 3)},
    "inputBuckets": ("genomes", "s3://genomes", {}),
    "acknowledge": ("checkpointTime", "Annotation::mmbatch:checkpointTime", {}),
}
"""An item of each comma-list setting, written twice."""


def test_every_comma_list_setting_is_tried_with_a_repeat() -> None:
    lists = {s.key for s in SETTINGS if s.parse.__qualname__.startswith(("_list_of.", "_acknowledgements"))}
    assert lists == set(LIST_ITEMS)


@pytest.mark.parametrize("key", list(LIST_ITEMS))
def test_an_item_listed_twice_is_refused_by_name(key: str) -> None:
    """A repeat is refused, not folded into one: more often than not it is a typo for another item."""
    first, second, context = LIST_ITEMS[key]
    found = problems({**context, key: f"{first},{second}"})
    assert any(p.startswith(f"{key}: ") and "listed more than once" in p for p in found), found
