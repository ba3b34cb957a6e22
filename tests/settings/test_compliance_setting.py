"""The ``compliance`` setting: its values, its default, and the new-VPC rule it brings."""

from __future__ import annotations

import pytest

from mmbatch_cdk.config import ConfigError, MmBatchConfig
from mmbatch_cdk.nag import ALL_PACKS, DEFAULT_PACKS, packs_for

from ..conftest import EXISTING_VPC


def test_the_default_is_none_and_runs_the_aws_solutions_pack_only() -> None:
    config = MmBatchConfig.from_mapping({})
    assert config.compliance == "none"
    assert packs_for(config.compliance) == DEFAULT_PACKS == ("AwsSolutions",)


def test_hipaa_runs_the_hipaa_and_nist_packs_too() -> None:
    config = MmBatchConfig.from_mapping({"compliance": "HIPAA", "privateOnly": "true"})
    assert config.compliance == "hipaa"
    assert packs_for(config.compliance) == ALL_PACKS == ("AwsSolutions", "HIPAA.Security", "NIST.800.53.R5")


def test_an_unknown_profile_is_named_with_what_is_accepted() -> None:
    with pytest.raises(ConfigError) as caught:
        MmBatchConfig.from_mapping({"compliance": "pci", "privateOnly": "true"})
    assert caught.value.problems == ["compliance: 'pci' is not accepted; expected one of: none, hipaa"]


def test_hipaa_in_a_new_vpc_needs_private_only_and_says_so() -> None:
    with pytest.raises(ConfigError) as caught:
        MmBatchConfig.from_mapping({"compliance": "hipaa"})
    [problem] = caught.value.problems
    assert problem.startswith("compliance: hipaa with a new VPC needs privateOnly=true")
    assert "vpcId" in problem


@pytest.mark.parametrize("context", [{"privateOnly": "true"}, EXISTING_VPC, {**EXISTING_VPC, "privateOnly": True}])
def test_hipaa_is_accepted_in_a_private_new_vpc_or_an_existing_one(context: dict) -> None:
    assert MmBatchConfig.from_mapping({"compliance": "hipaa", **context}).compliance == "hipaa"


def test_hipaa_keeps_logs_a_year_unless_told_longer() -> None:
    assert MmBatchConfig.from_mapping({"compliance": "hipaa", "privateOnly": "true"}).log_retention_days == 365
    assert MmBatchConfig.from_mapping({"compliance": "hipaa", "privateOnly": "true", "logRetentionDays": 731}).log_retention_days == 731
    assert MmBatchConfig.from_mapping({}).log_retention_days == 30
    with pytest.raises(ConfigError) as caught:
        MmBatchConfig.from_mapping({"compliance": "hipaa", "privateOnly": "true", "logRetentionDays": 90})
    assert caught.value.problems == ["logRetentionDays: compliance=hipaa keeps logs at least 365 days; give 365 or more, "
                                     "or leave it unset"]
