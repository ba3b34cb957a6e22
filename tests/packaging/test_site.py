"""The documentation site: `mkdocs build --strict` passes (no warning, broken link or missing reference), and its
generated references hold every setting and every public name.

The build runs once per session, as `make docs` runs it, into a temporary directory.
"""

from __future__ import annotations

import dataclasses
import html
import importlib
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import mmbatch_cdk
from mmbatch_cdk.config import SETTINGS

from ..conftest import REPO
from ..node import NODE_BIN


def load_hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_hooks", REPO / "tools" / "docs_hooks.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hooks = load_hooks()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "PATH": f"{NODE_BIN}{os.pathsep}{os.environ['PATH']}", "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert re.findall(r"^(?:WARNING|ERROR).*", result.stderr, re.M) == []
    return out


def text_of(site: Path, page: str) -> str:
    return (site / page / "index.html").read_text()


def test_the_settings_reference_has_a_row_per_setting_in_table_order(site: Path) -> None:
    page = text_of(site, "reference/settings")
    keys = re.findall(r"<tr>\s*<td><code>([A-Za-z0-9]+)</code></td>", page)
    assert keys == [s.key for s in SETTINGS]


def test_a_settings_row_says_what_it_accepts_its_default_and_what_reads_it(site: Path) -> None:
    page = html.unescape(text_of(site, "reference/settings"))
    row = re.search(r"<tr>\s*<td><code>maxvCpus</code></td>(.*?)</tr>", page, re.S)
    assert row, "no maxvCpus row"
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row.group(1), re.S)]
    assert cells[:3] == ["a whole number >= 1 and <= 2147483647", "256", "one queue"]
    assert cells[-1] == "QueueSpec"
    assert 'href="../api/#mmbatch_cdk.QueueSpec"' in row.group(1)


def test_every_prop_target_of_the_settings_names_a_real_reader() -> None:
    """A new target in SETTINGS fails here (and the build), not silently in the reference."""
    targets = {prop.partition(".")[0] for s in SETTINGS for prop in s.props}
    assert targets <= set(hooks.READERS), sorted(targets - set(hooks.READERS))
    for name in hooks.READERS.values():
        module, _, attr = name.rpartition(".")
        assert hasattr(importlib.import_module(module or "mmbatch_cdk"), attr), name


def test_what_a_setting_accepts_comes_from_its_parser() -> None:
    by_key = {s.key: s for s in SETTINGS}
    assert hooks.accepts(by_key["backend"]) == "one of: efs, juicefs"
    assert hooks.accepts(by_key["keyName"]) == "an EC2 key pair name (1-255 printable ASCII characters)"
    assert hooks.accepts(dataclasses.replace(by_key["keyName"], parse=str)) == "any text"  # a parser that refuses nothing


def test_every_public_name_has_its_entry_in_the_api_reference(site: Path) -> None:
    page = text_of(site, "reference/api")
    documented = set(re.findall(r'id="mmbatch_cdk\.([A-Za-z_]+)"', page))
    assert set(mmbatch_cdk.__all__) - documented == set()


def test_the_api_reference_shows_each_props_documented_default(site: Path) -> None:
    page = html.unescape(re.sub(r"<[^>]+>", "", text_of(site, "reference/api")))
    assert "Default: 30" in page  # NodeSettings.root_volume_gib, from its docstring


def test_the_architecture_diagram_is_rendered_as_mermaid(site: Path) -> None:
    page = text_of(site, "architecture")
    assert '<pre class="mermaid"><code>flowchart LR' in page


def test_the_team_example_is_included_from_its_file(site: Path) -> None:
    page = html.unescape(re.sub(r"<[^>]+>", "", text_of(site, "constructs")))
    assert "class GenomicsBatchStack(cdk.Stack):" in page


def nav_pages() -> list[str]:
    """The pages of mkdocs.yml's nav, in order."""
    return re.findall(r"^\s*- (?:[^:\n]+: )?([a-z0-9/_-]+\.md)$", (REPO / "mkdocs.yml").read_text(), re.M)


def test_the_readme_is_a_front_page_that_links_every_page_of_the_site() -> None:
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 150, "the README is the front page; put the detail on a page of the site"
    pages = nav_pages()
    assert "reference/settings.md" in pages and "verify.md" in pages
    unlinked = [p for p in pages if p != "index.md" and f"(docs/{p}" not in readme]
    assert unlinked == []


def test_the_readme_names_the_mmab_installer_on_its_first_screen() -> None:
    """Without mmabSource, checkpointing is off: a newcomer reads so before the first deploy line."""
    first_screen = "\n".join((REPO / "README.md").read_text().splitlines()[:25])
    assert "mmabSource" in first_screen and "checkpointing is OFF" in first_screen
    deploys = [line for line in (REPO / "README.md").read_text().splitlines() if line.startswith("cdk deploy")]
    assert deploys and all("mmabSource=" in line for line in deploys)
