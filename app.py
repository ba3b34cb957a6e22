#!/usr/bin/env python3
"""The mmbatch-cdk app: `cdk deploy -c backend=efs|juicefs -c key=value ...` (settings: README)."""

import os
import subprocess
import sys


def _silence_node_end_of_life_banner() -> None:
    """jsii prints a banner on every run under an end-of-life Node; it is noise in CI logs."""
    if "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION" in os.environ:
        return
    try:
        version = subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return
    os.environ["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = version.strip().lstrip("v").split(".")[0]


if __name__ == "__main__":
    _silence_node_end_of_life_banner()
    from mmbatch_cdk.application import main

    sys.exit(main())
