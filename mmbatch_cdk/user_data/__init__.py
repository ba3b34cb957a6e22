"""Boot scripts, kept as real shell files and rendered with their settings at synth time.

Each script reads its settings from environment variables (and checks them with ``${VAR:?}``) and
sources ``lib.sh`` (and ``juicefs_lib.sh``) beside it, so the files run as they are. Rendering puts
``export VAR='value'`` lines after the shebang, inlines the sourced helpers and drops comment and
blank lines and indentation (EC2 user data is capped at 16 KiB); values may be CDK tokens, which CloudFormation
fills in at deploy time.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
import shlex
from importlib import resources
from typing import Mapping, Optional, Union

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2

__all__ = ["SETTINGS_MARK", "add_script", "render", "required_settings", "script_parts", "script_path", "script_text"]

_HEADER = "# Settings rendered by mmbatch-cdk at synth time.\n"
_SOURCE_LIB = re.compile(r'^\. "\$\(dirname "\$0"\)/([a-z_]+\.sh)"\n', re.M)
_REQUIRED = re.compile(r'"\$\{([A-Z][A-Z0-9_]*):\?\}"')
_HEREDOC = re.compile(r"""(?<!<)<<(?!<)(-?)\s*\\?(['"]?)([A-Za-z_][A-Za-z0-9_]*)\2""")


def script_text(name: str) -> str:
    """The text of a packaged script, e.g. ``efs_mount.sh``."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def script_path(name: str) -> str:
    """The file system path of a packaged script (for tests and shellcheck)."""
    return str(resources.files(__package__).joinpath(name))


def _quote(value: Union[str, int, bool]) -> str:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    # "${Token[" marks CDK's string-encoded tokens; checking for it first saves a jsii call per plain value.
    if "${Token[" in text and cdk.Token.is_unresolved(text):
        # Token values (ids, addresses, ARNs) never contain quotes; quote the text around them.
        return "'" + text + "'"
    return shlex.quote(text)


def render(name: str, settings: Mapping[str, Union[str, int, bool]], *, compact: bool = True) -> str:
    """The script ``name`` with ``settings`` exported right after its shebang and its helpers inlined.

    :param compact: drop comment and blank lines (EC2 user data is capped at 16 KiB). Default: True.
    """
    body = script_text(name)
    shebang, _, rest = body.partition("\n")
    if not shebang.startswith("#!"):
        raise ValueError(f"{name} has no shebang line")
    rest = _SOURCE_LIB.sub(lambda match: script_text(match.group(1)).partition("\n")[2], rest)
    exports = "".join(f"export {key}={_quote(value)}\n" for key, value in settings.items())
    return f"{shebang}\n{_HEADER}{exports}{_without_comments(rest) if compact else rest}"


def required_settings(name: str) -> frozenset[str]:
    """The settings script ``name`` (with its helpers) checks with ``${VAR:?}``: what ``render`` must be given.

    Some are required only in a mode (for example ``MMAB_ADDRESS`` with ``AGENT_MODE=required``).
    """
    return frozenset(_REQUIRED.findall(render(name, {}, compact=False)))


SETTINGS_MARK = "# mmbatch-cdk: deploy-time settings of the next part"
"""First line after the shebang of a part that only writes the deploy-time settings of the part after it."""
_SETTINGS_DIR = "/var/lib/mmbatch/settings"


def add_script(user_data: ec2.MultipartUserData, script: str) -> None:
    """Add a rendered boot script to ``user_data`` as compactly as cloud-init can run it (see :func:`script_parts`)."""
    for part in script_parts(script):
        user_data.add_part(part)


def script_parts(script: str) -> list[ec2.MultipartBody]:
    """The MIME parts that carry a rendered script: gzip-compressed wherever no deploy-time value (a CDK token) is.

    EC2 caps the whole user data at 16 KiB, and AWS Batch adds a part of its own. cloud-init decompresses a part of
    type ``application/gzip`` and then treats it by its first line (``#!``: a shell script), as if it had not been
    compressed (cloud-init ``user_data.py``, ``_process_msg``: "if ctype_orig in DECOMP_TYPES"), and runs the parts
    in order. Tokens sit only in a script's ``export`` lines (:func:`render`), so a script with tokens becomes two
    parts: a small plain-text one that writes those lines to a root-only file, and the compressed rest, which reads
    the file first. Plain text is unencoded (``ec2.MultipartBody.from_user_data`` would base64 it, a third larger).
    """
    if not _has_token(script):
        return [_gzip_part(script)]
    shebang, _, rest = script.partition("\n")
    lines = rest.split("\n")
    header = lines[:1] if lines and lines[0] == _HEADER.rstrip("\n") else []
    exports = []
    for line in lines[len(header):]:
        if not line.startswith("export "):
            break
        exports.append(line)
    body = "\n".join(lines[len(header) + len(exports):])
    if not exports or _has_token(body):
        return [_plain_part(script)]
    env = f'"${{MMB_ROOT:-}}{_SETTINGS_DIR}/{hashlib.sha256(body.encode()).hexdigest()[:16]}.env"'
    writer = (
        f"#!/bin/bash\n{SETTINGS_MARK}\nset -eu\numask 077\nmkdir -p \"${{MMB_ROOT:-}}{_SETTINGS_DIR}\"\n"
        f"cat >{env} <<'MMBATCH_SETTINGS'\n" + "\n".join(exports) + "\nMMBATCH_SETTINGS\n"
    )
    return [_plain_part(writer), _gzip_part(f"{shebang}\n. {env}\n{body}")]


def _has_token(text: str) -> bool:
    # "${Token[" marks CDK's string-encoded tokens; checking for it first saves a jsii call.
    return "${Token[" in text and bool(cdk.Token.is_unresolved(text))


def _plain_part(script: str) -> ec2.MultipartBody:
    return ec2.MultipartBody.from_raw_body(content_type='text/x-shellscript; charset="utf-8"', body=script)


def _gzip_part(script: str) -> ec2.MultipartBody:
    # mtime=0: the same script gives the same bytes, so templates change only when a script does.
    compressed = gzip.compress(script.encode("utf-8"), compresslevel=9, mtime=0)
    return ec2.MultipartBody.from_raw_body(
        content_type="application/gzip", transfer_encoding="base64", body=base64.b64encode(compressed).decode("ascii")
    )


def _without_comments(script: str) -> str:
    """``script`` without comment-only and blank lines or indentation, keeping here-document bodies and continued lines.

    A line-based filter, not a shell parser: a test checks that bash parses every shipped script the
    same with and without it.
    """
    kept: list[str] = []
    heredoc: Optional[tuple[str, bool]] = None  # (delimiter, tabs may indent it)
    for line in script.splitlines():
        if heredoc is not None:
            kept.append(line)
            delimiter, strip_tabs = heredoc
            if (line.lstrip("\t") if strip_tabs else line) == delimiter:
                heredoc = None
            continue
        continued = bool(kept) and kept[-1].endswith("\\") and not kept[-1].endswith("\\\\")
        stripped = line.strip()
        if not continued and (not stripped or stripped.startswith("#")):
            continue
        kept.append(line if continued else line.lstrip())
        match = _HEREDOC.search(line)
        if match:
            heredoc = (match.group(3), match.group(1) == "-")
    return "\n".join(kept) + "\n"
