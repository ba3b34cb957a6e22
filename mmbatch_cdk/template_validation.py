"""CDK's CloudFormation template validation, registered before the construct tree is built."""

from __future__ import annotations

import os

import aws_cdk as cdk

__all__ = ["start_template_validation"]


def start_template_validation(app: cdk.App) -> None:
    """Register CDK's CloudFormation template validation on ``app`` now, before any construct exists.

    It is the plugin CDK would register by itself at synth time, with the same default rules, so the
    checks do not change. Building its rule engine (1.5-2 s) while the construct tree is still empty
    makes the whole synth about 0.5 s faster (``make bench``). ``cdk synth --no-validation``
    (``CDK_VALIDATION=false``) still switches it off. Call it once per app: CDK accepts only one
    ``CloudFormationValidatePlugin``.
    """
    if os.environ.get("CDK_VALIDATION") == "false":
        return
    cdk.Validations.of(app).add_plugins(cdk.CloudFormationValidatePlugin())
