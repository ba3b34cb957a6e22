"""The compliance props and the profile on the constructs alone: a combination that cannot work is refused, naming the
prop; what the profile is told reaches its resources."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from mmbatch_cdk.compliance import ComplianceProfile
from mmbatch_cdk.network import Network


def test_public_subnets_without_public_ips_need_private_only() -> None:
    stack = cdk.Stack(cdk.App(), "Bare")
    with pytest.raises(ValueError, match="map_public_ip_on_launch=False needs private_only"):
        Network(stack, "Network", map_public_ip_on_launch=False)
    Network(stack, "Private", map_public_ip_on_launch=False, private_only=True)
    Network(stack, "Existing", vpc_id="vpc-0a1b2c3d4e5f60718", subnet_ids=["subnet-0a1b2c3d4e5f60711"],
            map_public_ip_on_launch=False)  # an existing VPC's subnets are not changed, so nothing to refuse


def test_the_vault_name_fits_aws_backups_fifty_characters_whatever_the_stack_name() -> None:
    # A vault name may be 2 to 50 characters while a stack name may be 128: the stack-name part is cut to 37, so
    # with "-" and the 12 characters of the stack id's last group the name still fits and the deploy does not fail.
    stack = cdk.Stack(cdk.App(), "a-deployment-with-a-long-descriptive-stack-name-for-genomics")
    vault = ComplianceProfile(stack, "Compliance").backup_plan.backup_vault
    separator, (name, stack_id_part) = stack.resolve(vault.node.default_child.backup_vault_name)["Fn::Join"]  # type: ignore[union-attr]
    assert (separator, name) == ("-", stack.stack_name[:37])
    assert stack_id_part["Fn::Select"][0] == 4  # the stack UUID's last group: 12 characters
    assert len(name) + 1 + 12 <= 50


def test_backups_are_kept_as_long_as_the_profile_is_told() -> None:
    # backup_retention is the library's only say on how long a HIPAA deployment's backups exist; the 35-day default
    # must not win over it.
    stack = cdk.Stack(cdk.App(), "Kept")
    plan = ComplianceProfile(stack, "Compliance", backup_retention=cdk.Duration.days(400)).backup_plan
    [rule] = stack.resolve(plan.node.default_child.backup_plan)["backupPlanRule"]  # type: ignore[union-attr]
    assert rule["lifecycle"] == {"deleteAfterDays": 400}
