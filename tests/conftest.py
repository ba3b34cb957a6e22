"""Shared fixtures: each configuration is synthesized once per session, the way app.py does it.

One difference: the tests leave the template validation to CDK's own registration, whose engine is
built once per process, rather than building one per app (tests/test_template_validation.py).
"""

from __future__ import annotations

import gc
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import pytest

os.environ["PATH"] = f"{Path(__file__).resolve().parent.parent / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}"  # jsii: pinned Node

from . import debian  # noqa: E402

if TYPE_CHECKING:
    from .templates import Synth

REPO = Path(__file__).resolve().parent.parent
CDK_JSON_CONTEXT: dict[str, Any] = json.loads((REPO / "cdk.json").read_text())["context"]

EXISTING_VPC = {
    "vpcId": "vpc-0a1b2c3d4e5f60718",
    "subnetIds": "subnet-0a1b2c3d4e5f60711,subnet-0a1b2c3d4e5f60722",
    "managementSubnetId": "subnet-0a1b2c3d4e5f60733",
    "securityGroupId": "sg-0a1b2c3d4e5f60744",
}

# Named configurations; every test that reads one shares the same synthesized template.
CONFIGS: dict[str, dict[str, Any]] = {
    "efs": {},
    "efs-existing-vpc": {
        **EXISTING_VPC,
        "keyName": "ops",
        "adminCidr": "203.0.113.0/24",
        "mmabSource": "s3://example-artifacts/mmab/mmab-{version}.deb",
        "mmabSha256": "a" * 64,
        "efsThroughputMode": "provisioned",
        "efsProvisionedMibps": 256,
        "alarmEmail": "ops@example.org",
        "monthlyBudgetUsd": 500,
        "tags": "team=genomics,costCenter=cc-1234",
        "logRetentionDays": 90,
    },
    "juicefs": {"backend": "juicefs"},
    "juicefs-existing-vpc": {
        **EXISTING_VPC,
        "backend": "juicefs",
        "juicefsCacheGib": 100,
        "juicefsMaxUploads": 80,
        "juicefsBlockSizeMib": 8,
        "juicefsBufferSizeMib": 600,
        # Subnets without internet: the JuiceFS client from S3, pinned for the one architecture in use.
        "juicefsSource": "s3://example-artifacts/juicefs/juicefs-{version}-linux-{arch}.tar.gz",
        "juicefsSha256": "amd64:" + "c" * 64,
        "awsCliSource": "s3://example-artifacts/awscli/awscli-exe-linux-{arch}-2.22.0.zip",
        "awsCliSha256X86": "d" * 64,
        "awsCliPgpKeySource": "none",  # no keyserver from these subnets: the pinned checksum alone
        # No workspace and so no head queue (whose jobs pull public images): the opt-out, with a bucket name only.
        "workspace": "false",
        "workBucket": "team-work",
    },
    "efs-multiqueue": {"multiQueue": "true", "drill": "true", "workBucket": "team-pipelines",
                       "inputBuckets": "s3://ref-genomes/hg38,team-inputs"},
    "juicefs-multiqueue": {"backend": "juicefs", "multiQueue": True, "jq3InstanceTypes": "r7g.large,r7g.xlarge", "jq3MaxvCpus": 64,
                           "acknowledge": "mmabSourceMissing"},
    # The compliance profile: between them both backends, one and three queues, a new and an existing VPC.
    "efs-compliance": {"compliance": "hipaa", "privateOnly": "true", "multiQueue": "true", "awsCli": "false"},
    "juicefs-compliance": {**EXISTING_VPC, "backend": "juicefs", "compliance": "hipaa", "privateOnly": "true",
                           "acknowledge": "privateOnlyExistingVpc"},
}
COMPLIANCE_CONFIGS = [name for name, context in CONFIGS.items() if context.get("compliance", "none") != "none"]
"""The configurations whose synth runs the HIPAA Security and NIST 800-53 R5 packs too."""
BOOT_CONFIGS = [name for name in CONFIGS if name not in COMPLIANCE_CONFIGS]
"""What the boot-script tests read: the profile changes no boot script (juicefs-compliance's user data was
byte-identical without compliance=hipaa when the profile was added), so its configurations add nothing there."""


def synthesize(context: dict[str, Any], outdir: Path) -> Synth:
    """Build the app as app.py does, with cdk.json's context plus ``context``.

    aws-cdk-lib and the constructs are imported here, not at the top of this file: pytest-xdist's controller loads
    this file too but runs no test, and importing them there (jsii's Node with aws-cdk-lib, about 1.5 s of CPU) held
    back the start of the workers."""
    import aws_cdk as cdk

    from mmbatch_cdk.application import build
    from .templates import Synth

    # The CLI passes aws:cdk:disable-stack-trace unless --debug; so do the tests (it also saves time).
    app = cdk.App(context={**CDK_JSON_CONTEXT, "aws:cdk:disable-stack-trace": True, **context}, outdir=str(outdir))
    stack = build(app)
    assembly = app.synth()
    artifact = assembly.get_stack_by_name(stack.stack_name)
    return Synth(stack, artifact.template, Path(assembly.directory), Path(assembly.directory) / artifact.template_file)


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Synth]:
    """``synth(name)``: the named configuration from CONFIGS, synthesized once per session."""
    cache: dict[str, Synth] = {}

    def get(name: str) -> Synth:
        if name not in cache:
            cache[name] = synthesize(CONFIGS[name], tmp_path_factory.mktemp(name))
        return cache[name]

    return get


def pytest_runtest_setup(item: pytest.Item) -> None:
    """``needs_deb``: skip when a Debian package is missing, or fail when MMBATCH_REQUIRE_REAL=1 (CI)."""
    for mark in item.iter_markers("needs_deb"):
        missing = [package for package in mark.args if not debian.installed(package)]
        if missing:
            reason = f"needs the Debian package(s) {' '.join(missing)}: apt-get install {' '.join(missing)}"
            if os.environ.get(debian.REQUIRE_REAL) == "1":
                pytest.fail(f"{reason} ({debian.REQUIRE_REAL}=1: this test may not be skipped)", pytrace=False)
            pytest.skip(reason)


def pytest_unconfigure(config: pytest.Config) -> None:
    """As app.py does before exit: what the session made is frozen, so the interpreter's exit does not scan it."""
    gc.freeze()
