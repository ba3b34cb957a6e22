"""cfn-lint on every synthesized template: no errors and no warnings."""

from __future__ import annotations

import json
from pathlib import Path

from ..conftest import CONFIGS
from ..lint import cfn_lint


def test_cfn_lint_passes_with_no_errors_or_warnings(synth) -> None:
    assert cfn_lint(*(synth(name).template_path for name in CONFIGS)) == []


def test_cfn_lint_reports_warnings_as_well_as_errors(tmp_path: Path) -> None:
    """The in-process linter reports what the command does: a warning (W2001, an unused parameter) and an error."""
    template = tmp_path / "faulty.json"
    template.write_text(json.dumps({
        "Parameters": {"Unused": {"Type": "String"}},
        "Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"NoSuchProperty": "x"}}},
    }))
    found = cfn_lint(template)
    assert any("[W2001:" in f for f in found) and any("[E3002:" in f for f in found), found
