"""Every code block of the README and the documentation site says what it is, and every Python block runs.

A Python block is a complete app: it is executed as written, in this process (aws-cdk-lib's runtime is
already up, so each costs only its synth), and each ``cdk.App`` it leaves must hold a synthesized stack.
Shell and other blocks (```bash, ```sh, ```text, ```groovy, ...) are not run; a block without a language would
escape this test, so there is none. A block that includes a file (``--8<-- "path"``) shows a file that another
test runs: RUN_ELSEWHERE names which.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
import pytest

from ..conftest import REPO

DOCS = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
RUN_ELSEWHERE = {"examples/team_vpc/app.py": "tests/packaging/test_package.py (from the built wheel), test_example.py"}
"""Files that the docs show by inclusion, and the tests that run them."""
_FENCE = re.compile(r"^(\s*)```(.*)$")


@dataclass(frozen=True)
class Block:
    """One fenced code block: where it starts, its language (info string's first word) and its text."""

    path: Path
    line: int
    language: str
    info: str
    code: str

    def __str__(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of a Markdown file (indented ones inside lists included)."""
    found: list[Block] = []
    opened: tuple[int, str, str] | None = None
    body: list[str] = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        fence = _FENCE.match(line)
        if opened is None and fence:
            indent, info = fence.groups()
            opened, body = (number, indent, info.strip()), []
        elif opened is not None and fence and fence.group(2).strip() == "":
            start, indent, info = opened
            code = "\n".join(text[len(indent):] if text.startswith(indent) else text for text in body)
            found.append(Block(path, start, info.split(" ")[0] if info else "", info, code + "\n"))
            opened = None
        elif opened is not None:
            body.append(line)
    assert opened is None, f"{path.relative_to(REPO)}:{opened[0]}: a code block is never closed"
    return found


ALL = [block for path in DOCS for block in blocks(path)]
PYTHON = [block for block in ALL if block.language == "python"]


def test_every_block_names_its_language() -> None:
    assert [str(b) for b in ALL if not b.language] == []


def test_the_docs_have_python_blocks_to_run() -> None:
    """The README's construct example and the site's examples; if this drops, a block lost its ```python."""
    assert {str(b).split(":")[0] for b in PYTHON} >= {"README.md", "docs/constructs.md", "docs/queues-and-jobs.md"}


def _included(block: Block) -> str | None:
    match = re.fullmatch(r'--8<-- "([^"]+)"\n', block.code)
    return match.group(1) if match else None


@pytest.mark.parametrize("block", [b for b in PYTHON if _included(b)], ids=str)
def test_an_included_file_is_run_by_another_test(block: Block) -> None:
    assert _included(block) in RUN_ELSEWHERE


@pytest.mark.parametrize("block", [b for b in PYTHON if not _included(b)], ids=str)
def test_python_block_runs_and_synthesizes(block: Block) -> None:
    namespace: dict[str, object] = {"__name__": "__main__"}
    exec(compile(block.code, str(block), "exec"), namespace)  # noqa: S102 - the docs' own examples
    apps = [value for value in namespace.values() if isinstance(value, cdk.App)]
    assert apps, f"{block}: makes no cdk.App"
    for app in apps:  # the block synthesized (app.synth(): without it `cdk synth` finds no stack)
        assert (Path(app.outdir) / "manifest.json").exists(), f"{block}: never calls app.synth()"
        assert app.synth().stacks, f"{block}: synthesizes no stack"
