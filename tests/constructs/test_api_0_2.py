"""0.2 API: constructs wire nothing to their siblings, and the package has no import circle.

The 0.1 self-wiring forms (``BatchCompute``/``MultiQueue(management_server=...)``, the per-construct ECS and root
volume arguments, ``ManagementServer.use_storage``, ``MmBatchEfsStack``/``MmBatchJuiceFsStack``,
``CheckpointStorageJuiceFs(juicefs_url=...)``) are gone; ``mmbatch_cdk.wiring`` (and :class:`MmBatchDeployment`,
which calls it) is the one place that connects constructs.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import mmbatch_cdk
from mmbatch_cdk import BatchCompute, CheckpointStorageJuiceFs, ManagementServer, MultiQueue

PACKAGE = Path(mmbatch_cdk.__file__).resolve().parent


@pytest.mark.parametrize(
    ("construct", "removed"),
    [
        (BatchCompute, ["management_server", "root_volume_gib", "ecs_stop_timeout", "ecs_start_timeout", "ecs_create_timeout"]),
        (MultiQueue, ["management_server", "root_volume_gib", "ecs_stop_timeout", "ecs_start_timeout", "ecs_create_timeout"]),
        (CheckpointStorageJuiceFs, ["juicefs_url"]),
    ],
)
def test_the_0_1_keyword_arguments_are_gone(construct: type, removed: list[str]) -> None:
    parameters = inspect.signature(construct.__init__).parameters
    assert [name for name in removed if name in parameters] == []
    assert parameters["storage" if construct is not CheckpointStorageJuiceFs else "vpc"].kind is inspect.Parameter.KEYWORD_ONLY


def test_compute_requires_an_agent() -> None:
    for construct in (BatchCompute, MultiQueue):
        assert inspect.signature(construct.__init__).parameters["agent"].default is inspect.Parameter.empty


def test_no_self_wiring_left() -> None:
    assert not hasattr(ManagementServer, "use_storage")
    assert not hasattr(mmbatch_cdk, "MmBatchEfsStack") and not hasattr(mmbatch_cdk, "MmBatchJuiceFsStack")


def _imports(path: Path) -> set[str]:
    """Modules of the package that ``path`` imports, anywhere in it (inside functions and TYPE_CHECKING too)."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = parts if path.name == "__init__.py" else parts[:-1]
    package = [p for p in package if p != "__init__"]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.ImportFrom) or node.level == 0:
            continue
        base = package[: len(package) - (node.level - 1)] + (node.module.split(".") if node.module else [])
        for alias in node.names:  # ``from . import rules`` imports the module mmbatch_cdk.rules
            module = ".".join(base + [alias.name])
            found.add(module if _module_path(module) else ".".join(base))
    return found


def _module_path(name: str) -> Path | None:
    path = PACKAGE.parent.joinpath(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def _import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        graph[name] = _imports(path) - {name}
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle found by a depth-first walk, the root package's re-exports left out."""
    circles: list[list[str]] = []
    done: set[str] = set()

    def visit(node: str, trail: list[str]) -> None:
        if node in trail:
            circles.append(trail[trail.index(node):] + [node])
            return
        if node in done:
            return
        for target in sorted(graph.get(node, ())):
            if target != "mmbatch_cdk":  # ``__init__`` re-exports every module; nothing imports it back
                visit(target, trail + [node])
        done.add(node)

    for name in sorted(graph):
        visit(name, [])
    return circles


def test_the_package_has_no_import_circle() -> None:
    graph = _import_graph()
    assert "mmbatch_cdk.wiring" in graph["mmbatch_cdk.deployment"]  # the walk sees real edges
    assert _circles(graph) == []


def test_the_circle_check_finds_a_circle() -> None:
    graph = _import_graph()
    graph["mmbatch_cdk.management_server"] = graph["mmbatch_cdk.management_server"] | {"mmbatch_cdk.wiring"}
    assert ["mmbatch_cdk.management_server", "mmbatch_cdk.wiring", "mmbatch_cdk.management_server"] in _circles(graph)
