"""N4: nodes install a pinned, versioned AWS CLI zip verified by its sha256, with no keyserver and no "latest" download."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mmbatch_cdk.aws_cli import (
    AWS_CLI_PINNED_SHA256,
    AWS_CLI_PINNED_SOURCE,
    AWS_CLI_VERSION,
    AwsCliInstall,
    aws_cli_zip_url,
)
from mmbatch_cdk.config import ConfigError, MmBatchConfig

from ..standins import run_script
from .test_aws_cli import env, fake_zip
from .values import FATAL


def test_the_pinned_version_and_checksums_agree_with_the_pinned_files_format() -> None:
    assert re.fullmatch(r"2\.[0-9]+\.[0-9]+", AWS_CLI_VERSION), AWS_CLI_VERSION
    assert AWS_CLI_PINNED_SOURCE == f"https://awscli.amazonaws.com/awscli-exe-linux-{{arch}}-{AWS_CLI_VERSION}.zip"
    assert AWS_CLI_PINNED_SOURCE == aws_cli_zip_url(AWS_CLI_VERSION)
    assert set(AWS_CLI_PINNED_SHA256) == {"x86_64", "aarch64"}, "one per `uname -m` the nodes report"
    assert all(re.fullmatch(r"[0-9a-f]{64}", digest) for digest in AWS_CLI_PINNED_SHA256.values())
    assert len(set(AWS_CLI_PINNED_SHA256.values())) == 2, "two architectures, two different files"


def test_the_default_install_makes_one_versioned_download_and_no_keyserver_call(tmp_path: Path) -> None:
    served = tmp_path / "served"
    served.mkdir()
    fake_zip(served / f"awscli-exe-linux-x86_64-{AWS_CLI_VERSION}.zip")  # not AWS's zip: its checksum differs
    run = run_script(AwsCliInstall().script(), tmp_path / "run", env({"dir": str(served)}))
    downloads = [c for c in run.calls if c.startswith(("curl ", "aws s3"))]
    assert downloads == [c for c in downloads if c.endswith(f"/awscli-exe-linux-x86_64-{AWS_CLI_VERSION}.zip")]
    assert len(downloads) == 1, downloads
    assert not any("keyserver" in c or c.endswith(".sig") or c.startswith("gpg") for c in run.calls)
    assert run.returncode == 1, "a zip other than the pinned one is refused"
    assert f"{FATAL}aws-cli: checksum mismatch" in run.stderr and AWS_CLI_PINNED_SHA256["x86_64"] in run.stderr
    assert not (run.root / "usr/local/aws-cli/bin/aws").exists()


def test_a_zip_with_the_pinned_checksum_installs(tmp_path: Path) -> None:
    served = tmp_path / "served"
    served.mkdir()
    digest = fake_zip(served / f"awscli-exe-linux-aarch64-{AWS_CLI_VERSION}.zip")
    install = AwsCliInstall(sha256_aarch64=digest)  # stands in for the pinned digest of AWS's real file
    run = run_script(install.script(), tmp_path / "run", {**env({"dir": str(served)}), "STANDIN_ARCH": "aarch64"})
    assert run.returncode == 0, run.stderr
    assert (run.root / "usr/local/aws-cli/bin/aws").exists()


@pytest.mark.parametrize("context, accepted", [
    ({"awsCliSource": "s3://my-artifacts/awscli/awscli-exe-linux-{arch}-" + AWS_CLI_VERSION + ".zip"}, True),
    ({"awsCliSource": "https://awscli.amazonaws.com/awscli-exe-linux-{arch}-2.40.0.zip"}, False),
    ({"awsCliSource": "https://awscli.amazonaws.com/awscli-exe-linux-{arch}-2.40.0.zip", "awsCliSha256X86": "a" * 64}, True),
    ({"awsCliSource": "https://awscli.amazonaws.com/awscli-exe-linux-{arch}.zip",
      "awsCliPgpKeySource": "s3://my-artifacts/keys/aws-cli-team.asc"}, True),
])
def test_another_release_needs_its_own_verification(context: dict[str, str], accepted: bool) -> None:
    if accepted:
        MmBatchConfig.from_mapping(context)
        return
    with pytest.raises(ConfigError) as caught:
        MmBatchConfig.from_mapping(context)
    (problem,) = caught.value.problems
    assert problem.startswith(f"awsCliSha256X86: awsCliSource is not AWS CLI {AWS_CLI_VERSION}'s zip")
