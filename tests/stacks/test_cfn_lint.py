"""cfn-lint on every synthesized template: no errors and no warnings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ..conftest import CONFIGS

BIN = Path(sys.executable).parent


def test_cfn_lint_passes_with_no_errors_or_warnings(synth) -> None:
    paths = [str(synth(name).template_path) for name in CONFIGS]
    result = subprocess.run(
        [str(BIN / "cfn-lint"), "--regions", "us-east-1", "eu-west-1", "--format", "parseable", "--", *paths],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr
