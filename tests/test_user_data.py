"""Boot scripts run for real in a temporary root, with stand-ins recording the system commands."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mmbatch_cdk.user_data import _without_comments, render

from .cfn import shell_parts, user_data_document
from .conftest import CONFIGS, Synth
from .standins import run_script

EFS_SETTINGS = {"FILE_SYSTEM_ID": "fs-0123456789abcdef0", "ACCESS_POINT_ID": "fsap-0123456789abcdef0", "MOUNT_POINT": "/mmc-checkpoint"}
NODE_SETTINGS = {
    "MMAB_ADDRESS": "10.64.7.21",
    "MMAB_PORT": 8080,
    "MMAB_VERSION": "1.4.0-release",
    "AGENT_INSTALL_ATTEMPTS": 4,
    "ECS_STOP_TIMEOUT": "110s",
    "ECS_START_TIMEOUT": "16m",
    "ECS_CREATE_TIMEOUT": "15m",
}
FSTAB_LINE = "fs-0123456789abcdef0:/ /mmc-checkpoint efs _netdev,noresvport,tls,iam,accesspoint=fsap-0123456789abcdef0 0 0"
INSTALLER = 'echo "pagent installer ran" >>"$MMB_ROOT/installer.log"\n'


# ------------------------------------------------------------------ the synthesized user data, end to end


def test_synthesized_node_user_data_mounts_tunes_and_installs_in_order(synth, tmp_path: Path) -> None:
    s: Synth = synth("efs")
    data = next(v for k, v in s.resources("AWS::EC2::LaunchTemplate").items() if k.startswith("ComputeLaunchTemplate"))
    parts = shell_parts(user_data_document(data["Properties"]["LaunchTemplateData"]["UserData"]))
    assert len(parts) == 2
    env = {"STANDIN_CURL_BODY": INSTALLER}
    mount = run_script(parts[0], tmp_path / "p0", env, omit=("mount.efs",))
    assert mount.returncode == 0, mount.stderr
    boot = run_script(parts[1], tmp_path / "p1", env, root=mount.root)
    assert boot.returncode == 0, boot.stderr
    assert mount.calls[0] == "dnf install -y amazon-efs-utils"
    assert "mount /mmc-checkpoint" in mount.calls
    assert "curl -fsSk --connect-timeout 5 --max-time 120 -o" in boot.calls[0]
    assert boot.calls[0].endswith("https://10.64.7.21:8080/api/v1/scripts/install-pagent")
    assert boot.file("installer.log") == "pagent installer ran\n"
    assert "efs _netdev,noresvport,tls,iam,accesspoint=" in mount.file("/etc/fstab")


# ------------------------------------------------------------------ EFS mount


def test_efs_mount_writes_fstab_once_and_mounts(tmp_path: Path) -> None:
    script = render("efs_mount.sh", EFS_SETTINGS)
    first = run_script(script, tmp_path / "a")
    assert first.returncode == 0, first.stderr
    assert first.file("/etc/fstab") == FSTAB_LINE + "\n"
    assert "mount /mmc-checkpoint" in first.calls
    assert not any(c.startswith("dnf") for c in first.calls), "efs-utils present: nothing to install"
    assert (first.root / "mmc-checkpoint").is_dir()
    # A re-run (reboot, or cloud-init run again) adds no second line and does not mount twice.
    again = run_script(script, tmp_path / "b", {"STANDIN_MOUNTED": "/mmc-checkpoint"}, root=first.root)
    assert again.returncode == 0, again.stderr
    assert again.file("/etc/fstab") == FSTAB_LINE + "\n"
    assert "mount /mmc-checkpoint" not in again.calls


@pytest.mark.parametrize("version, line", [
    ("2.1.0", "amazon-efs-utils 2.1.0"),
    ("1.36.0", "WARNING: amazon-efs-utils 1.36.0 limits this node to 500 MiB/s on EFS"),
    ("", "WARNING: amazon-efs-utils of unknown version limits this node to 500 MiB/s on EFS"),
])
def test_efs_mount_logs_whether_efs_utils_allows_full_client_throughput(tmp_path: Path, version: str, line: str) -> None:
    result = run_script(render("efs_mount.sh", EFS_SETTINGS), tmp_path, {"STANDIN_RPM_VERSION": version})
    assert result.returncode == 0, result.stderr
    assert line in result.file("/var/log/mmbatch/boot.log")


def test_efs_mount_replaces_a_stale_entry_and_keeps_others(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    other = "UUID=abc / xfs defaults 0 0"
    (root / "etc/fstab").write_text(f"{other}\nfs-old:/ /mmc-checkpoint efs _netdev,tls 0 0\n")
    run = run_script(render("efs_mount.sh", EFS_SETTINGS), tmp_path, root=root)
    assert run.returncode == 0, run.stderr
    assert run.file("/etc/fstab") == f"{other}\n{FSTAB_LINE}\n"


def test_efs_mount_failure_exits_non_zero_with_a_clear_line(tmp_path: Path) -> None:
    script = render("efs_mount.sh", EFS_SETTINGS)
    # A stand-in mount that always fails: the script retries 12 times, then stops loudly.
    run = run_script(script.replace("mmb_retry 12 30 mount", "mmb_retry 12 30 false"), tmp_path)
    assert run.returncode == 1
    assert "ERROR: could not mount fs-0123456789abcdef0 at /mmc-checkpoint" in run.stderr
    assert run.calls.count("sleep 30") == 7  # 2, 4, 8, 16, then capped at 30
    assert "ERROR: could not mount" in run.file("/var/log/mmbatch/boot.log")


def test_efs_mount_needs_its_settings(tmp_path: Path) -> None:
    run = run_script(render("efs_mount.sh", {"MOUNT_POINT": "/mmc-checkpoint"}), tmp_path)
    assert run.returncode != 0
    assert "FILE_SYSTEM_ID" in run.stderr


# ------------------------------------------------------------------ node bootstrap


def test_node_bootstrap_writes_ecs_config(tmp_path: Path) -> None:
    run = run_script(render("node_bootstrap.sh", NODE_SETTINGS), tmp_path, {"STANDIN_CURL_BODY": INSTALLER})
    assert run.returncode == 0, run.stderr
    assert run.file("/etc/ecs/ecs.config").splitlines() == [
        "ECS_ENABLE_SPOT_INSTANCE_DRAINING=true",
        "ECS_CONTAINER_STOP_TIMEOUT=110s",
        "ECS_CONTAINER_START_TIMEOUT=16m",
        "ECS_CONTAINER_CREATE_TIMEOUT=15m",
        "ECS_IMAGE_PULL_BEHAVIOR=prefer-cached",
    ]


def test_node_bootstrap_keeps_batch_settings_and_is_idempotent(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc/ecs").mkdir(parents=True)
    (root / "etc/ecs/ecs.config").write_text("ECS_CLUSTER=AWSBatch-abc\nECS_CONTAINER_STOP_TIMEOUT=30s\n")
    script = render("node_bootstrap.sh", NODE_SETTINGS)
    first = run_script(script, tmp_path / "a", {"STANDIN_CURL_BODY": INSTALLER}, root=root)
    second = run_script(script, tmp_path / "b", {"STANDIN_CURL_BODY": INSTALLER}, root=root)
    assert first.returncode == second.returncode == 0, second.stderr
    lines = second.file("/etc/ecs/ecs.config").splitlines()
    assert lines[0] == "ECS_CLUSTER=AWSBatch-abc"
    assert [line for line in lines if line.startswith("ECS_CONTAINER_STOP_TIMEOUT=")] == ["ECS_CONTAINER_STOP_TIMEOUT=110s"]
    assert len(lines) == 6
    assert second.file("installer.log") == "pagent installer ran\n", "the agent is installed once"
    assert not any(c.startswith("curl") for c in second.calls)


def test_node_bootstrap_retries_until_the_server_answers(tmp_path: Path) -> None:
    run = run_script(
        render("node_bootstrap.sh", NODE_SETTINGS), tmp_path, {"STANDIN_CURL_BODY": INSTALLER, "STANDIN_CURL_FAILS": "3"}
    )
    assert run.returncode == 0, run.stderr
    assert [c for c in run.calls if c.startswith("sleep")] == ["sleep 2", "sleep 4", "sleep 8"]
    assert sum(c.startswith("curl") for c in run.calls) == 4
    assert run.file("installer.log") == "pagent installer ran\n"


def test_node_bootstrap_gives_up_loudly_when_the_server_never_answers(tmp_path: Path) -> None:
    run = run_script(render("node_bootstrap.sh", NODE_SETTINGS), tmp_path, {"STANDIN_CURL_FAILS": "99"})
    assert run.returncode == 1
    assert sum(c.startswith("curl") for c in run.calls) == 4
    assert "ERROR: management server 10.64.7.21:8080 never answered" in run.stderr
    assert not (run.root / "var/lib/mmbatch").exists(), "no install marker after a failure"


def test_node_bootstrap_fails_when_the_installer_fails(tmp_path: Path) -> None:
    run = run_script(render("node_bootstrap.sh", NODE_SETTINGS), tmp_path, {"STANDIN_CURL_BODY": "exit 3\n"})
    assert run.returncode == 1
    assert "ERROR: the pagent installer from https://10.64.7.21:8080/api/v1/scripts/install-pagent failed" in run.stderr


# ------------------------------------------------------------------ management server


SERVER_SETTINGS = {"MMAB_VERSION": "1.4.0-release", "MMAB_PORT": 8080, "CKPT_INTERVAL": "15m", "MMAB_SHA256": ""}
MMAB_INSTALLER = 'echo "mmab $MMAB_VERSION installed" >>"$MMB_ROOT/mmab.log"\n'


def test_server_without_source_boots_and_says_mmab_is_missing(tmp_path: Path) -> None:
    run = run_script(render("management_server.sh", {**SERVER_SETTINGS, "MMAB_SOURCE": ""}), tmp_path)
    assert run.returncode == 0, run.stderr
    assert "MMAB 1.4.0-release is NOT installed" in run.file("/var/log/mmab/bootstrap.log")
    assert run.calls == []


def test_server_downloads_verifies_installs_and_enables_checkpointing(tmp_path: Path) -> None:
    import hashlib

    digest = hashlib.sha256(MMAB_INSTALLER.encode()).hexdigest()
    settings = {**SERVER_SETTINGS, "MMAB_SOURCE": "https://downloads.example.com/mmab/{version}/install.sh", "MMAB_SHA256": digest}
    run = run_script(render("management_server.sh", settings), tmp_path, {"STANDIN_CURL_BODY": MMAB_INSTALLER})
    assert run.returncode == 0, run.stderr
    assert run.calls[0].endswith("https://downloads.example.com/mmab/1.4.0-release/install.sh")
    assert run.file("mmab.log") == "mmab 1.4.0-release installed\n"
    put = [c for c in run.calls if " -X PUT " in c]
    assert put and put[0].endswith("https://127.0.0.1:8080/api/v1/ckptConfig")
    assert '{"ckptMode":"iterative","ckptInterval":"15m","diagnosisMode":false}' in put[0]
    assert "sha256 verified" in run.file("/var/log/mmab/bootstrap.log")


def test_server_rejects_an_installer_with_the_wrong_checksum(tmp_path: Path) -> None:
    settings = {**SERVER_SETTINGS, "MMAB_SOURCE": "https://downloads.example.com/mmab.sh", "MMAB_SHA256": "0" * 64}
    run = run_script(render("management_server.sh", settings), tmp_path, {"STANDIN_CURL_BODY": MMAB_INSTALLER})
    assert run.returncode == 1
    assert "ERROR: checksum mismatch for https://downloads.example.com/mmab.sh" in run.stderr
    assert not (run.root / "mmab.log").exists(), "a rejected installer never runs"


def test_server_installs_a_deb_from_s3_with_apt(tmp_path: Path) -> None:
    settings = {**SERVER_SETTINGS, "MMAB_SOURCE": "s3://artifacts/mmab-{version}.deb"}
    run = run_script(render("management_server.sh", settings), tmp_path, {"STANDIN_CURL_BODY": "deb"})
    assert run.returncode == 0, run.stderr
    assert run.calls[0].startswith("aws s3 cp --only-show-errors s3://artifacts/mmab-1.4.0-release.deb ")
    assert any(c.startswith("apt-get install -y ") and c.endswith("/opt/mmab/download/mmab-1.4.0-release.deb") for c in run.calls)


def test_server_install_is_not_repeated_on_reboot(tmp_path: Path) -> None:
    settings = {**SERVER_SETTINGS, "MMAB_SOURCE": "https://downloads.example.com/mmab.sh"}
    script = render("management_server.sh", settings)
    first = run_script(script, tmp_path / "a", {"STANDIN_CURL_BODY": MMAB_INSTALLER})
    second = run_script(script, tmp_path / "b", {"STANDIN_CURL_BODY": MMAB_INSTALLER}, root=first.root)
    assert second.returncode == 0
    assert second.file("mmab.log") == "mmab 1.4.0-release installed\n"
    assert second.calls == []


@pytest.mark.parametrize("name", ["efs_mount.sh", "node_bootstrap.sh", "management_server.sh"])
def test_rendered_scripts_fail_fast(name: str) -> None:
    script = render(name, {})
    assert script.startswith("#!/bin/bash\n")
    assert "set -Eeuo pipefail" in script
    assert "trap 'mmb_log" in script, "lib.sh is inlined"


EC2_USER_DATA_LIMIT = 16 * 1024
"""EC2 rejects user data over 16 KiB (raw, before base64) when it launches an instance."""
DEPLOY_TIME_ROOM = 2 * 1024
"""Room for deploy-time values (ARNs, ids, addresses) longer than the test's stand-in values."""


@pytest.mark.parametrize("name", list(CONFIGS))
def test_user_data_fits_ec2s_limit_with_room_to_spare(synth, name: str) -> None:
    s = synth(name)
    documents = {k: lt["Properties"]["LaunchTemplateData"]["UserData"]
                 for k, lt in s.resources("AWS::EC2::LaunchTemplate").items()
                 if "UserData" in lt["Properties"]["LaunchTemplateData"]}
    documents.update({k: i["Properties"]["UserData"] for k, i in s.resources("AWS::EC2::Instance").items()})
    sizes = {k: len(user_data_document(v).encode()) for k, v in documents.items()}
    assert len(sizes) >= 2
    assert max(sizes.values()) <= EC2_USER_DATA_LIMIT - DEPLOY_TIME_ROOM, sizes


def test_rendering_drops_comments_but_not_here_documents() -> None:
    script = render("juicefs_mount.sh", {"VOLUMES": "a:b:/c"})
    assert "\n#" not in script.split("# Settings rendered by mmbatch-cdk at synth time.\n", 1)[1]
    assert "\n[Unit]\n" in script and "\nRequiredBy=ecs.service\nUNIT\n" in script
    assert script.count("mmb_log() {") == 1 and script.count("mmb_install_juicefs() {") == 1
    assert "mmb_install_juicefs() {" not in render("efs_mount.sh", {})


@pytest.mark.parametrize("text", [
    "cat << EOF >/x\n#!/bin/bash\n\n# kept\nEOF\n",
    "cat <<'EOF' | tee f\n# kept\nEOF\n",
    "cat <<\\EOF\n# kept\nEOF\n",
    "cat <<-EOF\n\t# kept\n\tEOF\n",
    "cmd --a \\\n\nrm -rf /tmp/x\n",
    "cmd --a \\\n  # c\n  --b\n",
])
def test_comment_stripping_keeps_what_bash_would_read(text: str) -> None:
    assert _without_comments("# dropped\n\n" + text) == text


def test_comment_stripping_ends_a_here_document_and_strips_after_it() -> None:
    assert _without_comments("cat <<EOF\n# in\nEOF\n# out\necho\n") == "cat <<EOF\n# in\nEOF\necho\n"
    assert _without_comments("tr a b <<<abc\n# out\n") == "tr a b <<<abc\n"


def _parsed(script: str, tmp_path: Path) -> str:
    path = tmp_path / "script.sh"
    path.write_text(script)
    result = subprocess.run(["bash", "--pretty-print", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return "\n".join(line for line in result.stdout.splitlines() if line.strip())


@pytest.mark.parametrize("name", ["efs_mount.sh", "node_bootstrap.sh", "management_server.sh", "juicefs_mount.sh",
                                  "juicefs_format.sh"])
def test_bash_parses_every_script_the_same_with_and_without_comments(name: str, tmp_path: Path) -> None:
    compact, full = render(name, {"X": "1"}), render(name, {"X": "1"}, compact=False)
    assert len(compact) < len(full)
    assert _parsed(compact, tmp_path) == _parsed(full, tmp_path)
