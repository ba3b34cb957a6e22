"""Every user data document of every configuration, merged with a part like AWS Batch's, read by cloud-init itself
(Debian's cloud-init 22.4; Amazon Linux 2023 ships 22.2): what it will run, in which order, and within EC2's limit.

One cloud-init subprocess per configuration (tests/boot/cloud_init_driver.py, under Debian's python3).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ..conftest import CONFIGS
from ..constructs.jobs_fixture import build_parts
from ..debian import SYSTEM_PYTHON
from ..templates import shell_parts, user_data_document
from .limits import batch_part, budget, with_batch_part

DRIVER = Path(__file__).with_name("cloud_init_driver.py")

NODE_ORDER = ["cloudwatch-agent", "efs-mount", "juicefs-mount", "node-bootstrap", "aws-cli"]
"""The order a node's steps must run in: log shipping first (it records the rest), storage mounted before the
bootstrap starts the ECS agent (which then takes jobs), the AWS CLI for jobs last."""
SERVER_ORDER = ["cloudwatch-agent", "management-server", "juicefs-format"]
"""The server's: log shipping, MMAB, then the JuiceFS volumes' format (it needs nothing from MMAB, MMAB nothing of it)."""

_STEP = re.compile(r"^MMB_STEP=([a-z0-9-]+)$", re.M)
_SOURCES = re.compile(r'^\. "\$\{MMB_ROOT:-\}(/var/lib/mmbatch/settings/[0-9a-f]+\.env)"$', re.M)
_WRITES = re.compile(r'^cat >"\$\{MMB_ROOT:-\}(/var/lib/mmbatch/settings/[0-9a-f]+\.env)" <<', re.M)


def _documents(template: dict[str, Any]) -> dict[str, tuple[str, str, Any]]:
    """``{logical id: (kind, document as EC2 gets it, user data in the template)}``: a node's merged with Batch's part."""
    resources = template["Resources"]
    documents = {k: ("node", with_batch_part(user_data_document(r["Properties"]["LaunchTemplateData"]["UserData"])),
                     r["Properties"]["LaunchTemplateData"]["UserData"])
                 for k, r in resources.items()
                 if r["Type"] == "AWS::EC2::LaunchTemplate" and "UserData" in r["Properties"]["LaunchTemplateData"]}
    documents.update({k: ("server", user_data_document(r["Properties"]["UserData"]), r["Properties"]["UserData"])
                      for k, r in resources.items() if r["Type"] == "AWS::EC2::Instance"})
    return documents


def _cloud_init(documents: dict[str, str]) -> dict[str, Any]:
    result = subprocess.run([SYSTEM_PYTHON, str(DRIVER)], input=json.dumps(documents), capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    read: dict[str, Any] = json.loads(result.stdout)
    return read


@pytest.mark.needs_deb("cloud-init")
@pytest.mark.parametrize("name", list(CONFIGS))
def test_cloud_init_runs_every_part_as_a_shell_script_in_order_within_the_limit(synth, name: str) -> None:
    documents = _documents(synth(name).template)
    assert sum(kind == "node" for kind, _, _ in documents.values()) == (3 if CONFIGS[name].get("multiQueue") else 1)
    _check(documents)


@pytest.mark.needs_deb("cloud-init")
def test_cloud_init_runs_the_library_constructs_user_data_without_log_shipping() -> None:
    # The app always ships logs; the constructs alone (BatchCompute without NodeSettings.log_shipping) do not.
    parts = build_parts()
    documents = _documents(parts.template().to_json())
    steps = {k: [m for script in shell_parts(document) for m in _STEP.findall(script)] for k, (_, document, _) in documents.items()}
    assert all(s for s in steps.values()) and not any("cloudwatch-agent" in s for s in steps.values()), steps
    _check(documents)


def _check(documents: dict[str, tuple[str, str, Any]]) -> None:
    assert sum(kind == "server" for kind, _, _ in documents.values()) == 1
    read = _cloud_init({k: document for k, (_, document, _) in documents.items()})
    for key, (kind, document, user_data) in documents.items():
        parts, run = read[key]["parts"], read[key]["run"]
        assert {p["type"] for p in parts} == {"text/x-shellscript"}, f"{key}: every part a shell script: {parts}"
        assert [r["file"] for r in run] == [p["file"] for p in parts], f"{key}: every part is run, in document order"
        scripts = [r["script"] for r in run]
        assert all(s.startswith("#!/bin/bash\n") for s in scripts), key
        ours = scripts[:-1] if kind == "node" else scripts
        if kind == "node":
            assert scripts[-1] == batch_part().split("\n\n", 1)[1], f"{key}: Batch's part is run too"
        # gzip parts decompressed: cloud-init runs exactly the scripts the project rendered.
        assert ours == shell_parts(document, as_rendered=False)[:len(ours)], key

        steps = [m.group(1) for s in ours if (m := _STEP.search(s))]
        order = NODE_ORDER if kind == "node" else SERVER_ORDER
        assert steps == sorted(steps, key=order.index), f"{key}: steps run in the intended order: {steps}"
        required = {"node-bootstrap"} if kind == "node" else {"management-server"}
        assert required <= set(steps), steps
        if kind == "node":
            assert {"efs-mount", "juicefs-mount"} & set(steps), f"{key}: storage mounted: {steps}"

        written: set[str] = set()
        for script in ours:
            for path in _SOURCES.findall(script):
                assert path in written, f"{key}: {path} is sourced before the part that writes it has run"
            written.update(_WRITES.findall(script))
        # The merged document within EC2's limit with room for each deploy-time value (Batch's part is in it).
        assert len(document.encode()) <= budget(user_data, batch=False), (key, len(document.encode()))
