"""Every public name of the library is documented; every constructor prop says what it is and its default."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re
from typing import Any, Iterator

import pytest

from constructs import Construct

import mmbatch_cdk

PUBLIC = [getattr(mmbatch_cdk, name) for name in mmbatch_cdk.__all__]
CLASSES = [obj for obj in PUBLIC if inspect.isclass(obj)]


def public_members(cls: type) -> Iterator[tuple[str, Any]]:
    for name, member in vars(cls).items():
        if not name.startswith("_") and (inspect.isfunction(member) or isinstance(member, property)):
            yield name, member


@pytest.mark.parametrize("obj", PUBLIC, ids=lambda o: getattr(o, "__name__", repr(o)))
def test_public_names_have_docstrings(obj: Any) -> None:
    if inspect.isclass(obj):
        assert inspect.getdoc(obj), obj.__name__
        undocumented = [name for name, member in public_members(obj) if not inspect.getdoc(member)]
        assert undocumented == [], f"{obj.__name__}: {undocumented}"
    elif inspect.isfunction(obj):
        assert inspect.getdoc(obj)


@pytest.mark.parametrize("cls", [c for c in CLASSES if issubclass(c, Construct) and "__init__" in vars(c)],
                         ids=lambda c: c.__name__)
def test_every_prop_is_documented_with_its_default(cls: type) -> None:
    init = vars(cls)["__init__"]
    doc = inspect.getdoc(init) or ""
    props = [p for p in inspect.signature(init).parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY]
    assert props, f"{cls.__name__} takes no keyword-only props"
    for prop in props:
        match = re.search(rf":param {prop.name}:(.*?)(?=\n:param |\Z)", doc, re.S)
        assert match, f"{cls.__name__}: {prop.name} is not documented"
        if prop.default is not inspect.Parameter.empty:
            assert "Default:" in match.group(1), f"{cls.__name__}: {prop.name} does not state its default"


def test_every_public_function_and_class_of_every_module_has_a_docstring() -> None:
    undocumented = []
    for info in pkgutil.walk_packages(mmbatch_cdk.__path__, "mmbatch_cdk."):
        module = importlib.import_module(info.name)
        assert inspect.getdoc(module), f"module {info.name}"
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != info.name:
                continue
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and not inspect.getdoc(obj):
                undocumented.append(f"{info.name}.{name}")
    assert undocumented == []


def test_dataclass_fields_are_documented() -> None:
    doc = inspect.getdoc(mmbatch_cdk.QueueSpec) or ""
    for name, field in mmbatch_cdk.QueueSpec.__dataclass_fields__.items():
        match = re.search(rf":param {name}:(.*?)(?=\n:param |\Z)", doc, re.S)
        assert match, f"QueueSpec.{name} is not documented"
        has_default = field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING
        assert ("Default:" if has_default else "Required.") in match.group(1), f"QueueSpec.{name}"
