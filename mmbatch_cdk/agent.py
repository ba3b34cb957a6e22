"""AgentInstaller: where compute nodes get the MMBatch agent (pagent) from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from constructs import IDependable

__all__ = ["AgentInstaller", "MMAB_PORT"]

MMAB_PORT = 8080
"""Port of the MMAB dashboard, REST API and agent installer (HTTPS)."""


@dataclass(frozen=True)
class AgentInstaller:
    """The management server endpoint that serves ``/api/v1/scripts/install-pagent``, as nodes see it.

    :param address: the server's address inside the VPC (a token at synth time). Required.
    :param mmab_version: the MMAB release the server runs; nodes record which agent they installed. Required.
    :param port: the MMAB port. Default: 8080.
    :param available: what must exist before a node can reach ``address`` (its DNS record). Default: none.
    :param enabled: False when the server installs no MMAB (no install source): nodes then run jobs at once,
        without the agent, and log that checkpointing is off. Default: True.
    """

    address: str
    mmab_version: str
    port: int = MMAB_PORT
    available: Optional[IDependable] = field(default=None, compare=False)
    enabled: bool = True
