"""Where one synth's time goes: jsii round trips, Python time and Node CPU time, by phase and by component.

Usage: ``.venv/bin/python bench/phases.py [--variant NAME] [--top N] [--json FILE]`` (variants of
``bench/variants.py``; default: ``every feature``, and ``floor`` for the empty app with cdk-nag).

The synth runs in a child process, in-process (no CLI), built as ``app.py`` builds it, its garbage-collector
settings included (the floor as ``bench/nag_floor_app.py``), with the context the CLI passes. Three recorders:

- every request Python writes to jsii's Node kernel is one round trip (``_NodeProcess.send``): creates,
  invokes, property gets and sets, and the answers to Node's callbacks into Python. Counted per phase and
  per innermost ``mmbatch_cdk`` function on the stack. The counts do not depend on the machine's load.
- jsii's Node runs under V8's sampling profiler (``--cpu-prof``, through ``JSII_NODE``); each sample is put in
  the phase whose wall-clock span holds it (both clocks are CLOCK_MONOTONIC) and in a component: the
  aws-cdk-lib module, cdk-nag, the CloudFormation validation engine (WebAssembly), jsii's kernel, garbage
  collection. ``waiting for Python`` is the kernel blocked reading its pipe. Seconds are provisional on a
  busy machine; the shares are steadier.
- Python's garbage collector: the collections in each phase and their seconds (``gc.callbacks``).
"""

from __future__ import annotations

import argparse
import collections
import gc
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from variants import EVERY_FEATURE, FLOOR, REPO, VARIANTS  # noqa: E402

CLI_CONTEXT = {
    "aws:cdk:enable-path-metadata": True,
    "aws:cdk:enable-asset-metadata": True,
    "aws:cdk:version-reporting": True,
    "aws:cdk:bundling-stacks": ["**"],
    "@aws-cdk/core:failSynthOnValidationErrors": False,
}
"""What the CLI adds to cdk.json's context (``CDK_CONTEXT_JSON`` of ``cdk synth``, CLI 2.1148)."""
PACKAGE = str(REPO / "mmbatch_cdk") + os.sep
NODE = REPO / "node_modules" / ".bin" / "node"
IDLE = {"read": "waiting for Python", "(idle)": "waiting for Python", "(program)": "V8 (program)",
        "(garbage collector)": "garbage collection"}


# --- child: one synth with the round-trip recorder -------------------------------------------------------------

class Recorder:
    """Wraps jsii's ``_NodeProcess.send``: one record per round trip, with the phase and the calling mmbatch_cdk code."""

    def __init__(self) -> None:
        from jsii._kernel.providers import process

        self.calls: list[tuple[str, str, str]] = []  # phase, site, request
        self.starts: list[tuple[str, float]] = [("start", time.monotonic())]
        self.collections: dict[str, list[float]] = collections.defaultdict(list)  # phase: seconds of each
        self._collecting = 0.0
        gc.callbacks.append(self._gc)
        original = process._NodeProcess.send

        def send(node: Any, request: Any, response_type: Any) -> Any:
            self.calls.append((self.starts[-1][0], _site(), _describe(request)))
            return original(node, request, response_type)

        process._NodeProcess.send = send  # type: ignore[method-assign, assignment]

    def _gc(self, event: str, info: dict[str, int]) -> None:
        if event == "start":
            self._collecting = time.perf_counter()
        else:
            self.collections[self.starts[-1][0]].append(time.perf_counter() - self._collecting)

    def phase(self, name: str) -> None:
        """Start phase ``name``."""
        self.starts.append((name, time.monotonic()))


def _site() -> str:
    """The innermost mmbatch_cdk function on the stack (``module.py:function``), else ``(library)``."""
    frame: Any = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith(PACKAGE):
            return f"{filename[len(PACKAGE):]}:{frame.f_code.co_name}"
        frame = frame.f_back
    return "(library)"


def _describe(request: Any) -> str:
    if hasattr(request, "fqn"):
        member = getattr(request, "method", None) or getattr(request, "property", None)
        return f"{request.fqn}.{member}" if member else f"new {request.fqn}"
    member = getattr(request, "method", None) or getattr(request, "property", None)
    kind = type(request).__name__.removesuffix("Request").lstrip("_").lower()
    return f"{kind} .{member}" if member else kind


def child(variant: str, out: Path) -> None:
    recorder = Recorder()
    if variant != FLOOR:
        gc.disable()  # as app.py, for the whole run
    recorder.phase("import aws_cdk")
    import aws_cdk as cdk

    context: dict[str, Any] = {**json.loads((REPO / "cdk.json").read_text())["context"], **CLI_CONTEXT}
    with tempfile.TemporaryDirectory() as outdir:
        if variant == FLOOR:  # as bench/nag_floor_app.py
            recorder.phase("import cdk_nag")
            import cdk_nag

            recorder.phase("constructs")
            app = cdk.App(context=context, outdir=outdir)
            cdk.CfnWaitConditionHandle(cdk.Stack(app, "Empty"), "Handle")
            cdk.Validations.of(app).add_plugins(cdk_nag.AwsSolutionsChecks(app))
        else:  # as mmbatch_cdk.application.main
            recorder.phase("import application")
            from mmbatch_cdk import application

            for item in (EVERY_FEATURE if variant == "every feature" else []):
                key, _, value = item.partition("=")
                context[key] = value
            app = cdk.App(context=context, outdir=outdir)
            recorder.phase("validation engine")  # and, on a second thread meanwhile, the constructs' imports
            application._prepare(app)
            recorder.phase("settings")
            from mmbatch_cdk.config import MmBatchConfig

            config = MmBatchConfig.from_context(app.node)
            recorder.phase("constructs")
            application.build(app, config=config)
        recorder.phase("synth")
        app.synth()
    recorder.phase("exit")
    out.write_text(json.dumps({"calls": recorder.calls, "starts": recorder.starts, "collections": recorder.collections,
                               "tracked_objects": len(gc.get_objects()) + gc.get_freeze_count()}))
    if variant != FLOOR:
        gc.freeze()  # as app.py


# --- parent: run the child under the profiler, then attribute ---------------------------------------------------

def _component(frame: dict[str, Any]) -> str:
    url, name = frame["url"], frame["functionName"]
    if not url:
        return IDLE.get(name, "node internals" if name else "V8 (other)")
    if url.startswith("wasm://"):
        return "CloudFormation validation engine (wasm)"
    if match := re.search(r"aws-cdk-lib/(?!node_modules/)([^/]+)/", url):
        return f"aws-cdk-lib {match.group(1)}"
    if match := re.search(r"node_modules/((?:@[^/]+/)?[^/]+)/", url):
        return match.group(1)
    if url.startswith("node:"):
        return "node internals"
    return "jsii kernel" if url.endswith("program.js") else url.rsplit("/", 1)[-1]


def _library(component: str) -> bool:
    return component.startswith(("aws-cdk-lib", "cdk-nag", "constructs", "CloudFormation", "@aws"))


def attribute(profile: dict[str, Any], starts: list[tuple[str, float]]) -> dict[str, collections.Counter[str]]:
    """Node CPU seconds per phase and component; a sample in node's internals counts for the library code calling them."""
    nodes = {node["id"]: node for node in profile["nodes"]}
    parents = {child: node["id"] for node in profile["nodes"] for child in node.get("children", [])}
    owners: dict[int, str] = {}

    def owner(node_id: int) -> str:
        if node_id not in owners:
            own = _component(nodes[node_id]["callFrame"])
            current: int | None = node_id
            if own in ("node internals", "V8 (other)"):
                while current is not None and not _library(_component(nodes[current]["callFrame"])):
                    current = parents.get(current)
                if current is not None:
                    own = _component(nodes[current]["callFrame"])
            owners[node_id] = own
        return owners[node_id]

    bounds = [(name, seconds * 1e6) for name, seconds in starts]
    result: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    timestamp = profile["startTime"]
    index = 0
    for sample, delta in zip(profile["samples"], profile["timeDeltas"]):
        timestamp += delta
        while index + 1 < len(bounds) and timestamp >= bounds[index + 1][1]:
            index += 1
        result[bounds[index][0]][owner(sample)] += delta / 1e6
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variant", default="every feature", choices=list(VARIANTS))
    parser.add_argument("--top", type=int, default=15, help="rows per table (default 15)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.variant, args.child)
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        wrapper = Path(tmp) / "node"
        wrapper.write_text(f'#!/bin/sh\nexec "{NODE}" --cpu-prof --cpu-prof-dir="{tmp}/prof" "$@"\n')
        wrapper.chmod(0o755)
        env = {**os.environ, "JSII_NODE": str(wrapper), "PYTHONPATH": str(REPO),
               "PATH": f"{NODE.parent}{os.pathsep}{os.environ['PATH']}"}
        record = Path(tmp) / "record.json"
        # The child runs with this process's -O, if any: cdk.json runs the app with it, `make bench` runs this with it.
        optimize = ["-O"] * sys.flags.optimize
        subprocess.run([sys.executable, *optimize, __file__, "--variant", args.variant, "--child", str(record)],
                       env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        data = json.loads(record.read_text())
        # jsii's runtime starts the kernel as a child Node; the kernel's profile is the large one.
        profile_file = max((Path(tmp) / "prof").glob("*.cpuprofile"), key=lambda p: p.stat().st_size)
        node = attribute(json.loads(profile_file.read_text()), data["starts"])

    starts = data["starts"]
    wall = {name: end - begin for (name, begin), (_, end) in zip(starts, starts[1:])}
    calls: dict[str, int] = collections.Counter(phase for phase, _, _ in data["calls"])
    print(f"one in-process synth of {args.variant!r}: {len(data['calls'])} jsii round trips\n")
    print(f"{'phase':<20} {'round trips':>11} {'wall s':>7} {'Node busy s':>11} {'Python s':>9} {'Python GC':>14}")
    for name in wall:
        busy = sum(s for component, s in node[name].items() if component != "waiting for Python")
        runs = data["collections"].get(name, [])
        print(f"{name:<20} {calls.get(name, 0):>11} {wall[name]:>7.2f} {busy:>11.2f} {max(wall[name] - busy, 0):>9.2f} "
              f"{len(runs):>5} {sum(runs):>6.2f} s")
    print(f"objects the collector tracks at exit: {data['tracked_objects']}")
    for name in ("constructs", "synth"):
        print(f"\nNode CPU during {name}, by component{'':<26} {'s':>6}")
        for component, seconds in node[name].most_common(args.top):
            print(f"  {component:<60} {seconds:>6.2f}")
    sites = collections.Counter(site for phase, site, _ in data["calls"] if phase == "constructs")
    requests = collections.Counter(request for phase, _, request in data["calls"] if phase == "constructs")
    for title, counter in (("mmbatch_cdk function", sites), ("request", requests)):
        print(f"\nround trips while building constructs, by {title}{'':<14} {'calls':>6}")
        for name, count in counter.most_common(args.top):
            print(f"  {name[:62]:<62} {count:>6}")
    if args.json:
        args.json.write_text(json.dumps({
            "variant": args.variant, "round_trips": dict(calls), "wall_s": wall,
            "node_s": {phase: dict(counter) for phase, counter in node.items()},
            "sites": dict(sites.most_common()), "requests": dict(requests.most_common()),
        }, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
