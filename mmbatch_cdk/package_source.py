"""Where a boot script downloads a package from: one rule behind every ``*Source`` setting and construct prop.

An ``https://`` URL, or an ``s3://bucket/key`` URI whose bucket S3 can name (workspace.bucket_name_problem), with
none of the characters the boot scripts' shell would read (whitespace, quotes, ``$``, backquote, backslash)."""

from __future__ import annotations

import re
from typing import Optional

from .workspace import bucket_name_problem

__all__ = ["package_source_problem", "s3_object"]

_SAFE = r"[^\s'\"`$\\]+"
_HTTPS_URL = re.compile(rf"^https://{_SAFE}$")
_S3_URI = re.compile(rf"^s3://([^/\s]+)/({_SAFE})$")


def s3_object(source: str) -> Optional[tuple[str, str]]:
    """``(bucket, key)`` of an ``s3://bucket/key`` source this module accepts; None for anything else."""
    match = _S3_URI.match(source)
    if match is None or bucket_name_problem(match.group(1)) is not None:
        return None
    return match.group(1), match.group(2)


def package_source_problem(source: str) -> Optional[str]:
    """What is wrong with ``source`` as a package source, or None."""
    if _HTTPS_URL.match(source) or s3_object(source):
        return None
    match = _S3_URI.match(source)
    if match:
        return f"{source!r}: {bucket_name_problem(match.group(1))}"
    return f"{source!r} is not accepted; expected an https:// URL or an s3://bucket/key URI"
