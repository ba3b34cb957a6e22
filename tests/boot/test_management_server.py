"""management_server.sh run for real: download, verify, install (apt with its locks), switch checkpointing on."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from mmbatch_cdk.user_data import render

from ..standins import run_script
from .values import SERVER

MMAB_INSTALLER = 'echo "mmab $MMAB_VERSION installed" >>"$MMB_ROOT/mmab.log"\n'
LOG = "/var/log/mmab/bootstrap.log"
HTTPS_SOURCE = "https://downloads.example.com/mmab/{version}/install.sh"


def test_server_without_source_boots_and_says_mmab_is_missing(tmp_path: Path) -> None:
    run = run_script(render("management_server.sh", {**SERVER, "MMAB_SOURCE": ""}), tmp_path)
    assert run.returncode == 0, run.stderr
    assert "MMAB 1.4.0-release is NOT installed" in run.file(LOG)
    assert run.calls == []


def test_server_downloads_verifies_installs_and_enables_checkpointing(tmp_path: Path) -> None:
    digest = hashlib.sha256(MMAB_INSTALLER.encode()).hexdigest()
    settings = {**SERVER, "MMAB_SOURCE": HTTPS_SOURCE, "MMAB_SHA256": digest}
    run = run_script(render("management_server.sh", settings), tmp_path, {"STANDIN_CURL_BODY": MMAB_INSTALLER})
    assert run.returncode == 0, run.stderr
    assert run.calls[0].endswith("https://downloads.example.com/mmab/1.4.0-release/install.sh")
    assert run.file("mmab.log") == "mmab 1.4.0-release installed\n"
    put = [c for c in run.calls if " -X PUT " in c]
    assert len(put) == 1 and put[0].endswith("https://127.0.0.1:8080/api/v1/ckptConfig")
    assert "-w %{http_code}" in put[0]
    assert '{"ckptMode":"iterative","ckptInterval":"15m","diagnosisMode":false}' in put[0]
    assert "sha256 verified" in run.file(LOG)
    assert "checkpointing on: iterative, every 15m (HTTP 200)" in run.file(LOG)


def test_server_rejects_an_installer_with_the_wrong_checksum(tmp_path: Path) -> None:
    settings = {**SERVER, "MMAB_SOURCE": "https://downloads.example.com/mmab.sh", "MMAB_SHA256": "0" * 64}
    run = run_script(render("management_server.sh", settings), tmp_path, {"STANDIN_CURL_BODY": MMAB_INSTALLER})
    assert run.returncode == 1
    assert "ERROR: checksum mismatch for https://downloads.example.com/mmab.sh" in run.stderr
    assert not (run.root / "mmab.log").exists(), "a rejected installer never runs"


def test_server_installs_a_deb_from_s3_after_refreshing_apt_and_waits_for_its_lock(tmp_path: Path) -> None:
    settings = {**SERVER, "MMAB_SOURCE": "s3://artifacts/mmab-{version}.deb"}
    run = run_script(render("management_server.sh", settings), tmp_path, {"STANDIN_CURL_BODY": "deb"})
    assert run.returncode == 0, run.stderr
    assert run.calls[0].startswith("aws s3 cp --only-show-errors s3://artifacts/mmab-1.4.0-release.deb ")
    apt = [c for c in run.calls if c.startswith("apt-get")]
    assert apt[0] == "apt-get update"
    assert apt[1].startswith("apt-get install -y -o DPkg::Lock::Timeout=600 ")
    assert apt[1].endswith("/opt/mmab/download/mmab-1.4.0-release.deb")


def test_server_install_is_not_repeated_on_reboot(tmp_path: Path) -> None:
    settings = {**SERVER, "MMAB_SOURCE": "https://downloads.example.com/mmab.sh"}
    script = render("management_server.sh", settings)
    first = run_script(script, tmp_path / "a", {"STANDIN_CURL_BODY": MMAB_INSTALLER})
    second = run_script(script, tmp_path / "b", {"STANDIN_CURL_BODY": MMAB_INSTALLER}, root=first.root)
    assert second.returncode == 0
    assert second.file("mmab.log") == "mmab 1.4.0-release installed\n"
    assert second.calls == []


def _ckpt(tmp_path: Path, codes: str, returncode: int = 0) -> tuple[list[str], str, bool]:
    settings = {**SERVER, "MMAB_SOURCE": "https://downloads.example.com/mmab.sh"}
    run = run_script(render("management_server.sh", settings), tmp_path,
                     {"STANDIN_CURL_BODY": MMAB_INSTALLER, "STANDIN_HTTP_CODES": codes})
    assert run.returncode == returncode, run.stderr
    puts = [c for c in run.calls if " -X PUT " in c]
    return puts, run.file(LOG), (run.root / "var/lib/mmbatch/ckptConfig.done").exists()


def _failed(tmp_path: Path) -> str:
    return (tmp_path / "root/var/lib/mmbatch/boot-failed").read_text()


def test_ckpt_config_retries_while_mmab_starts_then_records_success(tmp_path: Path) -> None:
    puts, log, done = _ckpt(tmp_path, "000 503 429 204")
    assert len(puts) == 4 and done
    assert "answered HTTP 000" in log and "answered HTTP 503" in log and "answered HTTP 429" in log
    assert "checkpointing on: iterative, every 15m (HTTP 204)" in log
    assert "FATAL" not in log and not (tmp_path / "root/var/lib/mmbatch/boot-failed").exists()


def test_a_request_timeout_408_is_retried_like_a_busy_server_not_taken_as_a_refusal(tmp_path: Path) -> None:
    """408 is the one 4xx besides 429 that asks for the same request again (RFC 9110 15.5.9)."""
    puts, log, done = _ckpt(tmp_path, "408 200")
    assert len(puts) == 2 and done
    assert "answered HTTP 408" in log and "checkpointing on: iterative, every 15m (HTTP 200)" in log
    assert "FATAL" not in log and not (tmp_path / "root/var/lib/mmbatch/boot-failed").exists()


@pytest.mark.parametrize("code", ["401", "403"])
def test_ckpt_config_behind_a_login_is_a_fatal_boot_not_a_warning(tmp_path: Path, code: str) -> None:
    puts, log, done = _ckpt(tmp_path, code, returncode=1)
    assert len(puts) == 1 and not done, "not retried: a login does not appear by itself"
    line = (f"mmbatch: FATAL management-server: PUT https://127.0.0.1:8080/api/v1/ckptConfig answered HTTP {code}: "
            "MMAB's API requires a login, so this is NOT set: checkpointing")
    assert sum("mmbatch: FATAL" in log_line for log_line in log.splitlines()) == 1
    assert log.splitlines()[-1].endswith(line)
    assert _failed(tmp_path) == line + "\n"
    assert (tmp_path / "root/dev/console").read_text() == line + "\n"


@pytest.mark.parametrize("code", ["400", "422"])
def test_a_refused_setting_is_fatal_at_once(tmp_path: Path, code: str) -> None:
    puts, log, done = _ckpt(tmp_path, code, returncode=1)
    assert len(puts) == 1 and not done
    assert _failed(tmp_path).endswith(f"answered HTTP {code}: MMAB refused checkpointing\n")


def test_ckpt_config_gives_up_after_bounded_retries_and_fails_visibly(tmp_path: Path) -> None:
    puts, log, done = _ckpt(tmp_path, "500", returncode=1)
    assert len(puts) == 20 and not done
    assert _failed(tmp_path) == ("mmbatch: FATAL management-server: MMAB's API did not take checkpointing after 20 tries "
                                 "(last HTTP status 500); MMAB runs at its defaults\n")


def test_a_fatal_api_answer_stops_before_the_next_setting(tmp_path: Path) -> None:
    settings = {**SERVER, "MMAB_SOURCE": "https://downloads.example.com/mmab.sh", "MMAB_CUSTOM_TAGS": "mmbatch-stack:s"}
    run = run_script(render("management_server.sh", settings), tmp_path,
                     {"STANDIN_CURL_BODY": MMAB_INSTALLER, "STANDIN_HTTP_CODES": "204 403"})
    assert run.returncode == 1
    assert [c.rsplit("/", 1)[1] for c in run.calls if " -X PUT " in c] == ["ckptConfig", "configKV"]
    assert "MMAB's API requires a login, so this is NOT set: the job tags (job.customTags=mmbatch-stack:s)" in run.file(LOG)
    assert not any(c.startswith("shutdown") for c in run.calls), "the server never shuts itself down"


def test_the_deployment_tag_is_set_as_mmabs_job_tags_once(tmp_path: Path) -> None:
    settings = {**SERVER, "MMAB_SOURCE": "https://downloads.example.com/mmab.sh", "MMAB_CUSTOM_TAGS": "mmbatch-stack:mmbatch-efs"}
    script = render("management_server.sh", settings)
    run = run_script(script, tmp_path / "a", {"STANDIN_CURL_BODY": MMAB_INSTALLER})
    assert run.returncode == 0, run.stderr
    puts = [c for c in run.calls if " -X PUT " in c]
    assert [p.rsplit(" ", 1)[1] for p in puts] == ["https://127.0.0.1:8080/api/v1/ckptConfig", "https://127.0.0.1:8080/api/v1/configKV"]
    assert '{"kvMap":{"job.customTags":"mmbatch-stack:mmbatch-efs"}}' in puts[1]
    assert "per-job volumes tagged mmbatch-stack:mmbatch-efs (HTTP 200)" in run.file(LOG)
    again = run_script(script, tmp_path / "b", {"STANDIN_CURL_BODY": MMAB_INSTALLER}, root=run.root)
    assert not [c for c in again.calls if " -X PUT " in c], "set once: a reboot sends nothing"
