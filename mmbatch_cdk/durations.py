"""Durations as the ECS agent and MMAB take them: ``90s``, ``15m``, ``1h`` or any Go duration (``1m30s``)."""

from __future__ import annotations

import re

__all__ = ["duration_seconds", "format_seconds", "is_duration"]

_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")
_WHOLE = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h))+")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}


def is_duration(text: str) -> bool:
    """True when ``text`` is a Go duration such as ``110s``, ``16m`` or ``1m30s``."""
    return bool(_WHOLE.fullmatch(text))


def duration_seconds(text: str) -> float:
    """Seconds in a duration (``2m30s`` -> 150.0); ValueError when ``text`` is not one."""
    if not is_duration(text):
        raise ValueError(f"not a duration: {text!r}")
    return sum(float(number) * _UNITS[unit] for number, unit in _PART.findall(text))


def format_seconds(seconds: int) -> str:
    """The shortest whole-unit spelling of ``seconds``: 180 -> ``3m``, 90 -> ``90s``, 7200 -> ``2h``."""
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
