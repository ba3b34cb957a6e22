"""The compliance props on the constructs alone: a combination that cannot work is refused, naming the prop."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from mmbatch_cdk.network import Network


def test_public_subnets_without_public_ips_need_private_only() -> None:
    stack = cdk.Stack(cdk.App(), "Bare")
    with pytest.raises(ValueError, match="map_public_ip_on_launch=False needs private_only"):
        Network(stack, "Network", map_public_ip_on_launch=False)
    Network(stack, "Private", map_public_ip_on_launch=False, private_only=True)
    Network(stack, "Existing", vpc_id="vpc-0a1b2c3d4e5f60718", subnet_ids=["subnet-0a1b2c3d4e5f60711"],
            map_public_ip_on_launch=False)  # an existing VPC's subnets are not changed, so nothing to refuse
