"""Builds the mmbatch-cdk app from context: the one path shared by ``app.py`` and the tests."""

from __future__ import annotations

import sys

from .node_version import check_node_once

check_node_once()  # before aws_cdk starts jsii's Node: one line instead of jsii's banner on a Node it does not support

import aws_cdk as cdk  # noqa: E402

from .config import ConfigError, MmBatchConfig  # noqa: E402
from .nag import add_nag, packs_for  # noqa: E402
from .stacks import MmBatchStack  # noqa: E402
from .template_validation import register_template_validation  # noqa: E402

__all__ = ["build", "main"]


def build(app: cdk.App, *, config: MmBatchConfig | None = None) -> MmBatchStack:
    """Add the chosen stack and cdk-nag to ``app``: AwsSolutions, and with ``compliance=hipaa`` HIPAA Security and
    NIST 800-53 R5 too.

    ``config`` defaults to the settings read from ``app``'s context; reading them raises ConfigError.
    """
    if config is None:
        config = MmBatchConfig.from_context(app.node)
    name = f"{config.prefix}-{config.backend}"
    stack = MmBatchStack(
        app,
        name,
        config=config,
        stack_name=name,
        description=f"Memory Machine Batch with {config.backend.upper()} checkpoint storage (mmbatch-cdk)",
    )
    add_nag(app, packs=packs_for(config.compliance))
    return stack


def main() -> int:
    """Entry point of ``app.py``: synthesize, or explain what is wrong without a traceback."""
    app = cdk.App()
    try:
        config = MmBatchConfig.from_context(app.node)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 1
    register_template_validation(app)  # settings known good, no construct built yet
    try:
        build(app, config=config)
    except ConfigError as err:  # a construct rejected a setting; the message names it
        print(err, file=sys.stderr)
        return 1
    try:
        app.synth()
    except RuntimeError as err:
        if "ValidationFailed" not in str(err):
            raise
        print("mmbatch-cdk: synthesis stopped by the validation findings listed above.", file=sys.stderr)
        return 1
    return 0
