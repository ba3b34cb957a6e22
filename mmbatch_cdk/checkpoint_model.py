"""How long a node needs to write a checkpoint of its memory to shared storage: a model with stated assumptions.

The model is deliberately simple and conservative: the worst case is a final checkpoint of the
instance's whole memory (no earlier iterative checkpoint to build on), written at the slower of the
instance's *baseline* network bandwidth (not its short burst) and the storage's per-node limit.
:meth:`CheckpointStorage.node_write_mibps` gives each storage's limit. Instance types whose family
or size the tables below do not cover get no estimate (and no warning). Figures are from AWS's EC2
and EFS documentation and S3's performance guidelines (see docs/performance.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

from .instance_types import STANDARD_SIZES, family

__all__ = [
    "SPOT_NOTICE_SECONDS",
    "InstanceProfile",
    "checkpoint_seconds",
    "checkpoint_time_warning",
    "family_sizes",
    "instance_profile",
    "model_table",
]

SPOT_NOTICE_SECONDS = 120
"""EC2's Spot interruption notice: two minutes before the instance is stopped or terminated."""

_MEMORY_GIB_PER_VCPU = {"c": 2, "m": 4, "r": 8}
"""Memory per vCPU of the compute-optimized, general purpose and memory-optimized families."""

_VCPUS = {"large": 2, "xlarge": 4, "2xlarge": 8, "4xlarge": 16, "8xlarge": 32, "12xlarge": 48, "16xlarge": 64,
          "24xlarge": 96, "32xlarge": 128, "48xlarge": 192}

_BASELINE_GBPS = {"large": 0.781, "xlarge": 1.562, "2xlarge": 3.125, "4xlarge": 6.25, "8xlarge": 12.5,
                  "12xlarge": 18.75, "16xlarge": 25.0, "24xlarge": 37.5, "32xlarge": 50.0, "48xlarge": 50.0}
"""Baseline network bandwidth by size of the 6th/7th-generation Intel and AMD c/m/r families
(sizes up to 4xlarge burst to 12.5 Gbps for a limited time, which the model does not count on)."""

_LARGER_SIZES = {"6i": ("24xlarge", "32xlarge"), "7i": ("24xlarge", "48xlarge"),
                 "6a": ("24xlarge", "32xlarge", "48xlarge"), "7a": ("24xlarge", "32xlarge", "48xlarge")}
"""Sizes above 16xlarge each generation offers (all offer large to 16xlarge)."""

_MODELLED_FAMILIES = {f"{kind}{generation}" for kind in "cmr" for generation in _LARGER_SIZES}


def family_sizes(family_name: str) -> tuple[str, ...]:
    """Every modelled instance type of a family (AWS Batch may launch any size of a bare family); () if not modelled."""
    if family_name not in _MODELLED_FAMILIES:
        return ()
    return tuple(f"{family_name}.{size}" for size in (*STANDARD_SIZES, *_LARGER_SIZES[family_name[1:]]))


@dataclass(frozen=True)
class InstanceProfile:
    """What the model needs of an instance type."""

    memory_gib: int
    """Memory of the instance, in GiB."""
    network_mibps: float
    """Baseline network bandwidth, in MiB/s."""


def instance_profile(instance_type: str) -> Optional[InstanceProfile]:
    """Memory and baseline bandwidth of ``instance_type`` (e.g. ``r7i.8xlarge``), or None when not modelled."""
    name = family(instance_type)
    size = instance_type.partition(".")[2]
    if name not in _MODELLED_FAMILIES or size not in _VCPUS:
        return None
    memory = _VCPUS[size] * _MEMORY_GIB_PER_VCPU[name[0]]
    return InstanceProfile(memory_gib=memory, network_mibps=_BASELINE_GBPS[size] * 1e9 / 8 / 2**20)


def checkpoint_seconds(instance_type: str, storage_mibps: float) -> Optional[float]:
    """Seconds to write the whole memory of ``instance_type`` when storage accepts ``storage_mibps`` per node."""
    profile = instance_profile(instance_type)
    if profile is None:
        return None
    return profile.memory_gib * 1024 / min(profile.network_mibps, storage_mibps)


def model_table(instance_types: Sequence[str], storages: Mapping[str, float], budget_seconds: int = SPOT_NOTICE_SECONDS) -> str:
    """A Markdown table of modelled full-memory checkpoint seconds per instance type and storage (docs/performance.md)."""
    header = ["Instance type", "Memory GiB", "Baseline network MiB/s", *storages]
    rows = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for instance_type in instance_types:
        profile = instance_profile(instance_type)
        if profile is None:
            continue
        cells = []
        for mibps in storages.values():
            seconds = checkpoint_seconds(instance_type, mibps) or 0.0
            cells.append(f"{seconds:.0f}" + (" **over**" if seconds > budget_seconds else ""))
        rows.append(f"| `{instance_type}` | {profile.memory_gib} | {profile.network_mibps:.0f} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def checkpoint_time_warning(
    instance_types: Sequence[str], storage_mibps: Optional[float], storage_description: str
) -> Optional[str]:
    """The warning text naming each instance type whose full-memory checkpoint the model finds slower than the
    120 s Spot notice; None when every type fits or the storage's limit is unknown. A bare family is checked at
    every size AWS Batch may launch.

    The budget is the notice alone: ECS Spot draining does not stop Batch jobs (standalone tasks), so
    ``ECS_CONTAINER_STOP_TIMEOUT`` gives no window after a notice; whether MMBatch's agent takes a final
    checkpoint within it is not documented (pre-deploy review F4)."""
    if storage_mibps is None:
        return None
    slow = []
    for name in instance_types:
        for instance_type in [name] if "." in name else family_sizes(name):
            seconds = checkpoint_seconds(instance_type, storage_mibps)
            if seconds is not None and seconds > SPOT_NOTICE_SECONDS:
                slow.append(f"{instance_type} (~{seconds:.0f} s)")
    if not slow:
        return None
    return (
        f"{', '.join(slow)}: a checkpoint of the whole memory would take longer than the {SPOT_NOTICE_SECONDS} s "
        f"Spot interruption notice on {storage_description}, at the instance's baseline network bandwidth. A restore "
        "can count on the last periodic checkpoint (ckptInterval); a final one within the notice, if MMBatch takes "
        "one, may not finish, so jobs that dirty most of their memory may lose the work since the last checkpoint. "
        "See docs/performance.md."
    )
