"""The distribution: ``python -m build`` makes a wheel and an sdist; the wheel installs into a fresh venv and works.

The fresh venv gets only the wheel; aws-cdk-lib, constructs and cdk-nag are lent from the dev venv
through a ``.pth`` file, so the test needs no network and still imports mmbatch_cdk from the wheel.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

from ..conftest import REPO
from ..node import node_warnings, project_node_env

SCRIPTS = {p.name for p in (REPO / "mmbatch_cdk" / "user_data").glob("*.sh")}
"""Every boot script in the source tree: the wheel and the sdist must carry each."""
NOT_SOURCE = (".venv", "node_modules", "cdk.out", ".git", ".mypy_cache", ".pytest_cache", "__pycache__", "dist", "build", "*.egg-info")


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build from a copy of the source tree, so the build leaves nothing in the repository."""
    source = tmp_path_factory.mktemp("source") / "mmbatch-cdk"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    out = source / "dist"
    result = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def only(directory: Path, pattern: str) -> Path:
    (found,) = directory.glob(pattern)
    return found


def test_wheel_carries_the_scripts_and_the_typing_marker(dist: Path) -> None:
    names = set(zipfile.ZipFile(only(dist, "mmbatch_cdk-*-py3-none-any.whl")).namelist())
    assert {f"mmbatch_cdk/user_data/{s}" for s in SCRIPTS} <= names
    assert "mmbatch_cdk/py.typed" in names
    assert not any(n.startswith(("tests/", "examples/")) for n in names)
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(only(dist, "*.whl")).read(metadata).decode()
    assert "Requires-Dist: aws-cdk-lib<3,>=2.275.0" in text
    assert "Requires-Dist: cdk-nag<4,>=3.0.2; extra == \"nag\"" in text
    assert "License-Expression: Apache-2.0" in text.splitlines()
    assert "License-File: LICENSE" in text.splitlines()
    license_text = zipfile.ZipFile(only(dist, "*.whl")).read(metadata.replace("METADATA", "licenses/LICENSE")).decode()
    assert license_text == (REPO / "LICENSE").read_text()
    assert "Requires-Dist: boto3<2,>=1.34" in text  # mmbatch-cdk verify


def test_version_comes_from_the_package(dist: Path) -> None:
    """pyproject.toml reads the version from mmbatch_cdk.__version__; nothing else states it."""
    import mmbatch_cdk

    wheel = only(dist, "mmbatch_cdk-*.whl")
    assert wheel.name.startswith(f"mmbatch_cdk-{mmbatch_cdk.__version__}-")
    assert only(dist, "mmbatch_cdk-*.tar.gz").name == f"mmbatch_cdk-{mmbatch_cdk.__version__}.tar.gz"
    assert "version" not in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def test_twine_check_passes(dist: Path) -> None:
    """What PyPI checks on upload: metadata complete, the README renders as the project description."""
    files = sorted(str(f) for f in dist.iterdir())
    result = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *files],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASSED") == 2, result.stdout


def test_sdist_carries_the_source_and_readme(dist: Path) -> None:
    with tarfile.open(only(dist, "mmbatch_cdk-*.tar.gz")) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert {"pyproject.toml", "README.md", "LICENSE", "mmbatch_cdk/py.typed"} <= names
    assert {f"mmbatch_cdk/user_data/{s}" for s in SCRIPTS} <= names


def test_wheel_in_a_fresh_venv_synthesizes_the_example(dist: Path, tmp_path: Path) -> None:
    """examples/team_vpc/app.py: the consumer example the site shows (docs/constructs.md includes the file)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-index",
         "--disable-pip-version-check", str(only(dist, "*.whl"))],
        capture_output=True, text=True,
    )
    assert install.returncode == 0, install.stderr
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    (Path(purelib) / "dev-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    app_dir = tmp_path / "team_vpc"
    shutil.copytree(REPO / "examples" / "team_vpc", app_dir)
    env = project_node_env(CDK_OUTDIR=str(tmp_path / "cdk.out"))
    env.pop("PYTHONPATH", None)
    where = subprocess.run(
        [str(python), "-c", "import mmbatch_cdk; print(mmbatch_cdk.__file__)"],
        cwd=app_dir, env=env, capture_output=True, text=True,
    )
    assert where.returncode == 0, where.stderr
    assert where.stdout.startswith(purelib), where.stdout
    verify = subprocess.run([str(venv / "bin" / "mmbatch-cdk"), "verify", "--help"], env=env, capture_output=True, text=True)
    assert verify.returncode == 0, verify.stderr  # the console script the wheel installs
    assert "--stack STACK" in verify.stdout
    synth = subprocess.run([str(python), "app.py"], cwd=app_dir, env=env, capture_output=True, text=True, timeout=300)
    assert synth.returncode == 0, synth.stderr
    assert "Traceback" not in synth.stderr
    assert node_warnings(synth.stderr) == []  # jsii's banner, which the app printed as Python bytes on Node 20
    assert (tmp_path / "cdk.out" / "GenomicsBatch.template.json").exists()
