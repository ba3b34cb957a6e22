"""What each boot script requires, and that the settings these tests render with are the full set."""

from __future__ import annotations

import subprocess

import pytest

from mmbatch_cdk.user_data import render, required_settings

from .values import EFS, JUICEFS_FORMAT, JUICEFS_MOUNT, NODE, SERVER


@pytest.mark.parametrize("name, settings", [
    ("efs_mount.sh", EFS),
    ("juicefs_mount.sh", JUICEFS_MOUNT),
    ("node_bootstrap.sh", NODE),
    ("juicefs_format.sh", JUICEFS_FORMAT),
    ("management_server.sh", SERVER),
])
def test_tests_render_every_required_setting(name: str, settings: dict) -> None:
    assert required_settings(name) <= set(settings)


def test_required_settings_are_read_from_the_script_and_its_helpers() -> None:
    assert required_settings("node_bootstrap.sh") == {
        "MMAB_VERSION", "AGENT_MODE", "FATAL_SHUTDOWN_MINUTES", "BOOT_CHECK_SECONDS", "MMAB_ADDRESS", "MMAB_PORT", "AGENT_WAIT_SECONDS",
        "ECS_STOP_TIMEOUT", "ECS_START_TIMEOUT", "ECS_CREATE_TIMEOUT",
    }
    assert "JUICEFS_SOURCE" in required_settings("juicefs_format.sh")
    assert "FATAL_SHUTDOWN_MINUTES" not in required_settings("management_server.sh"), "the server never shuts down"


def test_settings_reach_bash_as_the_scripts_compare_them() -> None:
    """Booleans as shell words (``true``/``false``, not Python's ``True``), and quoting that keeps every value whole."""
    script = render("fetch_and_run.sh", {"ON": True, "OFF": False, "PORT": 8080, "LIST": "a b 'c'", "EMPTY": ""})
    exports = "\n".join(line for line in script.splitlines() if line.startswith("export "))
    assert exports.count("export ") == 5
    shown = subprocess.run(["bash", "-c", exports + '\nprintf "<%s>" "$ON" "$OFF" "$PORT" "$LIST" "$EMPTY"'],
                           capture_output=True, text=True, timeout=30)
    assert shown.stdout == "<true><false><8080><a b 'c'><>", shown.stderr
