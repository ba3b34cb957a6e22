"""The variants ``make bench`` measures, as ``cdk synth`` arguments: one place for both bench scripts."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = REPO / ".venv" / "bin" / "python"

EVERY_FEATURE: list[str] = [
    "backend=juicefs",
    "multiQueue=true",
    "drill=true",
    "compliance=hipaa",
    "privateOnly=true",
    "alarmEmail=ops@example.org",
    "monthlyBudgetUsd=500",
    "inputBuckets=genomics-references/hg38,genomics-runs",
]
"""Context of the largest variant: every opt-in feature on (the workspace and the head-job queue are on by default).
A new feature is one more ``key=value`` here."""

DEFAULT: list[str] = []
"""The default deployment (EFS, one queue, new VPC): no context beyond cdk.json's."""

FLOOR = "floor"
"""The baseline every ratio is against: an empty CDK app whose one resource cdk-nag's AwsSolutions pack checks."""

VARIANTS: dict[str, list[str]] = {
    FLOOR: ["--app", f"{PYTHON} {REPO / 'bench' / 'nag_floor_app.py'}"],
    "default": [arg for item in DEFAULT for arg in ("-c", item)],
    "every feature": [arg for item in EVERY_FEATURE for arg in ("-c", item)],
}
"""``cdk synth`` arguments of each variant, the floor first."""

GOALS: dict[str, float] = {"default": 1.3, "every feature": 1.5}
"""Each variant's goal: at most this many times the floor (median of per-pair ratios)."""
