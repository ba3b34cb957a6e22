"""Rendering boot scripts: settings, inlined helpers, comment stripping, and the size of synthesized user data.

The scripts themselves run, with stand-ins, in tests/boot/."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mmbatch_cdk.user_data import _without_comments, render

from .test_shellcheck import SCRIPTS
from ..templates import user_data_document
from ..conftest import BOOT_CONFIGS
from .limits import budget


@pytest.mark.parametrize("name", ["efs_mount.sh", "node_bootstrap.sh", "management_server.sh"])
def test_rendered_scripts_fail_fast(name: str) -> None:
    script = render(name, {})
    assert script.startswith("#!/bin/bash\n")
    assert "set -Eeuo pipefail" in script
    assert "trap 'mmb_log" in script, "lib.sh is inlined"


@pytest.mark.parametrize("name", BOOT_CONFIGS)
def test_user_data_fits_ec2s_limit_with_room_to_spare(synth, name: str) -> None:
    # Without cloud-init: the size alone, with Batch's part counted for a node (tests/boot/test_cloud_init.py reads
    # the merged documents with cloud-init itself).
    s = synth(name)
    documents = {k: (lt["Properties"]["LaunchTemplateData"]["UserData"], True)
                 for k, lt in s.resources("AWS::EC2::LaunchTemplate").items()
                 if "UserData" in lt["Properties"]["LaunchTemplateData"]}
    documents.update({k: (i["Properties"]["UserData"], False) for k, i in s.resources("AWS::EC2::Instance").items()})
    over = {k: (len(user_data_document(u).encode()), budget(u, batch=batch)) for k, (u, batch) in documents.items()}
    assert len(over) >= 2
    assert all(size <= limit for size, limit in over.values()), over


def test_rendering_drops_comments_but_not_here_documents() -> None:
    script = render("juicefs_mount.sh", {"VOLUMES": "a:b:/c"})
    assert "\n# " not in script.split("# Settings rendered by mmbatch-cdk at synth time.\n", 1)[1]
    assert "\n  local " not in script and "\nlocal " in script, "indentation dropped"
    assert "\n[Unit]\n" in script and "\nRequiredBy=ecs.service\nUNIT\n" in script
    assert script.count("mmb_log() {") == 1 and script.count("mmb_install_juicefs() {") == 1
    assert "mmb_install_juicefs() {" not in render("efs_mount.sh", {})


@pytest.mark.parametrize("text", [
    "cat << EOF >/x\n#!/bin/bash\n\n# kept\nEOF\n",
    "cat <<'EOF' | tee f\n# kept\nEOF\n",
    "cat <<\\EOF\n# kept\nEOF\n",
    "cat <<-EOF\n\t# kept\n\tEOF\n",
    "cmd --a \\\n\nrm -rf /tmp/x\n",
])
def test_comment_stripping_keeps_what_bash_would_read(text: str) -> None:
    assert _without_comments("# dropped\n\n" + text) == text


def test_comment_stripping_drops_indentation_but_not_of_continued_lines() -> None:
    assert _without_comments("if x; then\n  cmd --a \\\n  # c\n  --b\nfi\n") == "if x; then\ncmd --a \\\n  # c\n--b\nfi\n"


def test_comment_stripping_ends_a_here_document_and_strips_after_it() -> None:
    assert _without_comments("cat <<EOF\n# in\nEOF\n# out\necho\n") == "cat <<EOF\n# in\nEOF\necho\n"
    assert _without_comments("tr a b <<<abc\n# out\n") == "tr a b <<<abc\n"


def _parsed(script: str, tmp_path: Path) -> str:
    path = tmp_path / "script.sh"
    path.write_text(script)
    result = subprocess.run(["bash", "--pretty-print", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return "\n".join(line for line in result.stdout.splitlines() if line.strip())


ENTRY_SCRIPTS = [name for name in SCRIPTS if not name.endswith("_lib.sh") and name != "lib.sh"]
"""Every boot script a part runs (the *_lib.sh helpers are inlined into them)."""


@pytest.mark.parametrize("name", ENTRY_SCRIPTS)
def test_bash_parses_every_script_the_same_with_and_without_comments(name: str, tmp_path: Path) -> None:
    compact, full = render(name, {"X": "1"}), render(name, {"X": "1"}, compact=False)
    assert len(compact) < len(full)
    assert _parsed(compact, tmp_path) == _parsed(full, tmp_path)


def test_a_script_with_deploy_time_values_runs_as_its_two_parts(tmp_path: Path) -> None:
    # The tokens go to a small plain part that writes them to a root-only file; the compressed rest reads that file.
    import aws_cdk as cdk
    from aws_cdk import aws_ec2 as ec2

    from mmbatch_cdk.user_data import add_script

    from ..standins import run_script
    from ..templates import shell_parts
    from .values import EFS

    stack = cdk.Stack(cdk.App(), "Parts")
    user_data = ec2.MultipartUserData()
    add_script(user_data, render("efs_mount.sh", {**EFS, "FILE_SYSTEM_ID": cdk.Fn.ref("AWS::StackName")}))
    document = stack.resolve(user_data.render())
    from ..templates import resolve

    text = resolve(document, {"AWS::StackName": "fs-0123456789abcdef0"})
    writer, reader = shell_parts(text, as_rendered=False)
    assert "export FILE_SYSTEM_ID='fs-0123456789abcdef0'" in writer and "FILE_SYSTEM_ID=" not in reader.split("\n", 2)[1]
    first = run_script(writer, tmp_path / "a")
    assert first.returncode == 0, first.stderr
    written = [p for p in (first.root / "var/lib/mmbatch/settings").iterdir()]
    assert len(written) == 1 and oct(written[0].stat().st_mode & 0o777) == "0o600"
    assert reader.split("\n")[1].endswith(f'/var/lib/mmbatch/settings/{written[0].name}"'), "the reader sources what the writer wrote"
    second = run_script(reader, tmp_path / "b", root=first.root)
    assert second.returncode == 0, second.stderr
    assert "fs-0123456789abcdef0:/ /mmc-checkpoint efs" in second.file("/etc/fstab")
