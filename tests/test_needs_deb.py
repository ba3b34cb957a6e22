"""The needs_deb marker: a missing Debian package skips a test locally and fails it where MMBATCH_REQUIRE_REAL=1."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from . import debian
from .conftest import pytest_runtest_setup


class _Item:
    def __init__(self, *packages: str) -> None:
        self.mark = pytest.mark.needs_deb(*packages).mark

    def iter_markers(self, name: str) -> Iterator[Any]:
        return iter([self.mark] if name == self.mark.name else [])


@pytest.fixture
def nothing_installed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(debian, "PROBES", {**debian.PROBES, "redis-server": lambda: False})
    debian.installed.cache_clear()
    yield
    debian.installed.cache_clear()


def test_a_missing_package_skips_with_its_name(nothing_installed: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(debian.REQUIRE_REAL, raising=False)
    with pytest.raises(BaseException) as outcome:  # a skip or fail escaping here would end this test the same way
        pytest_runtest_setup(_Item("redis-server"))  # type: ignore[arg-type]
    assert outcome.type is pytest.skip.Exception and "apt-get install redis-server" in str(outcome.value)


def test_a_missing_package_fails_where_real_components_are_required(nothing_installed: None,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(debian.REQUIRE_REAL, "1")
    with pytest.raises(BaseException) as outcome:
        pytest_runtest_setup(_Item("redis-server"))  # type: ignore[arg-type]
    assert outcome.type is pytest.fail.Exception, outcome.type
    assert "redis-server" in str(outcome.value) and "MMBATCH_REQUIRE_REAL=1" in str(outcome.value)
