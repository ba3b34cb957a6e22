"""Time ``cdk synth`` of our app's variants against an empty CDK app; print medians, ratios and peak memory.

Usage: ``make bench`` or ``.venv/bin/python bench/synth.py [--runs N] [--json FILE]``.

Every measurement is one run of the pinned CLI (``node_modules/.bin/cdk synth --quiet``), as a user runs
it, into a fresh output directory. Runs are interleaved (one of each variant per round) so drift on a
busy machine touches every variant alike. Peak memory is the largest resident set of any one process of
the run (the CLI, the Python app or its jsii Node kernel), from ``wait4``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NODE_BIN = REPO / "node_modules" / ".bin"
"""The pinned Node (npm package ``node``) and CLI, first on PATH as in the Makefile."""
CDK = NODE_BIN / "cdk"
PYTHON = REPO / ".venv" / "bin" / "python"
GOAL = 1.5
"""Largest variant, cdk-nag on, at most this many times the empty app."""

VARIANTS: dict[str, list[str]] = {
    "empty app": ["--app", f"{PYTHON} {REPO / 'bench' / 'empty_app.py'}"],
    "empty app + cdk-nag": ["--app", f"{PYTHON} {REPO / 'bench' / 'nag_floor_app.py'}"],
    "efs": ["-c", "backend=efs"],
    "efs multiQueue": ["-c", "backend=efs", "-c", "multiQueue=true"],
    "juicefs": ["-c", "backend=juicefs"],
    "juicefs multiQueue": ["-c", "backend=juicefs", "-c", "multiQueue=true"],
    "juicefs multiQueue hipaa": ["-c", "backend=juicefs", "-c", "multiQueue=true", "-c", "compliance=hipaa",
                                 "-c", "privateOnly=true"],
}
NAG_FLOOR = "empty app + cdk-nag"
"""A reference row, not the baseline: what cdk-nag alone adds to an app (``bench/nag_floor_app.py``)."""
LARGEST = "juicefs multiQueue"
"""The largest default template, which the goal is about; ``... hipaa`` (opt-in, all three cdk-nag packs) is shown
beside it for what the compliance profile adds."""


def run_once(args: list[str], outdir: Path) -> tuple[float, int]:
    """Seconds and peak RSS (KiB) of one ``cdk synth``."""
    env = {**os.environ, "CDK_DISABLE_CLI_TELEMETRY": "1", "PATH": f"{NODE_BIN}{os.pathsep}{os.environ['PATH']}"}
    start = time.perf_counter()
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a long report cannot block the CLI
        process = subprocess.Popen(
            [str(CDK), "synth", "--quiet", "--output", str(outdir), *args],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=errors,
        )
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        errors.seek(0)
        stderr = errors.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"cdk synth {' '.join(args)} failed:\n{stderr}")
    return elapsed, usage.ru_maxrss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per variant (default 5)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    options = parser.parse_args()

    times: dict[str, list[float]] = {name: [] for name in VARIANTS}
    peaks: dict[str, int] = {name: 0 for name in VARIANTS}
    with tempfile.TemporaryDirectory() as tmp:
        run_once(VARIANTS["efs"], Path(tmp) / "warmup")  # fill OS caches and .pyc files first
        for round_ in range(options.runs):
            for name, args in VARIANTS.items():
                seconds, peak = run_once(args, Path(tmp) / f"{round_}-{len(times[name])}-{name.replace(' ', '-')}")
                times[name].append(seconds)
                peaks[name] = max(peaks[name], peak)
            print(f"round {round_ + 1}/{options.runs} done", file=sys.stderr)

    base = statistics.median(times["empty app"])
    rows = []
    node = subprocess.run([str(NODE_BIN / "node"), "--version"], capture_output=True, text=True).stdout.strip()
    print(f"\ncdk synth, median of {options.runs} runs ({os.cpu_count()} cores, Node {node})\n")
    print(f"{'variant':<26} {'median s':>9} {'min s':>7} {'max s':>7} {'x empty':>8} {'peak MiB':>9}")
    for name in VARIANTS:
        median = statistics.median(times[name])
        rows.append({"variant": name, "median_s": round(median, 2), "min_s": round(min(times[name]), 2),
                     "max_s": round(max(times[name]), 2), "ratio": round(median / base, 2),
                     "peak_mib": round(peaks[name] / 1024)})
        print(f"{name:<26} {median:>9.2f} {min(times[name]):>7.2f} {max(times[name]):>7.2f} "
              f"{median / base:>8.2f} {peaks[name] / 1024:>9.0f}")
    ratio = statistics.median(times[LARGEST]) / base
    verdict = "met" if ratio <= GOAL else "NOT met"
    print(f"\ngoal: {LARGEST} (cdk-nag on) at most {GOAL}x the empty app: {ratio:.2f}x, {verdict}")
    nag_floor = statistics.median(times[NAG_FLOOR])
    print(f"for reference: cdk-nag alone adds {nag_floor - base:.2f} s ({(nag_floor - base) / base:.0%} of the empty app); "
          f"{LARGEST} is {statistics.median(times[LARGEST]) / nag_floor:.2f}x the empty app with cdk-nag")
    if options.json:
        options.json.write_text(json.dumps({"runs": options.runs, "goal": GOAL, "variants": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
