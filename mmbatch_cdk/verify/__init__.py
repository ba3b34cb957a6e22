"""``mmbatch-cdk verify``: prove a deployed stack works, restore included (docs/verify.md).

Steps (ids fixed, the docs refer to them): ``stack``, ``server``, ``storage``, ``compute``, ``smoke``, ``drill``.
Only boto3 and the user's credential chain; nothing is deployed for the command.
"""

from __future__ import annotations

__all__ = ["STEPS"]

STEPS = ("stack", "server", "storage", "compute", "smoke", "drill")
"""The verify steps, in the order of the report."""
