"""Nextflow's configuration read by Groovy's ConfigSlurper (Debian's groovy), every key checked against Nextflow's
configuration reference, every value read back exactly as generated (quoting included). One JVM for all variants.

Nextflow itself does not install here (its launcher downloads its jars); ConfigSlurper is the Groovy parser
Nextflow's classic config parser extends (nextflow-io/nextflow modules/nextflow/.../config/parser/v1).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest

from mmbatch_cdk.aws_cli import AWS_CLI_PATH
from mmbatch_cdk.engines import nextflow_config

from ..debian import java_home

pytestmark = pytest.mark.needs_deb("groovy", "default-jre-headless")

_AWS_REF = "https://nextflow.io/docs/latest/reference/config.html#aws (nextflow-io/nextflow docs/reference/config/aws.mdx; " \
    "plugins/nf-amazon/src/main/nextflow/cloud/aws/config/AwsBatchConfig.groovy)"
_PROCESS_REF = "https://nextflow.io/docs/latest/reference/process.html (nextflow-io/nextflow docs/reference/process.mdx)"

NEXTFLOW_KEYS: dict[str, tuple[str, str]] = {
    # key: (the first Nextflow release that reads it, from `git log -S` on nextflow-io/nextflow and its tags; source)
    "process.executor": ("19.01.0", _PROCESS_REF),
    "process.queue": ("19.01.0", _PROCESS_REF),
    "process.containerOptions": ("19.01.0", _PROCESS_REF),
    "aws.region": ("19.01.0", _AWS_REF),
    "aws.batch.cliPath": ("19.01.0", _AWS_REF),
    "aws.batch.jobRole": ("19.07.0", _AWS_REF),  # helper C's branch adds it
    "aws.batch.maxSpotAttempts": ("22.04.0", _AWS_REF),  # default 5, 0 since 24.10: always set here
    "aws.batch.logsGroup": ("22.10.0", _AWS_REF),  # "Add support for AWS Batch logs group (#3092)"
    "workDir": ("19.01.0", "https://nextflow.io/docs/latest/reference/config.html#unscoped-options"),
}
"""Every key the generated configuration may set, with the Nextflow release that introduced it and its source.
The minimum Nextflow release for the generated configuration is the latest of these."""

MIN_NEXTFLOW = max((release for release, _ in NEXTFLOW_KEYS.values()), key=lambda v: tuple(map(int, v.split("."))))

QUEUE = "arn:aws:batch:eu-west-1:123456789012:job-queue/JobQueueEE3AD499-4kXWbTnLaEF2bSxY"
AWKWARD = "it's a \\path with $dollar ${brace} and \"quotes\""

VARIANTS: dict[str, dict[str, Any]] = {
    "full.config": {"queue": QUEUE, "region": "eu-west-1", "log_group": "MmBatch-ComputeJobLogs5B4A9D04-Xb7Qf1ZfhK3e",
                    "spot_attempts": 5, "environment": {"MMC_CHECKPOINT_MODE": "iterative", "MMC_CHECKPOINT_INTERVAL": "20m"},
                    "work_dir": "s3://team-pipelines/nextflow-work"},
    "bare.config": {"queue": "q", "region": "us-east-1", "log_group": "lg", "spot_attempts": 2, "cli_path": None},
    "quoting.config": {"queue": AWKWARD, "region": "eu-west-1", "log_group": AWKWARD, "spot_attempts": 10,
                       "cli_path": AWKWARD, "environment": {"MMC_X": AWKWARD}, "work_dir": AWKWARD},
}


def _expected(args: dict[str, Any]) -> dict[str, Any]:
    expected: dict[str, Any] = {"process.executor": "awsbatch", "process.queue": args["queue"], "aws.region": args["region"],
                                "aws.batch.maxSpotAttempts": args["spot_attempts"], "aws.batch.logsGroup": args["log_group"]}
    if args.get("cli_path", "default") is not None:
        expected["aws.batch.cliPath"] = args.get("cli_path", AWS_CLI_PATH)
    if args.get("environment"):
        expected["process.containerOptions"] = " ".join(f"--env {k}={v}" for k, v in args["environment"].items())
    if args.get("work_dir"):
        expected["workDir"] = args["work_dir"]
    return expected


@pytest.fixture(scope="module")
def slurped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, Any]]]:
    """What ConfigSlurper reads from each variant: ``{file name: {dotted key: value}}``."""
    directory = tmp_path_factory.mktemp("nextflow")
    for name, args in VARIANTS.items():
        (directory / name).write_text(nextflow_config(**args))
    script = Path(__file__).with_name("nextflow_config.groovy")
    env = {**os.environ, "JAVA_HOME": str(java_home())}
    result = subprocess.run(["groovy", str(script), str(directory)], capture_output=True, text=True, timeout=120, env=env,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr[-3000:]
    yield json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", list(VARIANTS))
def test_groovy_reads_every_nextflow_key_and_value_as_generated(slurped: dict[str, dict[str, Any]], name: str) -> None:
    read = slurped[name]
    unknown = sorted(set(read) - set(NEXTFLOW_KEYS))
    assert not unknown, f"not in Nextflow's configuration reference (or misspelt): {unknown}"
    assert read == _expected(VARIANTS[name])

