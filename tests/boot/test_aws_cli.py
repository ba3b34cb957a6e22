"""The AWS CLI install boot script, run for real in a temporary root with stand-ins and a fake AWS CLI zip."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time
import zipfile
from pathlib import Path
from typing import Optional

import pytest

from mmbatch_cdk.aws_cli import (
    AWS_CLI_DEFAULT_KEY_SOURCE,
    AWS_CLI_PATH,
    AWS_CLI_PGP_FINGERPRINT,
    FETCH_AND_RUN_PATH,
    AwsCliInstall,
    aws_cli_install_script,
    fetch_and_run_script,
)
from mmbatch_cdk.user_data import render

from ..standins import run_script

# The fake installer takes the real one's -i/-b (--install-dir/--bin-dir) options and lays out the same
# v2/current/bin/aws plus a bin-dir symlink, so the script's path logic is what gets tested.
FAKE_INSTALL = """#!/bin/sh
printf 'install %s\\n' "$*" >>"$STANDIN_LOG"
while [ $# -gt 0 ]; do
  case "$1" in --install-dir|-i) dir=$2; shift ;; --bin-dir|-b) bindir=$2; shift ;; esac
  shift
done
mkdir -p "$dir/v2/current/bin" "$bindir"
printf '#!/bin/sh\\necho "aws-cli/2.99.0 Python/3.12 (fake)"\\n' >"$dir/v2/current/bin/aws"
chmod 755 "$dir/v2/current/bin/aws"
ln -sf "$dir/v2/current/bin/aws" "$bindir/aws"
"""


def fake_zip(path: Path) -> str:
    """Write a zip holding aws/install (mode 755) and return its sha256."""
    with zipfile.ZipFile(path, "w") as z:
        info = zipfile.ZipInfo("aws/install")
        info.external_attr = 0o100755 << 16
        z.writestr(info, FAKE_INSTALL)
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def served(tmp_path: Path) -> dict[str, str]:
    """A download directory with fake zips for both architectures, and their checksums."""
    directory = tmp_path / "served"
    directory.mkdir()
    return {
        "dir": str(directory),
        "x86_64": fake_zip(directory / "awscli-exe-linux-x86_64.zip"),
        "aarch64": fake_zip(directory / "awscli-exe-linux-aarch64.zip"),
    }


def env(served: dict[str, str], **extra: str) -> dict[str, str]:
    return {"STANDIN_CURL_DIR": served["dir"], "STANDIN_ARCH": "x86_64", **extra}


def test_installs_at_the_fixed_path_after_checking_the_checksum(tmp_path: Path, served) -> None:
    script = aws_cli_install_script(pgp_key_source=None, sha256_x86_64=served["x86_64"], sha256_aarch64=served["aarch64"])
    run = run_script(script, tmp_path / "a", env(served))
    assert run.returncode == 0, run.stderr
    assert AWS_CLI_PATH == "/usr/local/aws-cli/bin/aws"
    binary = run.root / AWS_CLI_PATH.lstrip("/")
    assert binary.is_symlink() and os.readlink(binary) == f"{run.root}/usr/local/aws-cli/v2/current/bin/aws"
    assert subprocess.run([str(binary), "--version"], capture_output=True, text=True).stdout.startswith("aws-cli/2.99.0")
    assert any(c.startswith("curl ") and c.endswith("https://awscli.amazonaws.com/awscli-exe-linux-x86_64.zip") for c in run.calls)
    assert f"install --install-dir {run.root}/usr/local/aws-cli --bin-dir {run.root}/usr/local/aws-cli/bin --update" in run.calls
    log = run.file("/var/log/mmbatch/boot.log")
    assert "sha256 verified" in log and "AWS CLI installed at /usr/local/aws-cli/bin/aws: aws-cli/2.99.0" in log


def test_a_checksum_mismatch_installs_nothing(tmp_path: Path, served) -> None:
    script = aws_cli_install_script(pgp_key_source=None, sha256_x86_64="0" * 64)
    run = run_script(script, tmp_path / "a", env(served))
    assert run.returncode != 0
    assert f"checksum mismatch for https://awscli.amazonaws.com/awscli-exe-linux-x86_64.zip: expected {'0' * 64}, got {served['x86_64']}" in run.stderr
    assert not (run.root / "usr/local/aws-cli").exists()
    assert not any(c.startswith("install ") for c in run.calls)


@pytest.mark.parametrize("checksum_ok", [True, False], ids=["installed", "checksum mismatch"])
def test_the_download_leaves_nothing_in_the_temporary_directory(tmp_path: Path, served, checksum_ok: bool) -> None:
    """The ~60 MB zip and its unpacked tree go with the script's exit, installed or refused."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    script = aws_cli_install_script(pgp_key_source=None, sha256_x86_64=served["x86_64"] if checksum_ok else "0" * 64)
    run = run_script(script, tmp_path / "a", env(served, TMPDIR=str(scratch)))
    assert (run.returncode == 0) is checksum_ok, run.stderr
    assert any(c.startswith("curl ") and f" {scratch}/" in c for c in run.calls), "the zip was fetched into TMPDIR"
    assert list(scratch.iterdir()) == []


def test_a_second_run_keeps_the_installed_cli(tmp_path: Path, served) -> None:
    script = aws_cli_install_script(pgp_key_source=None, sha256_x86_64=served["x86_64"])
    first = run_script(script, tmp_path / "a", env(served))
    assert first.returncode == 0, first.stderr
    again = run_script(script, tmp_path / "b", env(served), root=first.root)
    assert again.returncode == 0, again.stderr
    assert "AWS CLI already installed at /usr/local/aws-cli/bin/aws" in again.stderr
    assert not any(c.startswith(("curl", "install")) for c in again.calls)


def test_a_cli_that_no_longer_runs_is_installed_again_not_kept(tmp_path: Path, served) -> None:
    """An earlier install cut short (a full disk, a reboot mid-unzip) can leave an executable that does not run:
    Nextflow's jobs would all fail on it, so only a CLI whose --version answers counts as installed."""
    script = aws_cli_install_script(pgp_key_source=None, sha256_x86_64=served["x86_64"])
    first = run_script(script, tmp_path / "a", env(served))
    assert first.returncode == 0, first.stderr
    (first.root / "usr/local/aws-cli/v2/current/bin/aws").write_text("#!/bin/sh\nexit 127\n")
    again = run_script(script, tmp_path / "b", env(served), root=first.root)
    assert again.returncode == 0, again.stderr
    assert "AWS CLI already installed" not in again.stderr
    assert any(c.startswith("install --install-dir ") and c.endswith(" --update") for c in again.calls)
    assert again.file("/var/log/mmbatch/boot.log").count("AWS CLI installed at /usr/local/aws-cli/bin/aws: aws-cli/2.99.0") == 2


def test_arm_nodes_fetch_and_check_the_aarch64_zip(tmp_path: Path, served) -> None:
    script = aws_cli_install_script(pgp_key_source=None, sha256_x86_64=served["x86_64"], sha256_aarch64=served["aarch64"])
    run = run_script(script, tmp_path / "a", env(served, STANDIN_ARCH="aarch64"))
    assert run.returncode == 0, run.stderr
    assert any(c.endswith("awscli-exe-linux-aarch64.zip") for c in run.calls if c.startswith("curl"))
    # Only the x86_64 checksum set: an arm node has nothing to verify with and refuses.
    x86_only = aws_cli_install_script(pgp_key_source=None, sha256_x86_64=served["x86_64"])
    refused = run_script(x86_only, tmp_path / "b", env(served, STANDIN_ARCH="aarch64"))
    assert refused.returncode != 0
    assert "refusing to install an unverified AWS CLI: no sha256 for aarch64 and no PGP key" in refused.stderr


def test_an_s3_source_for_subnets_without_internet(tmp_path: Path, served) -> None:
    script = aws_cli_install_script(source="s3://artifacts-bucket/awscli/awscli-exe-linux-{arch}.zip", pgp_key_source=None,
                                    sha256_x86_64=served["x86_64"])
    run = run_script(script, tmp_path / "a", env(served))
    assert run.returncode == 0, run.stderr
    assert any(c.startswith("aws s3 cp --only-show-errors s3://artifacts-bucket/awscli/awscli-exe-linux-x86_64.zip ") for c in run.calls)
    # Bounded like the https downloads: ten minutes for the zip, then killed if it ignores the signal.
    assert any(c.startswith("timeout -k 10 600 aws s3 cp --only-show-errors s3://artifacts-bucket/awscli/") for c in run.calls)
    assert not any(c.startswith("curl") for c in run.calls)


def test_downloads_retry_a_bounded_number_of_times(tmp_path: Path, served) -> None:
    script = aws_cli_install_script(pgp_key_source=None, sha256_x86_64=served["x86_64"])
    flaky = run_script(script, tmp_path / "a", env(served, STANDIN_CURL_FAILS="2"))
    assert flaky.returncode == 0, flaky.stderr
    down = run_script(script, tmp_path / "b", env(served, STANDIN_CURL_FAILS="99"))
    assert down.returncode != 0
    assert sum(c.startswith("curl") for c in down.calls) == 5
    assert "could not download https://awscli.amazonaws.com/awscli-exe-linux-x86_64.zip" in down.stderr


# ---------------------------------------------------------------- PGP: a real gpg signature by a throwaway key


KEYRINGS: list[Path] = []
"""Every keyring :func:`new_key` made: making a key starts a gpg-agent for its home, stopped after the module."""


@pytest.fixture(scope="module", autouse=True)
def _stop_gpg_agents():
    yield
    for home in KEYRINGS:
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], check=False, capture_output=True)


def new_key(home: Path, user_id: str, *, expire: str = "never", at: Optional[str] = None) -> dict[str, str]:
    """A fresh ed25519 signing key in its own keyring ``home``: its home, fingerprint and armoured public key.

    ``at``: make it at that time (gpg's ``--faked-system-time``), so that it can have expired by now.
    """
    home.chmod(0o700)
    KEYRINGS.append(home)
    gpg_env = {**os.environ, "GNUPGHOME": str(home)}
    faked = ["--faked-system-time", at] if at else []
    subprocess.run(["gpg", "--batch", *faked, "--passphrase", "", "--quick-gen-key", user_id, "ed25519", "sign", expire],
                   env=gpg_env, check=True, capture_output=True)
    colons = subprocess.run(["gpg", "--batch", "--with-colons", "--fingerprint"], env=gpg_env, check=True,
                            capture_output=True, text=True).stdout
    fingerprint = next(line.split(":")[9] for line in colons.splitlines() if line.startswith("fpr:"))
    return {"home": str(home), "fingerprint": fingerprint, "public": export_key(home, fingerprint), "at": at or ""}


def export_key(home: Path, fingerprint: str) -> str:
    return subprocess.run(["gpg", "--batch", "--armor", "--export", fingerprint], env={**os.environ, "GNUPGHOME": str(home)},
                          check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def signing_key(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return new_key(tmp_path_factory.mktemp("gnupg"), "Test Signer <signer@example.com>")


KEY_URL = "https://keys.example.com/aws-cli-team.asc"


def serve_key(served: dict[str, str], signing_key: dict[str, str]) -> None:
    (Path(served["dir"]) / "aws-cli-team.asc").write_text(signing_key["public"])


def sign(signing_key: dict[str, str], path: Path) -> None:
    """A detached signature ``<path>.sig``, made at the key's own (possibly faked) time."""
    faked = ["--faked-system-time", signing_key["at"]] if signing_key.get("at") else []
    subprocess.run(["gpg", "--batch", *faked, "--yes", "--detach-sign", "-o", f"{path}.sig", str(path)],
                   env={**os.environ, "GNUPGHOME": signing_key["home"]}, check=True, capture_output=True)


def test_a_valid_signature_by_the_expected_key_installs(tmp_path: Path, served, signing_key) -> None:
    sign(signing_key, Path(served["dir"]) / "awscli-exe-linux-x86_64.zip")
    serve_key(served, signing_key)
    script = aws_cli_install_script(pgp_key_source=KEY_URL, pgp_fingerprint=signing_key["fingerprint"])
    run = run_script(script, tmp_path / "a", env(served))
    assert run.returncode == 0, run.stderr
    assert f"PGP signature verified (key {signing_key['fingerprint']})" in run.stderr
    curls = [c for c in run.calls if c.startswith("curl")]
    # The zip may take ten minutes a try; the few-KB signature and key one minute, so a slow server cannot hold a boot.
    assert [c.split("--max-time ")[1].split()[0] for c in curls] == ["600", "60", "60"], curls
    assert curls[1].endswith("awscli-exe-linux-x86_64.zip.sig") and curls[2].endswith(KEY_URL)


def test_a_key_file_that_is_not_a_key_is_refused(tmp_path: Path, served, signing_key) -> None:
    sign(signing_key, Path(served["dir"]) / "awscli-exe-linux-x86_64.zip")
    (Path(served["dir"]) / "aws-cli-team.asc").write_text("<html>not a key</html>")
    run = run_script(aws_cli_install_script(pgp_key_source=KEY_URL), tmp_path, env(served))
    assert run.returncode != 0 and f"{KEY_URL} is not a PGP public key" in run.stderr


def test_a_signature_by_another_key_or_of_another_file_is_refused(tmp_path: Path, served, signing_key) -> None:
    zip_path = Path(served["dir"]) / "awscli-exe-linux-x86_64.zip"
    sign(signing_key, zip_path)
    serve_key(served, signing_key)
    # The default fingerprint is AWS's: a signature by any other key does not count, wherever the key came from.
    other = run_script(aws_cli_install_script(pgp_key_source=KEY_URL), tmp_path / "a", env(served))
    assert other.returncode != 0
    assert f"is not a valid signature by FB5DB77FD5C118B80511ADA8A6310ACC4672475C (signed by {signing_key['fingerprint']})" in other.stderr
    # The right key, but the zip changed after signing.
    with zipfile.ZipFile(zip_path, "a") as z:
        z.writestr("aws/extra", "tampered")
    tampered = run_script(aws_cli_install_script(pgp_key_source=KEY_URL, pgp_fingerprint=signing_key["fingerprint"]),
                          tmp_path / "b", env(served))
    assert tampered.returncode != 0 and "is not a valid signature by" in tampered.stderr
    assert not (tampered.root / "usr/local/aws-cli").exists()


def test_by_default_the_key_comes_from_a_keyserver_and_only_aws_fingerprint_counts(tmp_path: Path, served, signing_key) -> None:
    assert AWS_CLI_DEFAULT_KEY_SOURCE == ("https://keyserver.ubuntu.com/pks/lookup?op=get&search=0x"
                                          "FB5DB77FD5C118B80511ADA8A6310ACC4672475C")
    zip_path = Path(served["dir"]) / "awscli-exe-linux-x86_64.zip"
    sign(signing_key, zip_path)
    # A keyserver that answers with another key (ours): the signature checks out, but not by AWS's key.
    (Path(served["dir"]) / AWS_CLI_DEFAULT_KEY_SOURCE.rsplit("/", 1)[1]).write_text(signing_key["public"])
    run = run_script(aws_cli_install_script(), tmp_path, env(served))
    assert any(c.startswith("curl ") and c.endswith(AWS_CLI_DEFAULT_KEY_SOURCE) for c in run.calls)
    assert run.returncode != 0
    assert (f"is not a valid signature by {AWS_CLI_PGP_FINGERPRINT} (signed by {signing_key['fingerprint']})"
            in run.stderr)
    assert not (run.root / "usr/local/aws-cli").exists()


def test_a_signature_by_a_revoked_key_is_refused(tmp_path: Path, served, tmp_path_factory) -> None:
    home = tmp_path_factory.mktemp("revoked")
    key = new_key(home, "Revoked Signer <revoked@example.com>")
    fingerprint = key["fingerprint"]
    sign(key, Path(served["dir"]) / "awscli-exe-linux-x86_64.zip")
    # gpg keeps a revocation certificate for each key it makes, its armour line escaped with ":" against accidents.
    certificate = (home / "openpgp-revocs.d" / f"{fingerprint}.rev").read_text().replace(":-----BEGIN", "-----BEGIN")
    subprocess.run(["gpg", "--batch", "--import"], input=certificate, text=True, env={**os.environ, "GNUPGHOME": str(home)},
                   check=True, capture_output=True)
    public = export_key(home, fingerprint)
    (Path(served["dir"]) / "aws-cli-team.asc").write_text(public)
    run = run_script(aws_cli_install_script(pgp_key_source=KEY_URL, pgp_fingerprint=fingerprint), tmp_path, env(served))
    assert run.returncode != 0
    assert f"PGP key {fingerprint} is revoked" in run.stderr
    assert not (run.root / "usr/local/aws-cli").exists()


def test_a_stale_copy_of_a_key_whose_expiry_was_extended_is_accepted(tmp_path: Path, served, tmp_path_factory) -> None:
    # AWS extends its key's expiry from time to time; a keyserver copy from before an extension has expired, yet
    # signatures made under the extension are good. Made on 1 January 2020 for a day; the copy served is that one.
    home = tmp_path_factory.mktemp("expired")
    key = new_key(home, "Expiring Signer <expiring@example.com>", expire="1d", at="20200101T120000!")
    stale_copy = key["public"]
    # On 5 January (expired by then) the owner extends it by a year and signs the zip.
    later = "20200105T120000!"
    subprocess.run(["gpg", "--batch", "--faked-system-time", later, "--passphrase", "", "--quick-set-expire",
                    key["fingerprint"], "1y"], env={**os.environ, "GNUPGHOME": str(home)}, check=True, capture_output=True)
    sign({**key, "at": later}, Path(served["dir"]) / "awscli-exe-linux-x86_64.zip")
    (Path(served["dir"]) / "aws-cli-team.asc").write_text(stale_copy)
    run = run_script(aws_cli_install_script(pgp_key_source=KEY_URL, pgp_fingerprint=key["fingerprint"]), tmp_path, env(served))
    assert run.returncode == 0, run.stderr
    assert f"note: the copy of key {key['fingerprint']} from {KEY_URL} has expired; signature accepted" in run.stderr
    assert (run.root / AWS_CLI_PATH.lstrip("/")).exists()


# ---------------------------------------------------------------- Cromwell's fetch-and-run script


def test_the_install_writes_cromwells_fetch_and_run_script(tmp_path: Path, served) -> None:
    run = run_script(aws_cli_install_script(pgp_key_source=None, sha256_x86_64=served["x86_64"]), tmp_path, env(served))
    assert run.returncode == 0, run.stderr
    written = run.root / FETCH_AND_RUN_PATH.lstrip("/")
    assert FETCH_AND_RUN_PATH == "/usr/local/bin/fetch_and_run.sh"
    assert written.read_text() == fetch_and_run_script() and os.access(written, os.X_OK)
    # Cromwell's task scripts call the CLI at v2/current/bin/aws under the directory it mounts.
    assert (run.root / "usr/local/aws-cli/v2/current/bin/aws").exists()
    assert "export AWS_CLI_BIN=/usr/local/aws-cli/v2/current/bin/aws" in fetch_and_run_script()


def _container(tmp_path: Path, task: str) -> tuple[Path, dict[str, str]]:
    """A job container's view: a stand-in AWS CLI that serves ``task`` for ``s3 cp``, and the script rendered for it."""
    cli = tmp_path / "aws-cli" / "aws"
    cli.parent.mkdir(parents=True)
    (tmp_path / "task.sh").write_text(task)
    # Like the real CLI, it reports the download on stdout ("download: s3://... to ..."): per the CLI's `s3 cp`
    # reference, --no-progress hides only the progress and --only-show-errors all other output, so fetch_and_run must
    # keep that line out of the job's output itself.
    cli.write_text(f'#!/bin/bash\nprintf "%s\\n" "$*" >>{tmp_path}/cli.log\n'
                   f'[ "$1 $2" = "s3 cp" ] && [ "$4" = s3://scripts-bucket/scripts/0123abcd ] && cp {tmp_path}/task.sh "$5" &&\n'
                   f'  echo "download: $4 to $5"\n')
    cli.chmod(0o755)
    script = tmp_path / "fetch_and_run.sh"
    script.write_text(render("fetch_and_run.sh", {"AWS_CLI_BIN": str(cli)}))
    script.chmod(0o755)  # as the node writes it
    environment = {"PATH": os.environ["PATH"], "TMPDIR": str(tmp_path), "BATCH_FILE_TYPE": "script",
                   "BATCH_FILE_S3_URL": "s3://scripts-bucket/scripts/0123abcd"}
    return script, environment


def test_fetch_and_run_runs_the_task_script_cromwell_stored_and_returns_its_status(tmp_path: Path) -> None:
    script, environment = _container(tmp_path, "#!/bin/bash\necho \"task ran with $# args\"\nexit 3\n")
    result = subprocess.run(["/bin/bash", "-c", str(script)], env=environment, capture_output=True, text=True)
    assert result.returncode == 3, result.stderr
    assert result.stdout == "task ran with 0 args\n", "the job's output is the task's alone"
    assert "download: s3://scripts-bucket/scripts/0123abcd to " in result.stderr
    assert (tmp_path / "cli.log").read_text().startswith("s3 cp --no-progress s3://scripts-bucket/scripts/0123abcd ")


def test_as_the_containers_pid_1_fetch_and_run_passes_the_stop_signal_to_the_task(tmp_path: Path) -> None:
    if subprocess.run(["unshare", "-rpf", "true"], capture_output=True).returncode != 0:
        pytest.skip("no unprivileged PID namespaces here (unshare -rpf)")
    # A task with no signal handler of its own, as Cromwell's are: as PID 1 it would ignore SIGTERM and run on.
    task = "#!/bin/bash\necho ready\nfor _ in $(seq 600); do sleep 0.1; done\necho finished\n"
    script, environment = _container(tmp_path, task)
    output = tmp_path / "output"
    with output.open("w") as out:
        # unshare -f: the script runs as PID 1 of a new PID namespace, as in a container without an init process.
        namespace = subprocess.Popen(["unshare", "-rpf", str(script)], env=environment, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 20
            while "ready" not in output.read_text() and time.monotonic() < deadline:
                time.sleep(0.05)
            pid_1 = int(subprocess.run(["pgrep", "-P", str(namespace.pid)], capture_output=True, text=True).stdout.split()[0])
            os.kill(pid_1, signal.SIGTERM)
            assert namespace.wait(timeout=10) == 143
        finally:
            namespace.kill()  # the namespace's processes go with its PID 1
    assert "finished" not in output.read_text()


@pytest.mark.parametrize(("change", "message"), [
    ({"BATCH_FILE_TYPE": "zip"}, "BATCH_FILE_TYPE is 'zip'; only 'script'"),
    ({"BATCH_FILE_S3_URL": "https://example.com/x.sh"}, "expected s3://bucket/key"),
    ({"BATCH_FILE_S3_URL": "s3://scripts-bucket/scripts/missing"}, "could not download s3://scripts-bucket/scripts/missing"),
    ({"NO_CLI": "1"}, "no AWS CLI at"),
    ({"CLI_NOT_EXECUTABLE": "1"}, "no AWS CLI at"),  # mounted noexec, or a wrong mode: not one it can run
])
def test_fetch_and_run_refuses_what_it_cannot_run(tmp_path: Path, change: dict[str, str], message: str) -> None:
    script, environment = _container(tmp_path, "#!/bin/bash\ntouch ran\n")
    if change.pop("NO_CLI", None):
        (tmp_path / "aws-cli" / "aws").unlink()  # the node's /usr/local/aws-cli not mounted
    if change.pop("CLI_NOT_EXECUTABLE", None):
        (tmp_path / "aws-cli" / "aws").chmod(0o644)
    result = subprocess.run(["/bin/bash", "-c", str(script)], env={**environment, **change}, capture_output=True,
                            text=True, cwd=tmp_path)
    assert result.returncode != 0 and message in result.stderr
    assert not (tmp_path / "ran").exists()


# ---------------------------------------------------------------- settings


@pytest.mark.parametrize("kwargs, message", [
    ({"pgp_key_source": None}, "the AWS CLI install needs a way to verify the download"),
    ({"sha256_x86_64": "ABC"}, "awsCliSha256X86 'ABC' is not accepted; expected 64 lowercase hex digits"),
    ({"sha256_x86_64": "a" * 64, "source": "ftp://x/y.zip"}, "awsCliSource 'ftp://x/y.zip' is not accepted"),
    ({"pgp_key_source": "/etc/key.asc"}, "awsCliPgpKeySource '/etc/key.asc' is not accepted; expected an https:// URL"),
    ({"sha256_x86_64": "a" * 64, "pgp_fingerprint": "1234"}, "awsCliPgpFingerprint '1234' is not accepted"),
])
def test_settings_are_checked_at_synth(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        aws_cli_install_script(**kwargs)


@pytest.mark.parametrize("digest", ["A" * 64, "aB" * 32])
def test_a_checksum_in_capitals_is_refused_at_synth(digest: str) -> None:
    """The node compares sha256sum's lowercase output to the digest as text, so a capitalised digest of the right zip
    would fail every node's boot; it is refused when the stack is built instead."""
    with pytest.raises(ValueError, match=rf"^awsCliSha256X86 '{digest}' is not accepted; expected 64 lowercase hex digits$"):
        aws_cli_install_script(sha256_x86_64=digest)


def test_the_fingerprint_as_aws_prints_it_spaced_and_in_any_case_is_accepted() -> None:
    """AWS's install guide prints the fingerprint in groups of four; the node compares gpg's compact capitals."""
    spaced = " ".join(AWS_CLI_PGP_FINGERPRINT[i:i + 4] for i in range(0, 40, 4)).lower()
    script = aws_cli_install_script(pgp_fingerprint=spaced)
    assert f"export AWS_CLI_PGP_FINGERPRINT={AWS_CLI_PGP_FINGERPRINT}\n" in script


def test_nodes_read_the_zip_its_signature_and_the_key_from_s3_when_all_are_there() -> None:
    """What the node role may read (BatchCompute grants exactly these): the signature beside the zip only when a key
    checks it, since without a key the script fetches no .sig."""
    signed = AwsCliInstall(source="s3://artifacts/awscli/awscli-exe-linux-{arch}.zip",
                           pgp_key_source="s3://artifacts/awscli/key.asc")
    assert signed.s3_objects() == ["artifacts/awscli/awscli-exe-linux-*.zip", "artifacts/awscli/awscli-exe-linux-*.zip.sig",
                                   "artifacts/awscli/key.asc"]
    pinned = AwsCliInstall(source="s3://artifacts/awscli/awscli-exe-linux-{arch}.zip", sha256_x86_64="a" * 64)
    assert pinned.s3_objects() == ["artifacts/awscli/awscli-exe-linux-*.zip"]


def test_the_script_refuses_when_rendered_without_any_verification(tmp_path: Path, served) -> None:
    script = render("aws_cli_install.sh", {"AWS_CLI_SOURCE": "https://example.com/{arch}.zip", "AWS_CLI_DIR": "/usr/local/aws-cli",
                                           "AWS_CLI_PGP_FINGERPRINT": "F" * 40, "FETCH_AND_RUN_PATH": FETCH_AND_RUN_PATH})
    run = run_script(script, tmp_path, env(served))
    assert run.returncode != 0 and "refusing to install an unverified AWS CLI" in run.stderr
    assert not any(c.startswith("curl") for c in run.calls)


def test_bash_parses_the_script_the_same_with_and_without_comments(tmp_path: Path) -> None:
    def parsed(script: str) -> str:
        path = tmp_path / "script.sh"
        path.write_text(script)
        result = subprocess.run(["bash", "--pretty-print", str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return "\n".join(line for line in result.stdout.splitlines() if line.strip())

    compact, full = render("aws_cli_install.sh", {"X": "1"}), render("aws_cli_install.sh", {"X": "1"}, compact=False)
    assert len(compact) < len(full)
    assert parsed(compact) == parsed(full)


def test_an_s3_source_installs_the_distributions_cli_first_when_there_is_none(tmp_path: Path, served) -> None:
    script = aws_cli_install_script(source="s3://artifacts-bucket/awscli-exe-linux-{arch}.zip", pgp_key_source=None, sha256_x86_64=served["x86_64"])
    run = run_script(script, tmp_path, env(served), omit=("aws",))
    # Without an aws command the dnf stand-in installs nothing, so the copy fails; what matters is the attempt.
    assert "dnf install -y awscli-2" in run.calls and run.returncode != 0


def test_the_rendered_part_stays_small() -> None:
    """EC2 caps user data at 16 KiB. The part holds no deploy-time value, so it travels gzip-compressed and base64
    encoded; the whole node's user data is checked in tests/boot/test_rendering.py."""
    import base64
    import gzip

    script = aws_cli_install_script(sha256_x86_64="a" * 64, sha256_aarch64="b" * 64,
                                    pgp_key_source="s3://my-artifacts-bucket/keys/aws-cli-team.asc")
    # 3.5 KiB with Cromwell's fetch-and-run script inside (2.9 KiB without)
    assert len(base64.b64encode(gzip.compress(script.encode(), 9))) <= 3600
