"""One moto account per test (moto is imported once per worker); fake credentials so nothing reaches AWS."""

from __future__ import annotations

from typing import Iterator

import pytest
from moto import mock_aws

from .world import REGION, FakeClock, World, shared_client


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
                       "AWS_DEFAULT_REGION": REGION, "MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        ec2 = shared_client("ec2")
        # Without moto's list of AMIs (seconds to load in every test); it takes any image id.
        server = ec2.run_instances(ImageId="ami-0123456789abcdef0", MinCount=1, MaxCount=1, InstanceType="t3.medium")["Instances"][0]["InstanceId"]
        w = World(clock=FakeClock(), server_id=server)
        try:
            yield w
            for stub in w.stubs.values():
                stub.assert_no_pending_responses()
        finally:
            for stub in w.stubs.values():
                stub.deactivate()
