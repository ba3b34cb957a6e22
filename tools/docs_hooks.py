"""MkDocs hook (``hooks:`` in mkdocs.yml): the settings reference, made from the code at build time.

``<!-- generated:settings -->`` in a page becomes one table row per entry of ``mmbatch_cdk.config.SETTINGS``
(key, what it accepts, default, where it applies, what it does, what reads it), so the reference cannot drift
from the code: the site is built with ``mkdocs build --strict`` in every ``make test`` (tests/packaging/test_site.py).
The architecture diagrams are not generated here but by ``make diagram`` (tools/diagram.py), checked by
tests/packaging/test_diagram.py.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

SETTINGS_MARKER = "<!-- generated:settings -->"

READERS = {
    "network": "Network",
    "efs": "CheckpointStorageEfs",
    "juicefs": "CheckpointStorageJuiceFs",
    "server": "ManagementServer",
    "nodes": "NodeSettings",
    "queue": "QueueSpec",
    "awscli": "mmbatch_cdk.aws_cli.AwsCliInstall",
    "quickstart": "mmbatch_cdk.quickstart.QueueQuickstart",
    "workspace": "Workspace",
    "head": "HeadJobQueue",
    "logs": "LogShipping",
    "monitoring": "Monitoring",
    "budget": "MonthlyBudget",
    "limits": "runnable_time_limit_actions",
    "cost": "apply_cost_tags",
    "workspace": "Workspace",
    "head": "HeadJobQueue",
    "cleanup": "mmbatch_cdk.volume_cleanup.VolumeCleanup",
}
"""What each prop target of a ``Setting`` (see ``mmbatch_cdk.config.Setting``) is in the library."""
STACK_READER = "MmBatchStack"
"""Settings that set no construct prop choose what the stack builds (backend, queues, profile, warnings)."""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def accepts(setting: Any) -> str:
    """What a setting accepts, in its own parser's words: the ``expected ...`` part of what it says to a bad value."""
    try:
        setting.parse("\x00")
    except Exception as error:  # every parser refuses with what it accepts; the type varies
        _, found, expected = str(error).partition("expected ")
        if found:
            return expected.rstrip(".")
    return "any text"


def _default(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(value) if value else "(none)"
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def readers(setting: Any) -> list[str]:
    """The library names that read a setting: one per prop target it sets, else the stack."""
    targets = dict.fromkeys(prop.partition(".")[0] for prop in setting.props)
    return [READERS[target] for target in targets] or [STACK_READER]


def _reference(name: str, public: set[str]) -> str:
    """A link into the API reference for a public name, else the name in code."""
    return f"[`{name}`][mmbatch_cdk.{name}]" if name in public else f"`{name}`"


def settings_reference() -> str:
    """The settings reference: a Markdown table generated from ``SETTINGS``."""
    if str(REPO) not in sys.path:  # `mkdocs build` runs from the repository without installing it
        sys.path.insert(0, str(REPO))
    import mmbatch_cdk
    from mmbatch_cdk.config import SETTINGS

    public = set(mmbatch_cdk.__all__)
    rows = ["| Key | Accepts | Default | Applies to | What it does | Read by |", "|---|---|---|---|---|---|"]
    for s in SETTINGS:
        where = [f"backend={s.backend}"] if s.backend else []
        if s.queue == 0:
            where.append("one queue")
        elif s.queue:
            where.append("multiQueue")
        seed = f" Seed parameter: {s.seed}." if s.seed else ""
        read_by = ", ".join(_reference(name, public) for name in readers(s))
        rows.append(f"| `{s.key}` | {_cell(accepts(s))} | `{_cell(_default(s.default))}` | {', '.join(where) or 'all'} "
                    f"| {_cell(s.doc)}{seed} | {read_by} |")
    return "\n".join(rows)


def on_page_markdown(markdown: str, **_: Any) -> str:
    """MkDocs event: fill the settings marker of a page's Markdown."""
    if SETTINGS_MARKER in markdown:
        markdown = markdown.replace(SETTINGS_MARKER, settings_reference())
    return markdown
