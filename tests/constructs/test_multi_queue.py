"""MultiQueue alone: its default queues and the queue lists it refuses."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from mmbatch_cdk import DEFAULT_QUEUES, MultiQueue, QueueSpec

from .jobs_fixture import build_parts


def test_default_queues_are_current_generation_with_distinct_priorities() -> None:
    assert [q.instance_types[0] for q in DEFAULT_QUEUES] == ["c7i.large", "m7i.large", "r7i.large"]
    assert len({q.priority for q in DEFAULT_QUEUES}) == 3


@pytest.mark.parametrize(
    ("queues", "message"),
    [
        ([], "must name at least one queue"),
        ([QueueSpec("A", 1, ("m7i.large",)), QueueSpec("A", 2, ("c7i.large",))], "names must differ and not be empty"),
        ([QueueSpec("A", 1, ("m7i.large",)), QueueSpec("B", 1, ("c7i.large",))], "priorities must differ"),
    ],
)
def test_construct_rejects_ambiguous_queues(queues: list, message: str) -> None:
    stack = cdk.Stack(cdk.App(), "Check")
    # The queues are checked before anything else is touched, so no real VPC, storage or server is needed.
    with pytest.raises(ValueError, match=f"Check/Queues: queues: {message}"):
        MultiQueue(stack, "Queues", vpc=None, storage=None, agent=None, queues=queues)  # type: ignore[arg-type]


def test_each_queue_spec_sets_its_own_capacity_type_and_minimum() -> None:
    # Spot or On-Demand and the vCPUs kept running are per queue (QueueSpec.spot, QueueSpec.min_vcpus; the
    # jq<N>MinvCpus settings), not the node settings' alone.
    parts = build_parts()
    storage, server = parts.stack.node.find_child("Storage"), parts.stack.node.find_child("Server")
    MultiQueue(parts.stack, "Queues", vpc=parts.vpc, storage=storage, agent=server.agent_installer,  # type: ignore[arg-type,attr-defined]
               queues=[QueueSpec("OnDemand", 2, ("m7i.large",), min_vcpus=4, spot=False), QueueSpec("Spot", 1, ("m7i.large",))])
    found = {("OnDemand" if k.startswith("QueuesOnDemand") else "Spot"): v["Properties"]["ComputeResources"]
             for k, v in parts.resources("AWS::Batch::ComputeEnvironment").items() if k.startswith("Queues")}
    assert {name: (r["Type"], r["AllocationStrategy"], r["MinvCpus"]) for name, r in found.items()} == {
        "OnDemand": ("EC2", "BEST_FIT_PROGRESSIVE", 4), "Spot": ("SPOT", "SPOT_PRICE_CAPACITY_OPTIMIZED", 0)}
