"""Where the synth time of one variant goes: imports, constructs, cdk-nag, CloudFormation validation.

Usage: ``.venv/bin/python bench/phases.py [--runs N] [-c key=value ...]`` (default: the largest variant,
``backend=juicefs multiQueue=true``). Each run is a fresh process, in-process (no CLI), with the context the
CLI passes, registering CDK's template validation first as app.py does. cdk-nag and that validation
(``CDK_VALIDATION``) are switched off in some runs so their cost shows as a difference.
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
# What the CLI adds to cdk.json's context (CDK_CONTEXT_JSON of `cdk synth`, CLI 2.1148).
CLI_CONTEXT = {
    "aws:cdk:enable-path-metadata": True,
    "aws:cdk:enable-asset-metadata": True,
    "aws:cdk:version-reporting": True,
    "aws:cdk:bundling-stacks": ["**"],
    "@aws-cdk/core:failSynthOnValidationErrors": False,
}


def measure(context: dict[str, object], outdir: str, nag: bool) -> dict[str, float]:
    """One synth in this process; seconds per phase."""
    start = time.perf_counter()
    import aws_cdk as cdk

    imported_cdk = time.perf_counter()
    from mmbatch_cdk import MmBatchConfig, MmBatchStack, register_template_validation
    from mmbatch_cdk.nag import add_nag

    imported = time.perf_counter()
    app = cdk.App(context=context, outdir=outdir)
    config = MmBatchConfig.from_context(app.node)
    configured = time.perf_counter()
    register_template_validation(app)  # as app.py does; a no-op when CDK_VALIDATION=false
    registered = time.perf_counter()
    MmBatchStack(app, "Bench", config=config)
    built = time.perf_counter()
    if nag:
        add_nag(app)
    nag_added = time.perf_counter()
    app.synth()
    done = time.perf_counter()
    return {
        "import aws_cdk": imported_cdk - start,
        "import mmbatch_cdk": imported - imported_cdk,
        "validation engine": registered - configured,
        "constructs": built - registered + configured - imported,
        "load cdk-nag": nag_added - built,
        "synth": done - nag_added,
        "total": done - start,
    }


def child(args: argparse.Namespace) -> None:
    context = {**json.loads((REPO / "cdk.json").read_text())["context"], **CLI_CONTEXT}
    for item in args.context:
        key, _, value = item.partition("=")
        context[key] = value
    with tempfile.TemporaryDirectory() as outdir:
        print(json.dumps(measure(context, outdir, nag=not args.no_nag)))


def run(extra: list[str], validation: bool, runs: int) -> dict[str, float]:
    # jsii runs on the pinned Node (npm package ``node``), first on PATH as in the Makefile.
    env = {**os.environ, "PATH": f"{REPO / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": str(REPO), "CDK_VALIDATION": "true" if validation else "false"}
    samples = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, __file__, "--child", *extra], env=env, capture_output=True, text=True, check=True)
        samples.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {key: statistics.median(s[key] for s in samples) for key in samples[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("-c", dest="context", action="append", default=[], help="context key=value")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-nag", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return 0
    context = args.context or ["backend=juicefs", "multiQueue=true"]
    extra = [arg for item in context for arg in ("-c", item)]
    full = run(extra, validation=True, runs=args.runs)
    no_validation = run(extra, validation=False, runs=args.runs)
    bare = run([*extra, "--no-nag"], validation=False, runs=args.runs)
    rows = {
        "import aws_cdk (jsii kernel, aws-cdk-lib)": full["import aws_cdk"],
        "import mmbatch_cdk (aws-cdk-lib submodules)": full["import mmbatch_cdk"],
        "constructs (jsii round-trips, JS module loads)": full["constructs"],
        "load cdk-nag": full["load cdk-nag"],
        "synth: templates and assets": bare["synth"],
        "synth: cdk-nag rules": no_validation["synth"] - bare["synth"],
        "CloudFormation validation (CDK's): build its engine": full["validation engine"],
        "CloudFormation validation (CDK's): check the template": full["synth"] - no_validation["synth"],
    }
    print(f"in-process synth of {' '.join(context)}, median of {args.runs} runs per mode\n")
    for name, seconds in rows.items():
        print(f"{name:<54} {seconds:6.2f} s")
    print(f"{'total (no CLI)':<54} {full['total']:6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
