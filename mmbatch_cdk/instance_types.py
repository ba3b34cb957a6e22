"""What the project needs to know about EC2 instance type names, derived from the name alone.

GPU facts come from AWS's accelerated computing instance specifications
(https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html); MMBatch restores a GPU checkpoint only onto
the same GPU model and supports single-GPU instances only (MMBatch 1.4 release notes, see
``shared/reference/mmbatch-runtime-facts.md``).
"""

from __future__ import annotations

import re
from typing import Optional

__all__ = [
    "BATCH_KEYWORDS",
    "GPU_FAMILIES",
    "STANDARD_SIZES",
    "architecture",
    "family",
    "gpu_count",
    "gpu_model",
    "is_gpu",
    "sizes",
]

# Graviton families carry a "g" right after the generation digit (m7g, c7gn, r8g, t4g, x2gd, im4gn);
# a1 is the first-generation Graviton.
_ARM_FAMILY = re.compile(r"^([a-z]+[0-9]+g[a-z0-9-]*|a1)$")
_GPU_FAMILY = re.compile(r"^(g|gr|p)[0-9]")

BATCH_KEYWORDS = {"optimal": "x86_64", "default_x86_64": "x86_64", "default_arm64": "arm64"}
"""AWS Batch's instance-type keywords and the one CPU architecture each picks from (AWS Batch
``ComputeResources.instanceTypes``: ``optimal`` and ``default_x86_64`` choose x86_64 families,
``default_arm64`` Graviton families)."""

STANDARD_SIZES = ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")
"""The sizes the seed lists for a family (``large`` to ``16xlarge``)."""

_ONE_GPU_G = ("xlarge", "2xlarge", "4xlarge", "8xlarge", "16xlarge")
GPU_FAMILIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "g4dn": ("NVIDIA T4", _ONE_GPU_G),
    "g5": ("NVIDIA A10G", _ONE_GPU_G),
    "g6": ("NVIDIA L4", _ONE_GPU_G),
    "g6e": ("NVIDIA L40S", _ONE_GPU_G),
    "p3": ("NVIDIA V100", ("2xlarge",)),
}
"""NVIDIA x86_64 GPU families MMBatch can use: family -> (GPU model, the sizes with exactly one GPU).
Other sizes of these families carry 4 or 8 GPUs."""


def family(instance_type: str) -> str:
    """The family of an instance type (``m6i.large`` -> ``m6i``); a bare family is returned as is."""
    return instance_type.split(".", 1)[0]


def architecture(instance_type: str) -> str:
    """``arm64`` for Graviton instance types and families (and ``default_arm64``), ``x86_64`` otherwise."""
    if instance_type in BATCH_KEYWORDS:
        return BATCH_KEYWORDS[instance_type]
    return "arm64" if _ARM_FAMILY.match(family(instance_type)) else "x86_64"


def is_gpu(instance_type: str) -> bool:
    """True for GPU instance types and families (the g, gr and p families)."""
    return instance_type not in BATCH_KEYWORDS and bool(_GPU_FAMILY.match(family(instance_type)))


def gpu_model(instance_type: str) -> Optional[str]:
    """The GPU model of a supported GPU type (``g5.xlarge`` -> ``NVIDIA A10G``); None otherwise."""
    known = GPU_FAMILIES.get(family(instance_type))
    return known[0] if known else None


def gpu_count(instance_type: str) -> Optional[int]:
    """1 for the single-GPU sizes of :data:`GPU_FAMILIES`, None when not known to be 1 (or not a size)."""
    known = GPU_FAMILIES.get(family(instance_type))
    size = instance_type.partition(".")[2]
    return 1 if known and size in known[1] else None


def sizes(family_name: str) -> tuple[str, ...]:
    """Instance types of ``family_name`` in :data:`STANDARD_SIZES`, e.g. ``sizes("c7i")``."""
    return tuple(f"{family_name}.{size}" for size in STANDARD_SIZES)
