"""What verify reads exists where it reads it: the stack's outputs, the boot scripts' lines, the smoke job's lines."""

from __future__ import annotations

import re
import runpy
import sys
import tomllib
from typing import Any

import pytest

from mmbatch_cdk.smoke_test import SMOKE_TEST_SCRIPT
from mmbatch_cdk.verify import checks, server, smoke
from mmbatch_cdk.verify.cli import parser
from mmbatch_cdk.verify.drill import checkpoint_seen
from mmbatch_cdk.verify.server import find_setting, seconds
from mmbatch_cdk.verify.stack import OUTPUTS_READ, QUEUE_OUTPUTS_READ

from ..conftest import REPO

USER_DATA = REPO / "mmbatch_cdk" / "user_data"


def test_every_output_verify_reads_is_in_the_synthesized_stack(synth: Any) -> None:
    single = set(synth("efs").template["Outputs"])
    assert set(OUTPUTS_READ) <= single, set(OUTPUTS_READ) - single
    assert {"JobQueueArn", "SmokeTestSubmitCommand"} <= single
    multi = synth("efs-multiqueue").template  # with the drill
    queues = [key.removeprefix("JobQueueArn") for key in multi["Outputs"] if key.startswith("JobQueueArn")]
    assert len(queues) > 1
    assert {f"{key}{q}" for key in QUEUE_OUTPUTS_READ for q in queues} <= set(multi["Outputs"])
    command = multi["Outputs"][f"SmokeTestSubmitCommand{queues[0]}"]["Value"]["Fn::Join"][1]
    assert any("--job-definition " in str(part) for part in command)  # where verify reads the definition


def test_boot_log_lines_verify_matches_are_the_scripts_lines() -> None:
    lib = (USER_DATA / "lib.sh").read_text()
    assert 'line="$(date -u +%Y-%m-%dT%H:%M:%SZ) mmbatch[$MMB_STEP]: $*"' in lib  # the prefix _MOUNTED expects
    assert 'line="mmbatch: FATAL $MMB_STEP: ' in (USER_DATA / "node_lib.sh").read_text()
    efs = re.search(r'mmb_log "(mounted \$FILE_SYSTEM_ID .*)"', (USER_DATA / "efs_mount.sh").read_text())
    juicefs = re.search(r'mmb_log "(mounted: .*)"', (USER_DATA / "juicefs_mount.sh").read_text())
    assert efs and juicefs
    for logged in (efs.group(1).replace("$MOUNT_POINT", "/mmc-checkpoint"), juicefs.group(1)):
        assert checks._MOUNTED.search(f"2026-12-04T17:00:00Z mmbatch[efs-mount]: {logged}"), logged
    assert "the ECS gate opens" in (USER_DATA / "node_bootstrap.sh").read_text()


def test_the_already_done_lines_of_a_boot_script_run_again_are_the_scripts_lines() -> None:
    """What a node logs when its boot script runs again (mount and agent in place) passes storage and the gate too."""
    assert 'mmb_log "$MOUNT_POINT is already mounted"' in (USER_DATA / "efs_mount.sh").read_text()
    assert 'mmb_log "pagent for MMAB $MMAB_VERSION already installed"' in (USER_DATA / "node_bootstrap.sh").read_text()
    assert checks._MOUNTED.search("2026-12-04T18:00:02Z mmbatch[efs-mount]: /mmc-checkpoint is already mounted")
    assert checks._GATE_OPEN.search("2026-12-04T18:00:03Z mmbatch[agent-install]: pagent for MMAB 1.4.0-release already installed")


def test_server_markers_are_the_boot_scripts() -> None:
    script = (USER_DATA / "management_server.sh").read_text()
    assert 'state="$MMB_ROOT' + server.STATE_DIR + '"' in script
    assert 'marker="$state/mmab-$MMAB_VERSION.installed"' in script
    assert 'local marker="$state/${1##*/}.done"' in script and "mmab_put /api/v1/ckptConfig" in script  # ckptConfig.done


def test_smoke_lines_are_the_jobs() -> None:
    assert f'print(f"{smoke.STARTED}: ' in SMOKE_TEST_SCRIPT
    assert f'print("{smoke.FINISHED}"' in SMOKE_TEST_SCRIPT
    assert "mib, every, reports = (int(a) for a in sys.argv[1:4])" in SMOKE_TEST_SCRIPT  # the last argument: lines


def test_durations_and_settings_are_read_defensively() -> None:
    assert seconds("15m") == seconds("15m0s") == seconds("0h15m") == 900
    assert seconds("15 minutes") is None
    assert find_setting([{"kvMap": {"ckpt.ckptInterval": "10m"}}], ("ckptInterval", "ckpt.ckptInterval")) == "10m"
    assert find_setting({"a": {"b": []}}, ("ckptInterval",)) is None
    assert checkpoint_seen({"data": [{"batchJobIds": ["j-1"], "events": ["CheckpointSucceeded"]}]}, "j-1")
    assert not checkpoint_seen({"data": [{"batchJobIds": ["j-2"], "events": ["CheckpointSucceeded"]},
                                         {"batchJobIds": ["j-1"], "events": ["Checkpointing"]}]}, "j-1")


def test_console_script_is_declared_and_runs_as_a_module(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """``python -m mmbatch_cdk.verify`` (in-process); tests/packaging runs the console script the wheel installs."""
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"mmbatch-cdk": "mmbatch_cdk.verify.cli:main"}
    monkeypatch.setattr(sys, "argv", ["mmbatch-cdk", "verify", "--help"])
    monkeypatch.delitem(sys.modules, "mmbatch_cdk.verify.__main__", raising=False)  # imported by tests/packaging/test_docs.py
    with pytest.raises(SystemExit) as exit:
        runpy.run_module("mmbatch_cdk.verify", run_name="__main__")
    assert exit.value.code == 0
    help = capsys.readouterr().out
    assert "--stack STACK" in help and "Exit status 0: all passed; 1: a check failed; 2: could not run." in help


def test_the_server_boot_stream_verify_names_is_where_the_agent_ships_the_boot_log() -> None:
    """verify's advice names the stream the server's bootstrap.log lands in: the wildcard entry's stream, as the agent
    names each of its files (log_shipping.multi_log_stream), with the boot script's own log file."""
    import fnmatch

    from mmbatch_cdk.log_shipping import SERVER_BOOT_LOG, multi_log_stream, server_collect_list

    assert f'MMB_LOG={SERVER_BOOT_LOG}\n' in (USER_DATA / "management_server.sh").read_text()
    [(pattern, _, stream)] = [e for e in server_collect_list("g") if fnmatch.fnmatch(SERVER_BOOT_LOG, e[0])]
    assert server.BOOT_STREAM.format(instance="{instance_id}") == multi_log_stream(stream, SERVER_BOOT_LOG)


def test_the_flag_defaults_are_the_ones_docs_verify_md_gives() -> None:
    """The flags table is what users plan a run by: its bounds and poll interval are the command's own."""
    table = (REPO / "docs" / "verify.md").read_text()
    args = parser().parse_args(["verify", "--stack", "mmbatch"])
    for flag in ("smoke-lines", "smoke-timeout", "checkpoint-timeout", "drill-timeout", "poll"):
        documented = re.search(rf"^\| `--{flag} [A-Z]+` \| (\d+) \|", table, re.MULTILINE)
        assert documented, flag
        assert getattr(args, flag.replace("-", "_")) == int(documented.group(1)), flag
