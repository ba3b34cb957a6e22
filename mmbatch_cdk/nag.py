"""cdk-nag for every synth.

Acknowledgements live with the construct that creates the resource they are about, each on that
resource alone with its own reason, so teams that use the constructs in their own apps get them too.
"""

from __future__ import annotations

import aws_cdk as cdk

__all__ = ["add_nag"]


def add_nag(app: cdk.App) -> None:
    """Run the AwsSolutions pack over the whole app; an unacknowledged finding fails synth."""
    from cdk_nag import AwsSolutionsChecks

    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
