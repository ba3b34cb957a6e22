"""BatchCompute warns when its nodes take the AWS CLI from S3 but its key still from the keyserver."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2

from mmbatch_cdk import BatchCompute, CheckpointStorageEfs, ManagementServer, MmBatchConfig, NodeSettings
from mmbatch_cdk.aws_cli import AWS_CLI_DEFAULT_KEY_SOURCE, AWS_CLI_KEY_WARNING, AwsCliInstall

S3_ZIP = "s3://my-artifacts/awscli-exe-linux-{arch}.zip"


def warnings_of(aws_cli: AwsCliInstall) -> list[str]:
    stack = cdk.Stack(cdk.App())
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0, restrict_default_security_group=False)
    server = ManagementServer(stack, "Server", vpc=vpc)
    compute = BatchCompute(stack, "Compute", vpc=vpc, storage=CheckpointStorageEfs(stack, "Store", vpc=vpc),
                           agent=server.agent_installer, node_settings=NodeSettings(aws_cli=aws_cli))
    return [str(e.data) for e in compute.node.metadata if e.type == "aws:cdk:warning"]


def test_an_s3_zip_with_the_key_still_from_the_keyserver_is_warned_about() -> None:
    keyserver = AwsCliInstall(source=S3_ZIP, pgp_key_source=AWS_CLI_DEFAULT_KEY_SOURCE)
    (warning,) = [w for w in warnings_of(keyserver) if "awsCliPgpKeySource" in w]
    assert "subnets without internet cannot reach" in warning and f"[ack: {AWS_CLI_KEY_WARNING}]" in warning
    assert ("To accept it: -c acknowledge=awsCliKeyFromInternet with the mmbatch-cdk app; in your own app, "
            'Annotations.of(<this construct>).acknowledge_warning("mmbatch:awsCliKeyFromInternet", "<why>").') in warning
    # the id is one the app's acknowledge setting takes
    assert MmBatchConfig.from_mapping({"acknowledge": "awsCliKeyFromInternet"}).acknowledged == (AWS_CLI_KEY_WARNING,)


def test_no_warning_when_the_key_comes_from_s3_too_or_the_zip_from_the_internet() -> None:
    assert not [w for w in warnings_of(AwsCliInstall(source=S3_ZIP, pgp_key_source="s3://my-artifacts/aws-cli.asc"))
                if "awsCliPgpKeySource" in w]
    assert not [w for w in warnings_of(AwsCliInstall()) if "awsCliPgpKeySource" in w]
    assert not [w for w in warnings_of(AwsCliInstall(source=S3_ZIP)) if "awsCliPgpKeySource" in w], "no key, no keyserver"
