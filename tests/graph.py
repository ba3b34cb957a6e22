"""The dependency graph CloudFormation derives from a template: DependsOn, Ref, Fn::GetAtt and Fn::Sub."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

_SUB_REF = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")


def _references(node: Any, names: set[str]) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str) and value in names:
                found.add(value)
            elif key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) else value.split(".")[0]
                if target in names:
                    found.add(target)
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                found |= {m for m in _SUB_REF.findall(text) if m in names}
                if isinstance(value, list):
                    found |= _references(value[1], names)
            else:
                found |= _references(value, names)
    elif isinstance(node, list):
        for item in node:
            found |= _references(item, names)
    return found


def dependencies(template: dict[str, Any]) -> dict[str, set[str]]:
    """For each resource, the resources CloudFormation must create before it."""
    resources = template["Resources"]
    names = set(resources)
    graph = {}
    for name, resource in resources.items():
        depends_on = resource.get("DependsOn", [])
        explicit = {depends_on} if isinstance(depends_on, str) else set(depends_on)
        graph[name] = (explicit | _references(resource.get("Properties", {}), names)) - {name}
    return graph


def longest_chain(template: dict[str, Any]) -> list[str]:
    """The longest sequence of resources each of which waits for the one before it."""
    graph = dependencies(template)

    @lru_cache(maxsize=None)
    def chain(name: str) -> tuple[str, ...]:
        best: tuple[str, ...] = ()
        for dep in graph[name]:
            candidate = chain(dep)
            if len(candidate) > len(best):
                best = candidate
        return best + (name,)

    return list(max((chain(n) for n in graph), key=len))
