"""Builds the mmbatch-cdk app from context: the one path shared by ``app.py`` and the tests."""

from __future__ import annotations

import importlib
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from .node_version import check_node_once

check_node_once()  # before aws_cdk starts jsii's Node: one line instead of jsii's banner on a Node it does not support

import aws_cdk as cdk  # noqa: E402

from .template_validation import register_template_validation  # noqa: E402

if TYPE_CHECKING:
    from .config import MmBatchConfig
    from .stacks import MmBatchStack

__all__ = ["build", "main"]


def build(app: cdk.App, *, config: MmBatchConfig | None = None) -> MmBatchStack:
    """Add the chosen stack and cdk-nag to ``app``: AwsSolutions, and with ``compliance=hipaa`` HIPAA Security and
    NIST 800-53 R5 too.

    ``config`` defaults to the settings read from ``app``'s context; reading them raises ConfigError.
    """
    from .config import MmBatchConfig  # noqa: F811 (main imports the constructs' modules on a thread first)
    from .nag import add_nag, packs_for
    from .stacks import MmBatchStack  # noqa: F811

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


def _prepare(app: cdk.App) -> None:
    """Register CDK's template validation on ``app`` while a second thread imports the constructs' modules.

    jsii's Node builds the validation engine (:func:`register_template_validation`) while Python would wait; the
    imports are Python's work (both measured in docs/performance.md, "Where the time goes"). That is safe because importing them makes no jsii call
    (``tests/packaging/test_lazy_package.py`` pins it): only the calling thread talks to jsii's kernel.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mmbatch-import") as importer:
        imported = importer.submit(importlib.import_module, f"{__package__}.stacks")
        register_template_validation(app)  # no construct built yet
        imported.result()


def main() -> int:
    """Entry point of ``app.py``: synthesize, or explain what is wrong without a traceback."""
    app = cdk.App()
    _prepare(app)
    from .config import ConfigError, MmBatchConfig

    try:
        config = MmBatchConfig.from_context(app.node)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 1
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
