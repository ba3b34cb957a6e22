"""One line, instead of jsii's 11-line banner, when the Node that jsii would run is not one jsii supports.

aws-cdk-lib runs in a Node process that jsii starts on the first ``import aws_cdk``: ``$JSII_NODE``, else ``node`` on
PATH (jsii/_kernel/providers/process.py). jsii 1.142 supports Node 22 and 24 (the ``NodeRelease`` table of its
bin/jsii-runtime.js: 20 reached end of life on 2026-04-30 and lost jsii's support on 2026-10-30; 26 is not yet
known to it) and frames any other in a banner that names neither this package nor what to do. This check runs
``node --version`` once (about 20 ms, against seconds of synth) before aws_cdk is imported, says what to do in one
line, and turns jsii's banner off for that version only (its documented ``JSII_SILENCE_WARNING_*`` switches).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import Optional, TextIO

__all__ = ["JSII_NODE_MAJORS", "check_node", "check_node_once", "node_problem"]

JSII_NODE_MAJORS = (22, 24)
"""The Node majors jsii (1.142, what aws-cdk-lib 2.275 needs) supports."""

_SILENCE = ("END_OF_LIFE", "DEPRECATED", "UNTESTED", "KNOWN_BROKEN")


def node_problem(version: str, path: str) -> Optional[str]:
    """The one line for ``node --version`` output ``version`` of the Node at ``path``, or None when jsii supports it."""
    try:
        major = int(version.strip().lstrip("v").split(".")[0])
    except ValueError:
        major = 0
    if major in JSII_NODE_MAJORS:
        return None
    wanted = " or ".join(map(str, JSII_NODE_MAJORS))
    return (f"mmbatch-cdk: jsii, which runs aws-cdk-lib for Python, supports Node {wanted}, not {version.strip() or 'this'} "
            f"({path}); put Node {wanted} first on PATH (this project pins one: npm ci, then node_modules/.bin) or set "
            "JSII_NODE to it.")


def check_node(stream: TextIO = sys.stderr) -> None:
    """Print :func:`node_problem`'s line to ``stream`` when there is one, and mute jsii's banner for that version."""
    node = os.environ.get("JSII_NODE", "node")
    path = shutil.which(node)
    if path is None:
        print(f"mmbatch-cdk: no {node!r} to run jsii (aws-cdk-lib's bridge from Python): install Node "
              f"{' or '.join(map(str, JSII_NODE_MAJORS))} and put it on PATH, or set JSII_NODE to it.", file=stream)
        return
    try:
        version = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return  # jsii will report what is wrong with it
    problem = node_problem(version, path)
    if problem:
        print(problem, file=stream)
        major = version.strip().lstrip("v").split(".")[0]
        for reason in _SILENCE:
            os.environ.setdefault(f"JSII_SILENCE_WARNING_{reason}_NODE_VERSION", major)


_checked = False


def check_node_once() -> None:
    """:func:`check_node`, the first time only: what the package calls before anything imports aws_cdk."""
    global _checked
    if not _checked:
        _checked = True
        check_node()
