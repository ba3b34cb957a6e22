"""Count jsii round trips of one synth, by phase and by the mmbatch_cdk code that makes them.

Usage: ``.venv/bin/python bench/jsii_calls.py [-c key=value ...] [--top N] [--json FILE]`` (default: every
feature on, ``bench/variants.py``). One in-process synth, built as ``mmbatch_cdk.application.main`` builds it,
with the context the CLI passes. Every request Python writes to jsii's Node process is one round trip
(``jsii._kernel.providers.process._NodeProcess.send``): creates, invokes, property gets and sets, and the
answers to Node's callbacks into Python. The counts do not depend on the machine's load, unlike the
seconds printed beside them (time Python waited for Node, per call: provisional on a busy machine).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
os.environ["PATH"] = f"{REPO / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}"  # the pinned Node

from jsii._kernel.providers import process as _process  # noqa: E402

from variants import EVERY_FEATURE  # noqa: E402

CLI_CONTEXT = {
    "aws:cdk:enable-path-metadata": True,
    "aws:cdk:enable-asset-metadata": True,
    "aws:cdk:version-reporting": True,
    "aws:cdk:bundling-stacks": ["**"],
    "@aws-cdk/core:failSynthOnValidationErrors": False,
}
"""What the CLI adds to cdk.json's context (``CDK_CONTEXT_JSON`` of ``cdk synth``, CLI 2.1148)."""

PACKAGE = str(REPO / "mmbatch_cdk") + os.sep


class Recorder:
    """Wraps ``_NodeProcess.send``: one record per round trip, with the phase and the calling mmbatch_cdk code."""

    def __init__(self) -> None:
        self._phase = "start"
        self.wall: dict[str, float] = {}
        self.starts: list[tuple[str, float]] = []
        self._since = time.perf_counter()
        self.calls: list[tuple[str, str, str, float]] = []  # phase, site, request, seconds
        original = _process._NodeProcess.send

        def send(process: Any, request: Any, response_type: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(process, request, response_type)
            finally:
                self.calls.append((self.phase, _site(), _describe(request), time.perf_counter() - start))

        _process._NodeProcess.send = send  # type: ignore[method-assign]

    @property
    def phase(self) -> str:
        """The phase now running; setting it closes the last phase's wall-clock time."""
        return self._phase

    @phase.setter
    def phase(self, name: str) -> None:
        now = time.perf_counter()
        self.wall[self._phase] = self.wall.get(self._phase, 0.0) + now - self._since
        self.starts.append((name, time.monotonic()))
        self._phase, self._since = name, now


def _site() -> str:
    """The innermost mmbatch_cdk frame on the stack (``module.py:function``), else ``(library)``."""
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith(PACKAGE):
            return f"{filename[len(PACKAGE):]}:{frame.f_code.co_name}"
        frame = frame.f_back  # type: ignore[assignment]
    return "(library)"


def _describe(request: Any) -> str:
    kind = type(request).__name__.removesuffix("Request").lstrip("_")
    if hasattr(request, "fqn") and hasattr(request, "method"):
        return f"sinvoke {request.fqn}.{request.method}"
    if hasattr(request, "fqn") and hasattr(request, "property"):
        return f"sget {request.fqn}.{request.property}"
    if hasattr(request, "fqn"):
        return f"create {request.fqn}"
    if hasattr(request, "method"):
        return f"invoke .{request.method}"
    if hasattr(request, "property"):
        return f"{kind.lower()} .{request.property}"
    return kind.lower()


def synth(recorder: Recorder, context_items: list[str]) -> None:
    """Build and synthesize as ``mmbatch_cdk.application.main`` does, switching ``recorder.phase`` between steps."""
    recorder.phase = "import aws_cdk"
    import aws_cdk as cdk

    recorder.phase = "import mmbatch_cdk"
    from mmbatch_cdk.application import build
    from mmbatch_cdk.config import MmBatchConfig
    from mmbatch_cdk.template_validation import register_template_validation

    context: dict[str, Any] = {**json.loads((REPO / "cdk.json").read_text())["context"], **CLI_CONTEXT}
    for item in context_items:
        key, _, value = item.partition("=")
        context[key] = value
    with tempfile.TemporaryDirectory() as outdir:
        recorder.phase = "settings"
        app = cdk.App(context=context, outdir=outdir)
        config = MmBatchConfig.from_context(app.node)
        recorder.phase = "validation engine"
        register_template_validation(app)
        recorder.phase = "constructs"
        build(app, config=config)
        recorder.phase = "synth"
        app.synth()
    recorder.phase = "end"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-c", dest="context", action="append", default=None, help="context key=value")
    parser.add_argument("--top", type=int, default=25, help="rows of the per-site and per-request tables")
    parser.add_argument("--json", type=Path, help="also write the counts to this file")
    args = parser.parse_args()
    items = EVERY_FEATURE if args.context is None else args.context
    recorder = Recorder()
    synth(recorder, items)

    calls = recorder.calls
    by_phase: dict[str, list[float]] = collections.defaultdict(list)
    by_site: dict[str, list[float]] = collections.defaultdict(list)
    by_request: dict[str, list[float]] = collections.defaultdict(list)
    for phase, site, request, seconds in calls:
        by_phase[phase].append(seconds)
        if phase == "constructs":
            by_site[site].append(seconds)
            by_request[request].append(seconds)

    def table(title: str, rows: dict[str, list[float]], top: int | None = None, wall: bool = False) -> None:
        print(f"\n{title:<70} {'calls':>6} {'Node s':>7}" + (f" {'wall s':>7}" if wall else ""))
        ordered = sorted(rows.items(), key=lambda kv: -len(kv[1])) if top else list(rows.items())
        for name, times in ordered[:top]:
            extra = f" {recorder.wall.get(name, 0.0):>7.2f}" if wall else ""
            print(f"{name[:70]:<70} {len(times):>6} {sum(times):>7.2f}{extra}")

    print(f"jsii round trips of one in-process synth of {' '.join(items) or 'the default deployment'}: {len(calls)}")
    table("phase", {name: by_phase.get(name, []) for name in recorder.wall if name not in ("start", "end")}, wall=True)
    table("constructs phase, by mmbatch_cdk site", by_site, args.top)
    table("constructs phase, by request", by_request, args.top)
    if args.json:
        args.json.write_text(json.dumps({
            "context": items, "total": len(calls), "starts": recorder.starts,
            "phases": {k: len(v) for k, v in by_phase.items()},
            "sites": {k: len(v) for k, v in sorted(by_site.items(), key=lambda kv: -len(kv[1]))},
            "calls": [call[:3] for call in calls],
        }, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
