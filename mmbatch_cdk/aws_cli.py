"""A verified, self-contained AWS CLI v2 on compute nodes, and Cromwell's fetch-and-run script, for workflow engines
that run host tools inside job containers.

- Nextflow's awsbatch executor mounts the grandparent directory of ``aws.batch.cliPath`` read-only into every
  job container and runs ``aws s3 cp`` from it (nextflow-io/nextflow AwsBatchTaskHandler.groovy,
  configJobDefRequest), so the CLI must not depend on the container's Python: AWS CLI v2's installer bundles its own.
- Cromwell's AWS Batch backend mounts the host's ``/usr/local/aws-cli`` and ``/usr/local/bin/fetch_and_run.sh``
  read-only into every job (at ``/usr/local/aws-cli`` and ``/var/scratch/fetch_and_run.sh``); with its S3 file
  system the job's command is ``/bin/bash -c /var/scratch/fetch_and_run.sh``, with ``BATCH_FILE_TYPE=script`` and
  ``BATCH_FILE_S3_URL`` naming the task script it stored, which calls ``/usr/local/aws-cli/v2/current/bin/aws s3``
  (broadinstitute/cromwell supportedBackends/aws/.../AwsBatchJobDefinition.scala, AwsBatchJob.scala).

So the CLI goes where AWS's installer puts it by default, ``/usr/local/aws-cli`` (``v2/current/bin/aws``, and
``bin/aws`` for Nextflow), and the node writes its own ``fetch_and_run.sh`` (``user_data/fetch_and_run.sh``). The
install runs from a user-data part rendered from ``user_data/aws_cli_install.sh``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Optional, Union

from .package_source import package_source_problem
from .user_data import render

__all__ = [
    "AWS_CLI_DEFAULT_KEY_SOURCE",
    "AWS_CLI_DEFAULT_SOURCE",
    "AWS_CLI_PINNED_SHA256",
    "AWS_CLI_PINNED_SOURCE",
    "AWS_CLI_VERSION",
    "AWS_CLI_DIR",
    "AWS_CLI_KEY_WARNING",
    "AWS_CLI_PATH",
    "AWS_CLI_PGP_FINGERPRINT",
    "AwsCliInstall",
    "FETCH_AND_RUN_PATH",
    "aws_cli_install_script",
    "aws_cli_zip_url",
]

AWS_CLI_DIR = "/usr/local/aws-cli"
"""Install directory: the installer's default, which Cromwell mounts into job containers at the same path, as Nextflow
mounts the grandparent of :data:`AWS_CLI_PATH`; job images' own ``/usr/local/aws-cli`` (if any) is hidden by it."""

AWS_CLI_PATH = f"{AWS_CLI_DIR}/bin/aws"
"""The CLI's fixed path (``aws.batch.cliPath``)."""

AWS_CLI_DEFAULT_SOURCE = "https://awscli.amazonaws.com/awscli-exe-linux-{arch}.zip"
"""AWS's download of the latest AWS CLI v2; ``{arch}`` becomes ``x86_64`` or ``aarch64`` on the node. Unversioned, so it
can only be checked by AWS's signature (a key to fetch): :func:`aws_cli_install_script`'s default, not the nodes'."""


def aws_cli_zip_url(version: str) -> str:
    """AWS's URL of AWS CLI ``version``'s zip, ``{arch}`` left for the node: the versioned file name AWS's install guide
    gives ("append a hyphen and the version number to the filename", e.g. ``awscli-exe-linux-x86_64-2.0.30.zip``)."""
    return f"https://awscli.amazonaws.com/awscli-exe-linux-{{arch}}-{version}.zip"


# The nodes' AWS CLI, pinned: a new release is a change of these three lines. AWS publishes no checksum of its zips;
# these are the sha256 of the 2.36.7 zips as two unrelated projects pin them, in agreement: marbre/TheRock
# dockerfiles/install_awscli.sh (commit 02f9859c) and a sandbox image's Dockerfile (ARG AWS_CLI_SHA256_AMD64 /
# AWS_CLI_SHA256_ARM64, "per-architecture installer digests"). A zip that differs is refused at boot (fail closed).
AWS_CLI_VERSION = "2.36.7"
"""The AWS CLI release nodes install by default."""
AWS_CLI_PINNED_SHA256 = {
    "x86_64": "d641283d37f1a2168457a9f26a20d4e29167652e9ab1719b37114ef1ebe859f4",
    "aarch64": "85826b67912b44bb45d1e46c6e66f383c14405ee0b2f4686f73bdf949c93bd61",
}
"""sha256 of :data:`AWS_CLI_VERSION`'s zip, by architecture (``uname -m``)."""
AWS_CLI_PINNED_SOURCE = aws_cli_zip_url(AWS_CLI_VERSION)
"""Where nodes get :data:`AWS_CLI_VERSION` by default: one versioned download, checked against :data:`AWS_CLI_PINNED_SHA256`."""

AWS_CLI_PGP_FINGERPRINT = "FB5DB77FD5C118B80511ADA8A6310ACC4672475C"
"""Primary key fingerprint of "AWS CLI Team <aws-cli@amazon.com>" as AWS's install guide prints it
(``FB5D B77F D5C1 18B8 0511 ADA8 A631 0ACC 4672 475C``)."""

AWS_CLI_DEFAULT_KEY_SOURCE = f"https://keyserver.ubuntu.com/pks/lookup?op=get&search=0x{AWS_CLI_PGP_FINGERPRINT}"
"""Where nodes fetch the AWS CLI Team key by default: the Ubuntu keyserver's HKP lookup of the pinned fingerprint. The
keyserver only carries the key; what is trusted is the fingerprint, which the signature's key must have."""

AWS_CLI_KEY_WARNING = "mmbatch:awsCliKeyFromInternet"
"""Warning id: the zip comes from S3 (subnets without internet, presumably) but the key from the keyserver."""

FETCH_AND_RUN_PATH = "/usr/local/bin/fetch_and_run.sh"
"""Where Cromwell's AWS Batch backend expects the fetch-and-run script on the host."""

_FETCH_AND_RUN_MARKER = "@FETCH_AND_RUN_SCRIPT@"
"""The line of ``aws_cli_install.sh`` that :func:`aws_cli_install_script` replaces with the rendered script."""

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_FINGERPRINT = re.compile(r"^[0-9A-F]{40}$")


def aws_cli_install_script(
    *,
    source: str = AWS_CLI_DEFAULT_SOURCE,
    sha256_x86_64: Optional[str] = None,
    sha256_aarch64: Optional[str] = None,
    pgp_key_source: Optional[str] = AWS_CLI_DEFAULT_KEY_SOURCE,
    pgp_fingerprint: str = AWS_CLI_PGP_FINGERPRINT,
    node_settings: Optional[Mapping[str, Union[str, int]]] = None,
) -> str:
    """The rendered boot script installing the AWS CLI at :data:`AWS_CLI_PATH` and Cromwell's
    :data:`FETCH_AND_RUN_PATH`, for a node's user data.

    At least one way to verify the download is required: AWS's PGP signature (the ``.sig`` file beside the
    zip; for ``s3://`` sources copy it there too) by the key with primary fingerprint ``pgp_fingerprint``,
    and/or a sha256 per architecture the queue uses (pin a versioned zip, e.g.
    ``awscli-exe-linux-{arch}-2.22.0.zip``, whose checksum you took once). The key is fetched at boot, from
    a keyserver by default or from your bucket (the AWS CLI Team key block from AWS's install guide), rather
    than written into the user data, which EC2 caps at 16 KiB; the pinned fingerprint is what is trusted.

    :param source: ``https://`` URL or ``s3://bucket/key`` of the zip; ``{arch}`` is replaced on the node.
        Default: :data:`AWS_CLI_DEFAULT_SOURCE`.
    :param sha256_x86_64: sha256 of the x86_64 zip. Default: none.
    :param sha256_aarch64: sha256 of the aarch64 zip. Default: none.
    :param pgp_key_source: ``https://`` URL or ``s3://bucket/key`` of the AWS CLI Team public key; None to rely on
        checksums only. Default: :data:`AWS_CLI_DEFAULT_KEY_SOURCE`.
    :param pgp_fingerprint: the fingerprint the signature's key must have. Default: :data:`AWS_CLI_PGP_FINGERPRINT`.
    :param node_settings: the settings every node script takes (``NodeSettings.boot_settings``: a refused or failed
        install is a failed boot). Default: shut down one minute after a failure.
    """
    for name, value in (("awsCliSource", source), ("awsCliPgpKeySource", pgp_key_source)):
        problem = None if value is None else package_source_problem(value)
        if problem:
            raise ValueError(f"{name} {problem}")
    for name, value in (("awsCliSha256X86", sha256_x86_64), ("awsCliSha256Arm64", sha256_aarch64)):
        if value is not None and not _SHA256.match(value):
            raise ValueError(f"{name} {value!r} is not accepted; expected 64 lowercase hex digits")
    fingerprint = pgp_fingerprint.replace(" ", "").upper()
    if not _FINGERPRINT.match(fingerprint):
        raise ValueError(f"awsCliPgpFingerprint {pgp_fingerprint!r} is not accepted; expected 40 hex digits")
    if not (sha256_x86_64 or sha256_aarch64 or pgp_key_source):
        raise ValueError(
            "the AWS CLI install needs a way to verify the download: set awsCliSha256X86 / awsCliSha256Arm64 "
            "(pin a versioned zip) or awsCliPgpKeySource (where the AWS CLI Team key is kept)"
        )
    script = render(
        "aws_cli_install.sh",
        {
            "FATAL_SHUTDOWN_MINUTES": 1,
            **(node_settings or {}),
            "AWS_CLI_SOURCE": source,
            "AWS_CLI_DIR": AWS_CLI_DIR,
            "AWS_CLI_SHA256_X86_64": sha256_x86_64 or "",
            "AWS_CLI_SHA256_AARCH64": sha256_aarch64 or "",
            "AWS_CLI_PGP_KEY_SOURCE": pgp_key_source or "",
            "AWS_CLI_PGP_FINGERPRINT": fingerprint,
            "FETCH_AND_RUN_PATH": FETCH_AND_RUN_PATH,
        },
    )
    # The script goes in as a quoted here-document, so none of its $ or quotes is expanded on the way.
    return script.replace(_FETCH_AND_RUN_MARKER, fetch_and_run_script().rstrip("\n"))


def fetch_and_run_script() -> str:
    """The script nodes write to :data:`FETCH_AND_RUN_PATH` for Cromwell (``user_data/fetch_and_run.sh``, compacted)."""
    return render("fetch_and_run.sh", {"AWS_CLI_BIN": f"{AWS_CLI_DIR}/v2/current/bin/aws"})


@dataclass(frozen=True)
class AwsCliInstall:
    """The AWS CLI every node installs at :data:`AWS_CLI_PATH` (see :func:`aws_cli_install_script`).

    By default one versioned zip (:data:`AWS_CLI_VERSION`) verified by its pinned sha256: no keyserver, no "latest"
    download, nothing that changes between the zip and a signature. AWS's PGP signature check stays available:
    give ``pgp_key_source`` (the AWS CLI Team key, kept in your bucket).

    :param source: ``https://`` URL or ``s3://bucket/key`` of the zip (``{arch}``: x86_64 or aarch64).
        Default: :data:`AWS_CLI_PINNED_SOURCE`.
    :param sha256_x86_64: sha256 of the x86_64 zip. Default: the pinned release's.
    :param sha256_aarch64: sha256 of the aarch64 zip. Default: the pinned release's.
    :param pgp_key_source: where the AWS CLI Team public key is kept, to check AWS's signature (the ``.sig`` beside
        the zip) as well; None for checksums only. Default: None.
    :param pgp_fingerprint: the fingerprint the signing key must have. Default: :data:`AWS_CLI_PGP_FINGERPRINT`.
    """

    source: str = AWS_CLI_PINNED_SOURCE
    sha256_x86_64: Optional[str] = AWS_CLI_PINNED_SHA256["x86_64"]
    sha256_aarch64: Optional[str] = AWS_CLI_PINNED_SHA256["aarch64"]
    pgp_key_source: Optional[str] = None
    pgp_fingerprint: str = AWS_CLI_PGP_FINGERPRINT

    def script(self, node_settings: Optional[Mapping[str, Union[str, int]]] = None) -> str:
        """The rendered install script (a node user-data part); ValueError when nothing verifies the download."""
        return aws_cli_install_script(
            source=self.source, sha256_x86_64=self.sha256_x86_64, sha256_aarch64=self.sha256_aarch64,
            pgp_key_source=self.pgp_key_source, pgp_fingerprint=self.pgp_fingerprint, node_settings=node_settings,
        )

    def key_from_internet_warning(self) -> Optional[str]:
        """Why this install probably cannot verify on subnets without internet, or None: an ``s3://`` zip with the key
        still from the keyserver (:data:`AWS_CLI_DEFAULT_KEY_SOURCE`)."""
        if not (self.source.startswith("s3://") and self.pgp_key_source == AWS_CLI_DEFAULT_KEY_SOURCE):
            return None
        return ("The AWS CLI zip comes from S3 (awsCliSource), but nodes still fetch the AWS CLI Team key from "
                "keyserver.ubuntu.com (awsCliPgpKeySource), which subnets without internet cannot reach: copy "
                "the key to S3 and set awsCliPgpKeySource=s3://... (AwsCliInstall(pgp_key_source=...)), or set it to none "
                "with a checksum per architecture.")

    def s3_objects(self) -> list[str]:
        """``bucket/key`` of every S3 object a node reads: the zip of either architecture, its signature, the key."""
        objects = []
        for uri, signed in ((self.source, True), (self.pgp_key_source, False)):
            if uri and uri.startswith("s3://"):
                key = uri[len("s3://"):].replace("{arch}", "*")
                objects.append(key)
                if signed and self.pgp_key_source:
                    objects.append(f"{key}.sig")
        return objects
