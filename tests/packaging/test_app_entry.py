"""app.py's garbage-collector settings: no collection during the short synth, what it made frozen before exit."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

from ..conftest import REPO

STAND_IN = '''
import atexit, gc
COLLECTING_DURING_IMPORT = gc.isenabled()
def main():
    print(COLLECTING_DURING_IMPORT, gc.isenabled(), gc.get_freeze_count() > 0)
    atexit.register(lambda: print(gc.get_freeze_count() > 0))
    return 3
'''


def test_app_collects_nothing_while_it_runs_and_freezes_what_it_made_before_exit(tmp_path: Path) -> None:
    """A stand-in ``mmbatch_cdk.application`` beside a copy of app.py reports the collector's state at each step."""
    shutil.copy(REPO / "app.py", tmp_path / "app.py")
    (tmp_path / "mmbatch_cdk").mkdir()
    (tmp_path / "mmbatch_cdk" / "__init__.py").write_text("")
    (tmp_path / "mmbatch_cdk" / "application.py").write_text(STAND_IN)
    run = subprocess.run([sys.executable, "app.py"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    # During the import, during main (which imports the constructs' modules), nothing frozen yet; frozen at exit.
    assert run.stdout.split() == ["False", "False", "False", "True"], run.stderr
    assert run.returncode == 3  # main's exit status passes through


def _narrows(test: ast.expr) -> bool:
    """``isinstance(...)``, ``x is not None``, or several of them joined by ``and``."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return all(_narrows(value) for value in test.values)
    if isinstance(test, ast.Call):
        return isinstance(test.func, ast.Name) and test.func.id == "isinstance"
    return (isinstance(test, ast.Compare) and [type(op) for op in test.ops] == [ast.IsNot]
            and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is None)


def test_every_assert_of_the_package_only_narrows_a_type() -> None:
    """cdk.json runs the app with ``python -O``, which drops asserts: none may carry behaviour, so each is an
    ``isinstance`` or ``is not None`` check that only tells mypy what a value already is."""
    other = []
    for path in sorted((REPO / "mmbatch_cdk").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Assert):
                continue
            if not _narrows(node.test):
                other.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert other == []


def test_cdk_json_runs_the_app_optimized() -> None:
    assert json.loads((REPO / "cdk.json").read_text())["app"] == ".venv/bin/python -O app.py"
