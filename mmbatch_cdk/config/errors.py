"""What a user sees of their settings: every problem at once (:class:`ConfigError`), or a warning they may accept."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence


class ConfigError(Exception):
    """One or more settings are invalid. ``problems`` lists each one, naming its key."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        count = len({p.partition(":")[0] for p in self.problems})  # every message about one setting counts as one
        head = f"mmbatch-cdk: {count} setting{'s' if count != 1 else ''} not valid; nothing was synthesized."
        super().__init__("\n".join([head, *(f"  - {p}" for p in self.problems)]))


@dataclass(frozen=True)
class ConfigWarning:
    """A setting that is valid but probably not what was meant. ``id`` is what ``-c acknowledge=`` takes."""

    id: str
    message: str

    @property
    def annotation_id(self) -> str:
        """The CDK annotation id, ``mmbatch:<id>``."""
        return f"mmbatch:{self.id}"

    @property
    def text(self) -> str:
        """The message with how to accept it from the command line."""
        return f"{self.message} To accept it: -c acknowledge={self.id}."
