"""What pytest-xdist's controller pays to load the shared fixtures: it runs no test, so it starts no jsii."""

from __future__ import annotations

import subprocess
import sys

from .conftest import REPO


def test_loading_the_shared_fixtures_imports_no_aws_cdk_lib() -> None:
    """Importing aws_cdk starts jsii's Node with aws-cdk-lib; ``synthesize`` imports it when it first runs."""
    check = "import sys, tests.conftest; print(sorted(m for m in sys.modules if m.split('.')[0] in ('aws_cdk', 'jsii', 'mmbatch_cdk')))"
    run = subprocess.run([sys.executable, "-c", check], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
