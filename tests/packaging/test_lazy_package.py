"""``mmbatch_cdk`` loads its constructs on first use, so ``mmbatch-cdk verify`` (boto3 only) never starts jsii's Node."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys

import mmbatch_cdk

from ..conftest import REPO


def test_verify_never_imports_aws_cdk() -> None:
    code = ("import sys, mmbatch_cdk, mmbatch_cdk.verify.cli; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('aws_cdk', 'jsii', 'constructs')))")
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_every_public_name_loads_from_the_module_it_is_declared_in() -> None:
    tree = ast.parse((REPO / "mmbatch_cdk" / "__init__.py").read_text())
    typed = {alias.name: node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 1
             and node.module not in ("node_version",) for alias in node.names}
    assert typed == mmbatch_cdk._MODULE_OF
    for name in mmbatch_cdk.__all__:
        module = importlib.import_module(f"mmbatch_cdk.{mmbatch_cdk._MODULE_OF[name]}")
        assert getattr(mmbatch_cdk, name) is getattr(module, name), name


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        mmbatch_cdk.NoSuchConstruct  # type: ignore[attr-defined]
    except AttributeError as err:
        assert "NoSuchConstruct" in str(err)
    else:
        raise AssertionError("an unknown name resolved")


def test_every_module_exports_only_names_it_has() -> None:
    """``__all__`` of every module names what the module defines: ``from mmbatch_cdk.x import *`` cannot fail."""
    missing = []
    for path in sorted((REPO / "mmbatch_cdk").rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if name.endswith("__main__"):
            continue  # runs the command on import
        module = importlib.import_module(name)
        missing += [f"{name}.{n}" for n in getattr(module, "__all__", ()) if not hasattr(module, n)]
    assert missing == []


IMPORT_EVERY_MODULE_RECORDING_JSII = '''
import pkgutil, sys
import mmbatch_cdk.application  # starts jsii's kernel with aws-cdk-lib, as app.py's main finds it
from jsii._kernel.providers import process
calls = []
send = process._NodeProcess.send
def recording(node, request, response_type):
    calls.append(type(request).__name__)
    return send(node, request, response_type)
process._NodeProcess.send = recording
import mmbatch_cdk
for module in pkgutil.walk_packages(mmbatch_cdk.__path__, "mmbatch_cdk."):
    if not module.name.endswith("__main__"):
        __import__(module.name)
print(len([m for m in sys.modules if m.startswith("mmbatch_cdk.")]), calls)
'''


def test_importing_every_module_makes_no_jsii_call() -> None:
    """``application.main`` imports the constructs' modules on a second thread while jsii's Node builds the validation
    engine; that is safe only while no module calls jsii at import time (a ``cdk.Duration`` default would)."""
    run = subprocess.run([sys.executable, "-c", IMPORT_EVERY_MODULE_RECORDING_JSII], cwd=REPO, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    modules, calls = run.stdout.split(" ", 1)
    assert int(modules) > 40  # the walk reached the constructs
    assert calls.strip() == "[]"
