"""F16: the one Lambda function of a deployment, aws-cdk-lib's handler that empties the new VPC's default security
group, and the runtime aws-cdk-lib gives it (what the docs say)."""

from __future__ import annotations


def test_the_default_security_group_handler_is_the_only_function_and_runs_the_runtime_the_docs_name(synth) -> None:
    functions = synth("efs").resources("AWS::Lambda::Function")
    assert list(functions) == ["CustomVpcRestrictDefaultSGCustomResourceProviderHandlerDC833E5E"]
    (handler,) = functions.values()
    # aws-cdk-lib's CustomResourceProvider fixes it (no prop chooses another); docs/security.md ("The one Lambda function") says which.
    assert handler["Properties"]["Runtime"] == "nodejs24.x"
