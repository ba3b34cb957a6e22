"""The Node that runs the CDK CLI and jsii: the npm package ``node`` pinned in package.json, not the machine's."""

from __future__ import annotations

import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NODE_BIN = REPO / "node_modules" / ".bin"
PINNED = json.loads((REPO / "package.json").read_text())["devDependencies"]["node"]
"""The exact version package.json pins, e.g. ``24.21.0``."""

_BANNER_MARKS = ("end-of-life", "not been tested with node", "!!!!!!!!")
"""jsii frames its Node warnings (end of life, deprecated, untested) in ``!!`` and names the reason."""


def node_warnings(output: str) -> list[str]:
    """The lines of jsii's Node warning banners in ``output`` (also when printed as Python bytes)."""
    return [line for line in output.splitlines() if any(mark in line for mark in _BANNER_MARKS)]


def project_node_env(**extra: str) -> dict[str, str]:
    """This process's environment with the pinned Node first on PATH and no switch that mutes jsii's Node warnings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("JSII_SILENCE_WARNING")}
    env["PATH"] = os.pathsep.join([str(NODE_BIN), env.get("PATH", "")])
    env.update(extra)
    return env
