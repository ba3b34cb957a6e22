"""The JuiceFS boot scripts run for real: client install (https or S3, per-architecture checksums), format, mount."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmbatch_cdk.user_data import render

from ..standins import run_script
from .values import BOOT_LOG, FATAL, JUICEFS_FORMAT, JUICEFS_MOUNT, SECRET, SHUTDOWN, juicefs_release, run_gate, snapshot

ENDPOINT = "clustercfg.mmbatch-checkpoint.abc123.memorydb.eu-west-1.amazonaws.com"
UNIT = "/etc/systemd/system/juicefs-checkpoint.service"


def _env(release: Path, **extra: str) -> dict[str, str]:
    return {"STANDIN_CURL_DIR": str(release), "STANDIN_SECRET": SECRET, **extra}


# ------------------------------------------------------------------ format (management server)


def test_format_waits_for_clusters_then_formats_both_volumes_once(tmp_path: Path) -> None:
    release, _ = juicefs_release(tmp_path)
    run = run_script(render("juicefs_format.sh", JUICEFS_FORMAT), tmp_path / "run", _env(release, STANDIN_MEMORYDB_PENDING="2"))
    assert run.returncode == 0, run.stderr
    formats = [c for c in run.calls if c.startswith("juicefs format")]
    assert len(formats) == 2
    assert formats[0].startswith("juicefs format --storage s3 --bucket https://mmbatch-checkpoint-bucket.s3.eu-west-1.amazonaws.com ")
    assert "--trash-days 0 --block-size 4096 --no-update" in formats[0]
    assert formats[0].endswith(f"rediss://mmbatch-juicefs@{ENDPOINT}:6379/1 checkpoint")
    assert formats[1].endswith(":6379/1 scratch")
    assert (run.root / "usr/local/bin/juicefs").exists(), "the verified client is installed"
    assert sum(c.startswith("aws memorydb") for c in run.calls) == 4, "two 'creating' answers, then one per cluster"
    assert SECRET not in "\n".join(run.calls) + run.stderr + run.file("/var/log/mmab/juicefs-format.log")
    seen = Path(str(tmp_path / "run" / "calls.log") + ".env").read_text().splitlines()
    assert [line for line in seen if line.startswith("format")] == ["format META_PASSWORD=set"] * 2


def test_format_bucket_url_follows_the_partition(tmp_path: Path) -> None:
    release, _ = juicefs_release(tmp_path)
    settings = {**JUICEFS_FORMAT, "AWS_REGION": "cn-north-1", "AWS_URL_SUFFIX": "amazonaws.com.cn"}
    run = run_script(render("juicefs_format.sh", settings), tmp_path / "run", _env(release))
    assert run.returncode == 0, run.stderr
    assert "--bucket https://mmbatch-checkpoint-bucket.s3.cn-north-1.amazonaws.com.cn " in next(
        c for c in run.calls if c.startswith("juicefs format"))


def test_format_failure_is_loud_and_does_not_shut_the_server_down(tmp_path: Path) -> None:
    release, _ = juicefs_release(tmp_path)
    run = run_script(render("juicefs_format.sh", JUICEFS_FORMAT), tmp_path / "run", _env(release, STANDIN_FORMAT_FAILS="1"))
    assert run.returncode == 1
    assert "ERROR: juicefs format of volume checkpoint failed" in run.stderr
    assert not any(c.startswith("shutdown") for c in run.calls)


# ------------------------------------------------------------------ the client


@pytest.mark.parametrize("machine, arch", [("x86_64", "amd64"), ("aarch64", "arm64")])
def test_client_checksum_is_picked_for_the_machine(tmp_path: Path, machine: str, arch: str) -> None:
    release, digests = juicefs_release(tmp_path)
    (release / "checksums.txt").unlink()  # pinned: the published list is not needed
    pinned = f"amd64={digests['amd64']},arm64={digests['arm64']}"
    run = run_script(render("juicefs_format.sh", {**JUICEFS_FORMAT, "JUICEFS_SHA256": pinned}), tmp_path / "run",
                     _env(release, STANDIN_ARCH=machine))
    assert run.returncode == 0, run.stderr
    assert run.file("/usr/local/bin/juicefs") == f"#!/bin/sh\necho juicefs {arch}\n"
    assert f"JuiceFS 1.3.1 installed (sha256 {digests[arch]})" in run.file("/var/log/mmab/juicefs-format.log")


def test_client_with_a_wrong_checksum_is_rejected(tmp_path: Path) -> None:
    release, digests = juicefs_release(tmp_path)
    # The arm64 digest given for amd64: on an x86_64 machine, that is a mismatch.
    pinned = f"amd64={digests['arm64']},arm64={digests['amd64']}"
    run = run_script(render("juicefs_format.sh", {**JUICEFS_FORMAT, "JUICEFS_SHA256": pinned}), tmp_path / "run", _env(release))
    assert run.returncode == 1
    assert "ERROR: checksum mismatch for https://github.com/juicedata/juicefs/releases/download/v1.3.1/" in run.stderr
    assert not (run.root / "usr/local/bin/juicefs").exists()


def test_client_without_a_pinned_checksum_uses_the_published_list(tmp_path: Path) -> None:
    release, digests = juicefs_release(tmp_path)
    run = run_script(render("juicefs_format.sh", JUICEFS_FORMAT), tmp_path / "run", _env(release))
    assert run.returncode == 0, run.stderr
    assert any(c.endswith("/v1.3.1/checksums.txt") for c in run.calls if c.startswith("curl"))
    assert f"sha256 {digests['amd64']}" in run.file("/var/log/mmab/juicefs-format.log")


def test_client_comes_from_s3_for_subnets_without_internet(tmp_path: Path) -> None:
    release, digests = juicefs_release(tmp_path)
    source = "s3://artifacts/juicefs/juicefs-{version}-linux-{arch}.tar.gz"
    settings = {**JUICEFS_MOUNT, "JUICEFS_SOURCE": source, "JUICEFS_SHA256": f"amd64={digests['amd64']}"}
    run = run_script(render("juicefs_mount.sh", settings), tmp_path / "run", _env(release))
    assert run.returncode == 0, run.stderr
    assert not any(c.startswith("curl") for c in run.calls), "no internet needed"
    fetched = [c for c in run.calls if c.startswith("aws s3 cp")]
    assert fetched[0].startswith("aws s3 cp --only-show-errors s3://artifacts/juicefs/juicefs-1.3.1-linux-amd64.tar.gz ")
    assert (run.root / "usr/local/bin/juicefs").exists()


def test_the_aws_cli_comes_from_dnf_on_amazon_linux(tmp_path: Path) -> None:
    release, _ = juicefs_release(tmp_path)
    run = run_script(render("juicefs_mount.sh", JUICEFS_MOUNT), tmp_path / "run", _env(release), omit=("aws",))
    assert run.calls[1] == "dnf install -y awscli-2"


# ------------------------------------------------------------------ mount (compute nodes)


def test_nodes_wait_for_format_then_write_units_that_start_before_ecs(tmp_path: Path) -> None:
    release, _ = juicefs_release(tmp_path)
    run = run_script(render("juicefs_mount.sh", JUICEFS_MOUNT), tmp_path / "run", _env(release, STANDIN_JUICEFS_UNFORMATTED="2"))
    assert run.returncode == 0, run.stderr
    assert sum(c.startswith("juicefs status rediss://mmbatch-juicefs@") for c in run.calls) == 4
    unit = run.file(UNIT)
    assert "Before=docker.service ecs.service" in unit and "RequiredBy=ecs.service" in unit
    assert "EnvironmentFile=/etc/juicefs/meta.env" in unit
    start = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    assert start.endswith(f"rediss://mmbatch-juicefs@{ENDPOINT}:6379/1 /mmc-checkpoint")
    assert "--writeback" not in start, "checkpoints must reach S3 before a write returns"
    assert "--cache-dir /var/jfsCache/checkpoint --cache-size 51200" in start
    assert "--no-usage-report" in start
    assert "/mmc-scratch" in run.file("/etc/systemd/system/juicefs-scratch.service")
    assert run.calls[-2:] == ["systemctl daemon-reload", "systemctl enable --now juicefs-checkpoint.service juicefs-scratch.service"]
    env_file = run.root / "etc/juicefs/meta.env"
    assert env_file.read_text() == f"META_PASSWORD={SECRET}\n"
    assert oct(env_file.stat().st_mode & 0o777) == "0o600"
    assert SECRET not in unit + "\n".join(run.calls) + run.file(BOOT_LOG)


def test_each_mount_runs_with_the_cache_buffer_and_upload_settings_given(tmp_path: Path) -> None:
    # juicefsCacheGib, juicefsBufferSizeMib and juicefsMaxUploads reach the node only through these options.
    release, _ = juicefs_release(tmp_path)
    tuned = {**JUICEFS_MOUNT, "CACHE_SIZE_MIB": 102400, "MAX_UPLOADS": 80, "BUFFER_SIZE_MIB": 600}
    run = run_script(render("juicefs_mount.sh", tuned), tmp_path / "run", _env(release))
    assert run.returncode == 0, run.stderr
    for volume in ("checkpoint", "scratch"):
        start = next(line for line in run.file(f"/etc/systemd/system/juicefs-{volume}.service").splitlines()
                     if line.startswith("ExecStart="))
        options = start.split()[2:-2]
        assert options == ["--no-usage-report", "--cache-dir", f"/var/jfsCache/{volume}", "--cache-size", "102400",
                           "--buffer-size", "600", "--max-uploads", "80"], start


def test_mount_units_flush_on_stop_and_outlast_their_own_mount_wait(tmp_path: Path) -> None:
    release, _ = juicefs_release(tmp_path)
    run = run_script(render("juicefs_mount.sh", JUICEFS_MOUNT), tmp_path / "run", _env(release))
    lines = run.file(UNIT).splitlines()
    assert "ExecStop=/usr/local/bin/juicefs umount --flush /mmc-checkpoint" in lines
    post = next(line for line in lines if line.startswith("ExecStartPost="))
    assert "$(seq 120); do mountpoint -q /mmc-checkpoint && exit 0; sleep 1; done; exit 1" in post
    timeout = next(line for line in lines if line.startswith("TimeoutStartSec="))
    assert int(timeout.split("=")[1]) > 120, "systemd must not kill a mount that is still within its wait"
    # umount --flush uploads what is still pending: systemd's default 90 s stop timeout would cut it off
    assert "TimeoutStopSec=300" in lines
    # A mount client that exits with an error (killed by the OOM killer, say) is started again by systemd.
    assert "Restart=on-failure" in lines



def test_a_mount_service_that_does_not_start_fails_the_node_closed(tmp_path: Path) -> None:
    """Not a log line and on: the node shuts down now, with the cause, rather than when the boot check gives up."""
    release, _ = juicefs_release(tmp_path)
    run = run_script(render("juicefs_mount.sh", JUICEFS_MOUNT), tmp_path / "run", _env(release, STANDIN_SYSTEMCTL_ENABLE_FAILS="1"))
    assert run.returncode == 1
    assert f"{FATAL}juicefs-mount: a JuiceFS mount service failed to start" in run.stderr
    assert run.calls[-1].startswith("shutdown -h +1 ")
    assert run_gate(tmp_path / "gate", run.root, mounted=False).returncode == 1


@pytest.mark.parametrize("secret", ["", "None"])
def test_a_password_that_cannot_be_read_fails_the_node_after_five_tries(tmp_path: Path, secret: str) -> None:
    """An empty SecretString, or none (the CLI prints None), is not a password: five tries, then closed."""
    release, _ = juicefs_release(tmp_path)
    run = run_script(render("juicefs_mount.sh", JUICEFS_MOUNT), tmp_path / "run", {**_env(release), "STANDIN_SECRET": secret})
    assert run.returncode == 1
    assert sum(c.startswith("aws secretsmanager get-secret-value") for c in run.calls) == 5
    assert run.waited == 2 + 4 + 8 + 16  # mmb_retry backs off 2, 4, 8, 16 s (at most 30)
    assert f"{FATAL}juicefs-mount: cannot read the MemoryDB password" in run.stderr
    assert run.calls[-1].startswith("shutdown -h +1 ")
    assert run_gate(tmp_path / "gate", run.root, mounted=False).returncode == 1

def test_nodes_give_up_when_never_formatted_and_fail_closed(tmp_path: Path) -> None:
    release, _ = juicefs_release(tmp_path)
    run = run_script(render("juicefs_mount.sh", {**JUICEFS_MOUNT, "FORMAT_WAIT_ATTEMPTS": 3}), tmp_path / "run",
                     _env(release, STANDIN_JUICEFS_UNFORMATTED="99"))
    assert run.returncode == 1
    assert f"{FATAL}juicefs-mount: volume checkpoint was never formatted" in run.stderr
    assert SHUTDOWN in run.calls[-1] and run.calls[-1].startswith("shutdown -h +1 ")
    assert not (run.root / UNIT.lstrip("/")).exists()
    assert run_gate(tmp_path / "gate", run.root).returncode == 1


def test_mount_script_needs_its_settings(tmp_path: Path) -> None:
    run = run_script(render("juicefs_mount.sh", {}), tmp_path)
    assert run.returncode != 0 and "JUICEFS_VERSION" in run.stderr


def test_a_second_mount_run_after_a_reboot_changes_nothing(tmp_path: Path) -> None:
    release, _ = juicefs_release(tmp_path)
    script = render("juicefs_mount.sh", JUICEFS_MOUNT)
    first = run_script(script, tmp_path / "a", _env(release))
    assert first.returncode == 0, first.stderr
    before = snapshot(first.root)
    # The client is installed now: the stand-in reports its version, so nothing is downloaded again.
    again = run_script(script, tmp_path / "b", _env(release, STANDIN_JUICEFS_VERSION="juicefs version 1.3.1+2025-01-01"),
                       root=first.root)
    assert again.returncode == 0, again.stderr
    assert snapshot(first.root) == before
    assert not any(c.startswith(("curl", "aws s3", "shutdown")) for c in again.calls)


@pytest.mark.parametrize(("reported", "kept"), [
    ("juicefs version 1.3.1+2025-06-01.abc1234", True),
    ("juicefs version 1.3.1", True),
    ("juicefs version 1.3.10+2025-06-01.abc1234", False),
    ("juicefs version 11.3.1+2025-06-01.abc1234", False),
])
def test_only_the_pinned_release_counts_as_installed(tmp_path: Path, reported: str, kept: bool) -> None:
    """Another JuiceFS on the node (an AMI's, 1.3.10 for a 1.3.1 pin) must not pass for the checksum-verified client."""
    release, _ = juicefs_release(tmp_path)
    run = run_script(render("juicefs_mount.sh", JUICEFS_MOUNT), tmp_path / "run", _env(release, STANDIN_JUICEFS_VERSION=reported))
    assert run.returncode == 0, run.stderr
    assert any(c.startswith("curl") for c in run.calls) is not kept
