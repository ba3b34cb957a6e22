"""A reference, not the baseline: the empty app plus cdk-nag's AwsSolutions pack over one resource.

cdk-nag evaluates every rule on each resource, and its rules load the aws-cdk-lib modules they test against
(cdk-nag 3.0.2's rules require 54), so this is what running cdk-nag costs any app before it has anything of
its own. The resource (a wait-condition handle) has no finding, so the synth succeeds.
"""

import aws_cdk as cdk
import cdk_nag

app = cdk.App()
cdk.CfnWaitConditionHandle(cdk.Stack(app, "Empty"), "Handle")
cdk.Validations.of(app).add_plugins(cdk_nag.AwsSolutionsChecks(app))
app.synth()
