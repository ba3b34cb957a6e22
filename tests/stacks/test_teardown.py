"""Deploy, retry, teardown: what stays when a stack is deleted, what goes when its first create fails, and
removalPolicy=destroy really destroying (pre-deploy review F1, F15)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..conftest import synthesize
from ..templates import Synth


def _kept(s: Synth) -> dict[str, str]:
    return {k: r["Type"] for k, r in s.template["Resources"].items() if r.get("DeletionPolicy") == "RetainExceptOnCreate"}


def test_juicefs_keeps_its_clusters_and_everything_they_still_use(synth) -> None:
    s = synth("juicefs")
    kept = _kept(s)
    for type_, count in {"AWS::MemoryDB::Cluster": 2, "AWS::MemoryDB::ACL": 1, "AWS::MemoryDB::User": 1,
                         # The buckets: JuiceFS's two and the workspace's work bucket.
                         "AWS::MemoryDB::SubnetGroup": 1, "AWS::S3::Bucket": 3, "AWS::SecretsManager::Secret": 1,
                         "AWS::EC2::VPC": 1, "AWS::Logs::LogGroup": 5}.items():
        assert list(kept.values()).count(type_) == count, type_
    subnet_group = s.one("AWS::MemoryDB::SubnetGroup")["Properties"]["SubnetIds"]
    assert sorted(k for k, t in kept.items() if t == "AWS::EC2::Subnet") == sorted(ref["Ref"] for ref in subnet_group)
    assert [k for k, t in kept.items() if t == "AWS::EC2::SecurityGroup"] == [
        next(k for k in s.resources("AWS::EC2::SecurityGroup") if k.startswith("CheckpointStorage"))]
    # What nothing retained uses still goes: routes, gateways, the nodes' and server's own groups.
    for type_ in ("AWS::EC2::RouteTable", "AWS::EC2::InternetGateway", "AWS::EC2::Instance", "AWS::Batch::ComputeEnvironment"):
        assert type_ not in kept.values()


def test_efs_keeps_only_its_file_system_the_work_bucket_and_the_logs(synth) -> None:
    # The log groups: job logs, flow logs, and the node boot, node and server logs the CloudWatch agent ships.
    assert sorted(_kept(synth("efs")).values()) == ["AWS::EFS::FileSystem"] + ["AWS::Logs::LogGroup"] * 5 + ["AWS::S3::Bucket"]


def test_juicefs_in_an_existing_vpc_keeps_no_network(synth) -> None:
    kept = _kept(synth("juicefs-existing-vpc")).values()
    assert "AWS::EC2::VPC" not in kept and "AWS::EC2::Subnet" not in kept


def test_efs_destroy_deletes_the_file_system(tmp_path: Path) -> None:
    fs = synthesize({"removalPolicy": "destroy"}, tmp_path).one("AWS::EFS::FileSystem")
    assert fs["DeletionPolicy"] == "Delete"


@pytest.fixture(scope="module")
def destroyed(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize({"backend": "juicefs", "removalPolicy": "destroy"}, tmp_path_factory.mktemp("destroy"))


def test_destroy_empties_every_bucket_before_deleting_it(destroyed: Synth) -> None:
    assert len(destroyed.resources("AWS::S3::Bucket")) == 3  # JuiceFS's two and the work bucket
    emptied = [r["Properties"]["BucketName"]["Ref"] for r in destroyed.resources("Custom::S3AutoDeleteObjects").values()]
    assert sorted(emptied) == sorted(destroyed.resources("AWS::S3::Bucket"))
    for bucket in destroyed.resources("AWS::S3::Bucket").values():
        assert bucket["DeletionPolicy"] == "Delete"


def test_destroy_deletes_clusters_and_what_they_use(destroyed: Synth) -> None:
    assert _kept(destroyed) == {k: "AWS::Logs::LogGroup" for k in destroyed.resources("AWS::Logs::LogGroup")}
    for cluster in destroyed.resources("AWS::MemoryDB::Cluster").values():
        assert cluster["DeletionPolicy"] == "Delete"


def test_destroy_stays_clean_under_cdk_nag(destroyed: Synth) -> None:
    findings = [v["ruleName"] for p in destroyed.validation_report()["pluginReports"] for v in p["violations"]
                if not v["ruleName"].startswith("Annotation::mmbatch:")]
    assert findings == []


def test_nodes_start_only_once_what_they_need_exists(synth) -> None:
    # F9: the node role's policy, the EFS mount targets, the server's name, and (private subnets) the NAT route.
    s = synth("efs")
    depends = set(s.node_one("AWS::Batch::ComputeEnvironment").get("DependsOn", []))
    assert {k for k in s.resources("AWS::EFS::MountTarget")} <= depends
    assert next(k for k in s.resources("AWS::IAM::Policy") if k.startswith("ComputeInstanceRole")) in depends
    assert next(iter(s.resources("AWS::Route53::RecordSet"))) in depends
    # The NAT route of private subnets: tests/stacks/test_efs_stack.py, with the privateOnly synth it already makes.
