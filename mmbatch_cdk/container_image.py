"""What AWS Batch takes as a job's container image: one rule behind every image setting and construct prop."""

from __future__ import annotations

import re
from typing import Optional

__all__ = ["IMAGE_MAX_LENGTH", "container_image_problem"]

IMAGE_MAX_LENGTH = 255
"""AWS Batch ``ContainerProperties.image``: "It can be 255 characters long" (AWS Batch API Reference)."""

_IMAGE = re.compile(r"^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$")
"""A registry/repository name (lower case), an optional tag (Docker's: up to 128 characters) and digest."""


def container_image_problem(image: str, example: str = "public.ecr.aws/docker/library/python:3.12-slim") -> Optional[str]:
    """What is wrong with ``image`` as an image reference a job definition can name, or None."""
    if not _IMAGE.match(image):
        return f"{image!r} is not accepted; expected a container image such as {example}"
    if len(image) > IMAGE_MAX_LENGTH:
        return (f"{image[:40]!r}... is {len(image)} characters; AWS Batch takes an image name of at most "
                f"{IMAGE_MAX_LENGTH}")
    return None
