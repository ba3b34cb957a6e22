"""The baseline: the smallest CDK app (one empty stack), run by the same CLI as ours."""

import aws_cdk as cdk

app = cdk.App()
cdk.Stack(app, "Empty")
app.synth()
