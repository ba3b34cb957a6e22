"""Verdicts per step, the text and JSON reports, and the exit status."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Literal

from . import STEPS

__all__ = ["Outcome", "Verdict", "exit_status", "render_json", "render_text"]

Outcome = Literal["passed", "failed", "skipped", "could-not-run"]


@dataclass
class Verdict:
    """One step's outcome, a one-line summary, and the evidence (quoted status reasons, log lines)."""

    step: str
    outcome: Outcome
    summary: str
    details: list[str] = field(default_factory=list)


def exit_status(verdicts: list[Verdict]) -> int:
    """2 if any step could not run, else 1 if any failed, else 0 (skipped steps do not fail the run)."""
    outcomes = {v.outcome for v in verdicts}
    return 2 if "could-not-run" in outcomes else 1 if "failed" in outcomes else 0


def _ordered(verdicts: list[Verdict]) -> list[Verdict]:
    return sorted(verdicts, key=lambda v: STEPS.index(v.step) if v.step in STEPS else len(STEPS))


def render_text(verdicts: list[Verdict]) -> str:
    """One line per step (``PASSED  server  MMAB answers ...``), its evidence indented below."""
    lines = []
    for v in _ordered(verdicts):
        lines.append(f"{v.outcome.upper():<14} {v.step:<8} {v.summary}")
        lines.extend(f"{'':<24}{detail}" for detail in v.details)
    status = exit_status(verdicts)
    lines.append({0: "verify: all checks passed", 1: "verify: a check failed", 2: "verify: could not run every check"}[status])
    return "\n".join(lines)


def render_json(verdicts: list[Verdict]) -> str:
    """``{"exitStatus": N, "steps": [{"step", "outcome", "summary", "details"}, ...]}``."""
    return json.dumps({"exitStatus": exit_status(verdicts), "steps": [asdict(v) for v in _ordered(verdicts)]}, indent=2)
