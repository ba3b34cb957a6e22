"""The Node that runs the CDK CLI and jsii: the npm package ``node`` pinned in package.json, not the machine's."""

from __future__ import annotations

import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NODE_BIN = REPO / "node_modules" / ".bin"
PINNED = json.loads((REPO / "package.json").read_text())["devDependencies"]["node"]
"""The exact version package.json pins, e.g. ``24.21.0``."""

END_OF_LIFE_BANNER = "end-of-life"
"""In the banner jsii prints on every run under a Node it no longer supports (``Node 20 is end-of-life ...``)."""


def project_node_env(**extra: str) -> dict[str, str]:
    """This process's environment with the pinned Node first on PATH and no switch that mutes jsii's Node warnings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("JSII_SILENCE_WARNING")}
    env["PATH"] = os.pathsep.join([str(NODE_BIN), env.get("PATH", "")])
    env.update(extra)
    return env
