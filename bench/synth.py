"""Time ``cdk synth`` of each variant against the floor, in interleaved pairs; print ratios, medians and peak memory.

Usage: ``make bench`` or ``.venv/bin/python bench/synth.py [--runs N] [--json FILE]``.

The variants are in ``bench/variants.py``: the floor (an empty CDK app whose one resource cdk-nag's AwsSolutions
pack checks), the default deployment and the one with every feature on. Every measurement is one run of the
pinned CLI (``node_modules/.bin/cdk synth --quiet``) into a fresh output directory, as a user runs it. Each
variant runs in pairs with the floor, the order alternating from round to round, so load from other work on
the machine touches both halves of a pair alike; a variant's ratio is the median of its per-pair ratios.
Peak memory is the largest sum, over one run, of the resident sets of the whole process tree (the CLI, the
Python app and jsii's Node kernel), sampled every 20 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil  # type: ignore[import-untyped]  # no stubs; used for the process tree only

sys.path.insert(0, str(Path(__file__).resolve().parent))
from variants import FLOOR, GOALS, REPO, VARIANTS  # noqa: E402

NODE_BIN = REPO / "node_modules" / ".bin"
"""The pinned Node (npm package ``node``) and CLI, first on PATH as in the Makefile."""
CDK = NODE_BIN / "cdk"
SAMPLE_SECONDS = 0.02


def _tree_rss(process: psutil.Process) -> int:
    """Bytes resident in ``process`` and all its descendants now (processes that end meanwhile count 0)."""
    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            total += member.memory_info().rss
        except psutil.Error:
            pass
    return total


def run_once(args: list[str], outdir: Path) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system, the whole tree) and peak process-tree RSS (bytes) of one ``cdk synth``."""
    env = {**os.environ, "CDK_DISABLE_CLI_TELEMETRY": "1", "PATH": f"{NODE_BIN}{os.pathsep}{os.environ['PATH']}"}
    peak = 0
    done = threading.Event()
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a long report cannot block the CLI
        start = time.perf_counter()
        process = subprocess.Popen(
            [str(CDK), "synth", "--quiet", "--output", str(outdir), *args],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=errors,
        )

        def sample() -> None:
            nonlocal peak
            try:
                watched = psutil.Process(process.pid)
                while not done.wait(SAMPLE_SECONDS):
                    peak = max(peak, _tree_rss(watched))
            except psutil.Error:  # the CLI ended before the first sample
                pass

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, wait_status, usage = os.wait4(process.pid, 0)  # the CLI's usage includes the descendants it waited for
        elapsed = time.perf_counter() - start
        process.returncode = status = os.waitstatus_to_exitcode(wait_status)
        done.set()
        sampler.join()
        if status != 0:
            errors.seek(0)
            sys.exit(f"cdk synth {' '.join(args)} failed:\n{errors.read().decode()}")
    return elapsed, usage.ru_utime + usage.ru_stime, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="pairs per variant (default 5)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    options = parser.parse_args()

    measured = [name for name in VARIANTS if name != FLOOR]
    times: dict[str, list[float]] = {name: [] for name in VARIANTS}
    cpu: dict[str, list[float]] = {name: [] for name in VARIANTS}
    ratios: dict[str, list[float]] = {name: [] for name in measured}
    cpu_ratios: dict[str, list[float]] = {name: [] for name in measured}
    peaks: dict[str, int] = {name: 0 for name in VARIANTS}
    with tempfile.TemporaryDirectory() as tmp:
        count = 0

        def timed(name: str) -> tuple[float, float]:
            nonlocal count
            count += 1
            seconds, cpu_seconds, peak = run_once(VARIANTS[name], Path(tmp) / str(count))
            times[name].append(seconds)
            cpu[name].append(cpu_seconds)
            peaks[name] = max(peaks[name], peak)
            return seconds, cpu_seconds

        for name in VARIANTS:  # warm-up, not counted: OS caches, .pyc files
            run_once(VARIANTS[name], Path(tmp) / f"warmup-{count}")
            count += 1
        for round_ in range(options.runs):
            for name in measured:
                if round_ % 2 == 0:
                    floor = timed(FLOOR)
                    variant = timed(name)
                else:
                    variant = timed(name)
                    floor = timed(FLOOR)
                ratios[name].append(variant[0] / floor[0])
                cpu_ratios[name].append(variant[1] / floor[1])
            print(f"round {round_ + 1}/{options.runs} done", file=sys.stderr)

    node = subprocess.run([str(NODE_BIN / "node"), "--version"], capture_output=True, text=True).stdout.strip()
    load = os.getloadavg()[0]
    print(f"\ncdk synth, {options.runs} interleaved pairs per variant ({os.cpu_count()} cores, Node {node}, "
          f"load average at the end {load:.1f})\n")
    print(f"{'variant':<15} {'x floor':>8} {'goal':>5} {'median s':>9} {'min s':>7} {'max s':>7} {'peak MiB':>9} "
          f"{'CPU s':>6} {'CPU x floor':>11}")
    rows = []
    for name in VARIANTS:
        ratio = statistics.median(ratios[name]) if name in ratios else 1.0
        cpu_ratio = statistics.median(cpu_ratios[name]) if name in cpu_ratios else 1.0
        goal = GOALS.get(name)
        row = {"variant": name, "ratio": round(ratio, 2), "goal": goal, "cpu_s": round(statistics.median(cpu[name]), 2),
               "cpu_ratio": round(cpu_ratio, 2),
               "median_s": round(statistics.median(times[name]), 2), "min_s": round(min(times[name]), 2),
               "max_s": round(max(times[name]), 2), "peak_mib": round(peaks[name] / 2**20)}
        rows.append(row)
        print(f"{name:<15} {ratio:>8.2f} {goal or '':>5} {row['median_s']:>9.2f} {row['min_s']:>7.2f} "
              f"{row['max_s']:>7.2f} {row['peak_mib']:>9} {row['cpu_s']:>6.2f} {cpu_ratio:>11.2f}")
    print()
    for name, goal in GOALS.items():
        ratio = statistics.median(ratios[name])
        print(f"goal: {name} at most {goal}x the floor: {ratio:.2f}x, {'met' if ratio <= goal else 'NOT met'}")
    if options.json:
        options.json.write_text(json.dumps({"runs": options.runs, "load_average": round(load, 1), "variants": rows},
                                           indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
