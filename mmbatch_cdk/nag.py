"""cdk-nag for every synth: AwsSolutions always, plus HIPAA Security and NIST 800-53 R5 with ``compliance=hipaa``.

Acknowledgements live with the construct that creates the resource they are about, each on that
resource alone with its own reason, so teams that use the constructs in their own apps get them too.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import aws_cdk as cdk
from constructs import IConstruct

__all__ = [
    "ALL_PACKS", "COMPLIANCE_PACKS", "DEFAULT_PACKS", "acknowledge_compliance", "add_nag", "compliance_acknowledgments",
    "how_to_accept", "packs_for", "unacknowledged",
]

DEFAULT_PACKS: tuple[str, ...] = ("AwsSolutions",)
"""The packs every synth runs."""
COMPLIANCE_PACKS: tuple[str, ...] = ("HIPAA.Security", "NIST.800.53.R5")
"""The packs the compliance profile must pass too; each of their rules is acknowledged in both at once."""
ALL_PACKS: tuple[str, ...] = DEFAULT_PACKS + COMPLIANCE_PACKS
"""What ``compliance=hipaa`` runs."""


def how_to_accept(warning_id: str) -> str:
    """The closing sentence of a construct warning: how to accept it with the app and in a team's own app.

    A library user's app reads no ``acknowledge`` context (only :class:`~mmbatch_cdk.stacks.MmBatchStack` does), so
    the sentence names both ways.
    """
    return (f"To accept it: -c acknowledge={warning_id.partition(':')[2]} with the mmbatch-cdk app; in your own app, "
            f'Annotations.of(<this construct>).acknowledge_warning("{warning_id}", "<why>").')


def packs_for(compliance: str) -> tuple[str, ...]:
    """The packs a synth runs with the ``compliance`` setting: :data:`ALL_PACKS` with a profile, else :data:`DEFAULT_PACKS`.

    Only a profile's synth runs the HIPAA and NIST packs: without one, each of their findings is acknowledged
    with a reason, and the test suite checks that on every configuration (:func:`unacknowledged`).
    """
    return DEFAULT_PACKS if compliance == "none" else ALL_PACKS


def _pack_classes() -> Mapping[str, Callable[..., Any]]:
    import cdk_nag  # an optional dependency of the library (extra "nag"), loaded only when used

    return {"AwsSolutions": cdk_nag.AwsSolutionsChecks, "HIPAA.Security": cdk_nag.HIPAASecurityChecks,
            "NIST.800.53.R5": cdk_nag.NIST80053R5Checks}


def add_nag(app: cdk.App, *, packs: Sequence[str] = DEFAULT_PACKS) -> None:
    """Run ``packs`` (names from :data:`ALL_PACKS`) over the whole app; an unacknowledged finding fails synth."""
    classes = _pack_classes()
    unknown = [p for p in packs if p not in classes]
    if unknown:
        raise ValueError(f"add_nag: packs {unknown} not known; expected some of {', '.join(ALL_PACKS)}")
    cdk.Validations.of(app).add_plugins(*(classes[name](app) for name in packs))


def compliance_acknowledgments(rule: str, reason: str) -> list[cdk.Acknowledgment]:
    """The acknowledgements of ``rule`` (for example ``IAMNoInlinePolicy``) in both :data:`COMPLIANCE_PACKS`.

    To give with a resource's other acknowledgements in one ``cdk.Validations.of(resource).acknowledge(...)``:
    each such call costs two jsii round trips, an acknowledgement none.
    """
    return [cdk.Acknowledgment(id=f"{pack}::{pack}-{rule}", reason=reason) for pack in COMPLIANCE_PACKS]


def acknowledge_compliance(resource: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge ``rule`` (for example ``IAMNoInlinePolicy``) of both :data:`COMPLIANCE_PACKS` on ``resource``.

    Only rules the HIPAA Security and NIST 800-53 R5 packs share; a rule of one pack only takes
    ``cdk.Validations.of(resource).acknowledge`` with that pack's id. A resource with more acknowledgements
    takes them all in one call, with :func:`compliance_acknowledgments`.
    """
    cdk.Validations.of(resource).acknowledge(*compliance_acknowledgments(rule, reason))


def unacknowledged(scope: IConstruct, packs: Sequence[str] = ALL_PACKS) -> list[tuple[str, str]]:
    """``(pack::rule, construct path)`` of every finding of ``packs`` in a construct tree built already.

    For tests that check more packs than their synth ran, without synthesizing again. A finding counts as
    acknowledged, as in CDK's own validation report, when the resource or its closest ancestor carries an
    acknowledgement of ``<pack>::<rule>``.
    """
    acknowledged: dict[str, set[str]] = {}
    for construct in scope.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY and entry.data:
                for rule in entry.data:
                    acknowledged.setdefault(rule, set()).add(construct.node.path)
    classes = _pack_classes()
    found = []
    for name in packs:
        report = classes[name]().validate_scope(scope)
        for violation in report.violations:
            rule = f"{name}::{violation.rule_name}"
            for resource in violation.violating_resources:
                path = resource.construct_path or ""
                parts = path.split("/")
                ancestors = {"/".join(parts[:n]) for n in range(1, len(parts) + 1)}
                if not ancestors & acknowledged.get(rule, set()):
                    found.append((rule, path))
    return found
