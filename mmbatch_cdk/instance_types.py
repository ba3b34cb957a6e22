"""What the project needs to know about EC2 instance type names, derived from the name alone."""

from __future__ import annotations

import re

__all__ = ["architecture", "family"]

# Graviton families carry a "g" right after the generation digit (m7g, c7gn, r8g, t4g, x2gd, im4gn);
# a1 is the first-generation Graviton.
_ARM_FAMILY = re.compile(r"^([a-z]+[0-9]+g[a-z0-9-]*|a1)$")


def family(instance_type: str) -> str:
    """The family of an instance type (``m6i.large`` -> ``m6i``); a bare family is returned as is."""
    return instance_type.split(".", 1)[0]


def architecture(instance_type: str) -> str:
    """``arm64`` for Graviton instance types and families, ``x86_64`` otherwise."""
    return "arm64" if _ARM_FAMILY.match(family(instance_type)) else "x86_64"


STANDARD_SIZES = ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")
"""The sizes the seed lists for a family (``large`` to ``16xlarge``)."""


def sizes(family_name: str) -> tuple[str, ...]:
    """Instance types of ``family_name`` in :data:`STANDARD_SIZES`, e.g. ``sizes("c7i")``."""
    return tuple(f"{family_name}.{size}" for size in STANDARD_SIZES)
