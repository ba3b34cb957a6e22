"""Boot scripts, kept as real shell files and rendered with their settings at synth time.

Each script reads its settings from environment variables (and checks them with ``${VAR:?}``) and
sources ``lib.sh`` beside it, so the files run as they are. Rendering puts ``export VAR='value'``
lines after the shebang and inlines ``lib.sh``; values may be CDK tokens, which CloudFormation fills
in at deploy time.
"""

from __future__ import annotations

import shlex
from importlib import resources
from typing import Mapping, Union

import aws_cdk as cdk

__all__ = ["render", "script_path", "script_text"]

_HEADER = "# Settings rendered by mmbatch-cdk at synth time.\n"
_SOURCE_LIB = '. "$(dirname "$0")/lib.sh"'
_SHELLCHECK_SOURCE = "# shellcheck source=lib.sh"


def script_text(name: str) -> str:
    """The text of a packaged script, e.g. ``efs_mount.sh``."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def script_path(name: str) -> str:
    """The file system path of a packaged script (for tests and shellcheck)."""
    return str(resources.files(__package__).joinpath(name))


def _quote(value: Union[str, int, bool]) -> str:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if cdk.Token.is_unresolved(text):
        # Token values (ids, addresses, ARNs) never contain quotes; quote the text around them.
        return "'" + text + "'"
    return shlex.quote(text)


def render(name: str, settings: Mapping[str, Union[str, int, bool]]) -> str:
    """The script ``name`` with ``settings`` exported right after its shebang."""
    body = script_text(name)
    shebang, _, rest = body.partition("\n")
    if not shebang.startswith("#!"):
        raise ValueError(f"{name} has no shebang line")
    if _SOURCE_LIB in rest:
        lib = script_text("lib.sh").partition("\n")[2]
        rest = rest.replace(f"{_SHELLCHECK_SOURCE}\n", "").replace(_SOURCE_LIB + "\n", lib)
    exports = "".join(f"export {key}={_quote(value)}\n" for key, value in settings.items())
    return f"{shebang}\n{_HEADER}{exports}{rest}"
