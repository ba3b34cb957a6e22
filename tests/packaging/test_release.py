"""The release path: a GitHub Actions workflow that publishes to PyPI by trusted publishing, and the changelog."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

import mmbatch_cdk

from ..conftest import REPO

WORKFLOW = REPO / ".github" / "workflows" / "release.yml"


def workflow() -> dict[Any, Any]:
    return yaml.safe_load(WORKFLOW.read_text())


def test_zizmor_finds_nothing_in_the_workflow() -> None:
    """zizmor parses the workflow and audits it (permissions, credentials, pinning, injection), offline."""
    zizmor = Path(sys.executable).parent / "zizmor"
    result = subprocess.run([str(zizmor), "--offline", "--persona=pedantic", "--no-progress", str(WORKFLOW)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_build_job_then_publish_job_with_only_an_oidc_token() -> None:
    flow = workflow()
    assert flow[True] == {"push": {"tags": ["v*"]}}  # YAML 1.1 reads the key `on` as true
    assert flow["permissions"] == {}
    build, publish = flow["jobs"]["build"], flow["jobs"]["publish"]
    assert build["permissions"] == {"contents": "read"}
    assert publish["needs"] == "build"
    assert publish["environment"]["name"] == "pypi"
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["steps"][-1]["uses"].startswith("pypa/gh-action-pypi-publish@")
    assert not any("gh-action-pypi-publish" in step.get("uses", "") for step in build["steps"])
    runs = "\n".join(step.get("run", "") for step in build["steps"])
    assert "bash .ci/run" in runs and "twine check --strict" in runs  # what CI runs, real components included


def test_changelog_has_a_section_for_the_current_version() -> None:
    changelog = (REPO / "CHANGELOG.md").read_text()
    assert re.search(rf"^## \[{re.escape(mmbatch_cdk.__version__)}\] - ", changelog, re.M), mmbatch_cdk.__version__
