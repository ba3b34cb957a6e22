"""CDK's CloudFormation template validation, registered before the construct tree is built."""

from __future__ import annotations

import os
import weakref

import aws_cdk as cdk

__all__ = ["register_template_validation"]

_REGISTERED: weakref.WeakSet[cdk.App] = weakref.WeakSet()


def register_template_validation(app: cdk.App) -> None:
    """Register CDK's CloudFormation template validation on ``app`` now, before any construct exists.

    CDK would register a ``CloudFormationValidatePlugin`` with the same default rules by itself at synth
    time, so the checks and their findings do not change; the report lists them before cdk-nag's. Its
    rule engine is built now, while the construct tree is empty, which measured faster per ``cdk synth``
    (the figures: docs/performance.md, "Where the time goes").

    Call it in an app's entry point, right after ``cdk.App()``. A second call for the same app does
    nothing. It is not for test helpers that create many apps in one process: each registration builds
    its own engine, where CDK's default shares one per process. ``cdk synth --no-validation``
    (``CDK_VALIDATION=false``) still switches the check off, but ``App(builtin_cloud_formation_validation=
    False)`` does not, as with any plugin you register yourself. For rules of your own, register your own
    ``CloudFormationValidatePlugin(rego_rules=...)`` at the same point instead: CDK accepts only one.
    """
    if os.environ.get("CDK_VALIDATION") == "false" or app in _REGISTERED:
        return
    cdk.Validations.of(app).add_plugins(cdk.CloudFormationValidatePlugin())
    _REGISTERED.add(app)
