"""app.py's garbage-collector settings: no collection during the short synth, what it made frozen before exit."""

from __future__ import annotations

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
