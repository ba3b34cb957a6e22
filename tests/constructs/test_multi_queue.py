"""MultiQueue alone: its default queues and the queue lists it refuses."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from mmbatch_cdk import DEFAULT_QUEUES, MultiQueue, QueueSpec


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
