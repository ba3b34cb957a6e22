"""The JuiceFS deployment: S3 + MemoryDB storage and its scoped access (its boot scripts run in tests/boot/)."""

from __future__ import annotations

import json
import re

import pytest

from ..templates import Synth, shell_parts, user_data_document
from ..conftest import CONFIGS, synthesize


@pytest.fixture(scope="module")
def jfs(synth) -> Synth:
    return synth("juicefs")


@pytest.fixture(scope="module")
def jfs_existing(synth) -> Synth:
    return synth("juicefs-existing-vpc")


# ------------------------------------------------------------------ buckets


def _storage_buckets(s: Synth) -> dict[str, Any]:
    """The JuiceFS buckets (the workspace's work bucket is tested in test_workspace.py)."""
    return {k: v for k, v in s.resources("AWS::S3::Bucket").items() if k.startswith("CheckpointStorage")}


def test_two_buckets_encrypted_private_tls_only_and_retained(jfs: Synth) -> None:
    buckets = _storage_buckets(jfs)
    assert len(buckets) == 2
    for logical_id, bucket in buckets.items():
        props = bucket["Properties"]
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True
        }
        assert bucket["DeletionPolicy"] == "RetainExceptOnCreate"
        assert {"AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}, "Id": "AbortIncompleteUploads", "Status": "Enabled"} in props["LifecycleConfiguration"]["Rules"]
        assert not any("ExpirationInDays" in r for r in props["LifecycleConfiguration"]["Rules"]), "S3 must never expire JuiceFS blocks"
        policy = next(p for p in jfs.resources("AWS::S3::BucketPolicy").values() if p["Properties"]["Bucket"] == {"Ref": logical_id})
        deny = policy["Properties"]["PolicyDocument"]["Statement"][0]
        assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_only_scratch_moves_to_intelligent_tiering(jfs: Synth) -> None:
    tiering = {k: any(r["Id"] == "ScratchToIntelligentTiering" for r in v["Properties"]["LifecycleConfiguration"]["Rules"])
               for k, v in _storage_buckets(jfs).items()}
    assert sorted((k.startswith("CheckpointStorageScratch"), v) for k, v in tiering.items()) == [(False, False), (True, True)]


def test_scratch_blocks_go_to_intelligent_tiering_the_day_they_are_written(jfs: Synth) -> None:
    """Intelligent-Tiering reads back at Standard latency with no retrieval fee and starts its own 30-day clock when
    an object arrives; a lifecycle delay would keep every scratch block in Standard that much longer first."""
    scratch = next(v for k, v in _storage_buckets(jfs).items() if k.startswith("CheckpointStorageScratch"))
    rule = next(r for r in scratch["Properties"]["LifecycleConfiguration"]["Rules"] if r["Id"] == "ScratchToIntelligentTiering")
    assert rule["Transitions"] == [{"StorageClass": "INTELLIGENT_TIERING", "TransitionInDays": 0}]


# ------------------------------------------------------------------ MemoryDB


def test_two_tls_clusters_with_a_replica_and_snapshots(jfs: Synth) -> None:
    clusters = jfs.resources("AWS::MemoryDB::Cluster")
    assert sorted(c["Properties"]["ClusterName"] for c in clusters.values()) == ["mmbatch-checkpoint", "mmbatch-scratch"]
    for cluster in clusters.values():
        props = cluster["Properties"]
        assert props["TLSEnabled"] is True
        assert (props["NumShards"], props["NumReplicasPerShard"]) == (1, 1)
        assert props["NodeType"] == "db.t4g.small"
        assert props["SnapshotRetentionLimit"] == 7
        assert props["ACLName"] == {"Ref": next(iter(jfs.resources("AWS::MemoryDB::ACL")))}
        assert cluster["DeletionPolicy"] == "RetainExceptOnCreate"
        assert "DependsOn" not in cluster or all("Metadata" not in d for d in cluster["DependsOn"]), "clusters are created in parallel"


def test_clusters_run_redis_7_1_and_take_its_minor_upgrades(jfs: Synth) -> None:
    """The access string was read against Redis 7's command table and checked on a real Redis 7 server
    (tests/real/), so the engine is pinned there; minor upgrades (security fixes) apply in the maintenance window."""
    for cluster in jfs.resources("AWS::MemoryDB::Cluster").values():
        props = cluster["Properties"]
        assert (props["Engine"], props["EngineVersion"], props["AutoMinorVersionUpgrade"]) == ("redis", "7.1", True)


def test_the_metadata_security_group_sends_nothing(jfs: Synth) -> None:
    """MemoryDB only answers on 6379; its group keeps CDK's placeholder for no egress rule, so the clusters'
    interfaces cannot open a connection anywhere."""
    group = next(v for k, v in jfs.resources("AWS::EC2::SecurityGroup").items() if k.startswith("CheckpointStorageSecurityGroup"))
    assert group["Properties"]["SecurityGroupEgress"] == [{"CidrIp": "255.255.255.255/32", "Description": "Disallow all traffic",
                                                          "FromPort": 252, "IpProtocol": "icmp", "ToPort": 86}]


def test_clusters_span_two_azs(jfs: Synth, jfs_existing: Synth) -> None:
    assert len(jfs.one("AWS::MemoryDB::SubnetGroup")["Properties"]["SubnetIds"]) == 2
    assert jfs_existing.one("AWS::MemoryDB::SubnetGroup")["Properties"]["SubnetIds"] == CONFIGS["juicefs-existing-vpc"]["subnetIds"].split(",")


def test_user_password_comes_from_secrets_manager_only(jfs: Synth) -> None:
    user = jfs.one("AWS::MemoryDB::User")["Properties"]
    secret_id = next(iter(jfs.resources("AWS::SecretsManager::Secret")))
    assert user["AuthenticationMode"] == {
        "Type": "password",
        "Passwords": [{"Fn::Join": ["", ["{{resolve:secretsmanager:", {"Ref": secret_id}, ":SecretString:::}}"]]}],
    }
    assert jfs.one("AWS::MemoryDB::ACL")["Properties"]["UserNames"] == [{"Ref": next(iter(jfs.resources("AWS::MemoryDB::User")))}]
    generator = jfs.resources("AWS::SecretsManager::Secret")[secret_id]["Properties"]["GenerateSecretString"]
    assert generator["PasswordLength"] >= 32


def test_the_metadata_password_is_letters_and_digits_only(jfs: Synth) -> None:
    """Secrets Manager's default punctuation includes quotes, ``$``, backquote, ``@`` and ``/``: characters a
    Redis-family password rule may refuse at CreateUser, and that every place the password goes (the nodes'
    environment, a redis-cli an operator types) would have to quote. 32 letters and digits are ~190 bits."""
    generator = jfs.one("AWS::SecretsManager::Secret")["Properties"]["GenerateSecretString"]
    assert generator == {"ExcludePunctuation": True, "PasswordLength": 32}


def test_no_plain_text_secret_anywhere(jfs: Synth) -> None:
    text = json.dumps(jfs.template) + "".join(jfs.node_scripts()) + "".join(jfs.server_scripts())
    # The password is only ever read at boot ("$(...)") and written with printf's %s, never a literal.
    assert re.findall(r'META_PASSWORD=(?!\\?"\$\(mmb_retry|%s)', text) == []
    assert "rediss://$META_USER@$host" in text, "the URL carries the user, never a password"
    assert re.findall(r"rediss://[^@\s'\"]*:[^@\s'\"]*@", text) == []
    assert re.findall(r'"Passwords?": \["[^{]', text) == []


def test_redis_port_only_from_nodes_and_server(jfs: Synth) -> None:
    group = next(k for k in jfs.resources("AWS::EC2::SecurityGroup") if k.startswith("CheckpointStorageSecurityGroup"))
    rules = [r["Properties"] for r in jfs.resources("AWS::EC2::SecurityGroupIngress").values()
             if r["Properties"]["GroupId"] == {"Fn::GetAtt": [group, "GroupId"]}]
    assert sorted((r["FromPort"], r["SourceSecurityGroupId"]["Fn::GetAtt"][0][:14]) for r in rules) == [
        (6379, "ComputeSecurit"), (6379, "ManagementServ")
    ]


# ------------------------------------------------------------------ IAM


@pytest.mark.parametrize("role", ["ComputeInstanceRole", "ManagementServerRole"])
def test_storage_access_is_scoped_to_the_two_buckets_one_secret_two_clusters(jfs: Synth, role: str) -> None:
    statements = jfs.statements(role)
    buckets = sorted(_storage_buckets(jfs))
    secret = next(iter(jfs.resources("AWS::SecretsManager::Secret")))
    objects = next(st for st in statements if "s3:PutObject" in st["Action"])
    assert objects["Action"] == ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
    assert sorted(r["Fn::Join"][1][0]["Fn::GetAtt"][0] for r in objects["Resource"]) == buckets
    listing = next(st for st in statements if st["Action"] == "s3:ListBucket")
    assert sorted(r["Fn::GetAtt"][0] for r in listing["Resource"]) == buckets
    secret_read = next(st for st in statements if "secretsmanager:GetSecretValue" in st["Action"])
    assert secret_read["Resource"] == {"Ref": secret}
    describe = next(st for st in statements if st["Action"] == "memorydb:DescribeClusters")
    assert [r["Fn::Join"][1][-1] for r in describe["Resource"]] == [":cluster/mmbatch-checkpoint", ":cluster/mmbatch-scratch"]
    s3_actions = {a for st in statements for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"]) if a.startswith("s3:")}
    assert s3_actions <= {"s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:PutObject", "s3:ListBucket"}


# ------------------------------------------------------------------ compute and server wiring


def test_node_root_volume_holds_both_caches(jfs: Synth, jfs_existing: Synth) -> None:
    def size(s: Synth) -> int:
        lt = s.node_launch_template()[1]
        return lt["Properties"]["LaunchTemplateData"]["BlockDeviceMappings"][0]["Ebs"]["VolumeSize"]

    assert size(jfs) == 30 + 110
    assert size(jfs_existing) == 30 + 220


def test_server_formats_and_nodes_mount_without_waiting_on_memorydb(jfs: Synth) -> None:
    assert jfs.steps(jfs.server_scripts()) == ["cloudwatch-agent", "management-server", "juicefs-format"]
    assert "export VOLUMES='checkpoint:mmbatch-checkpoint:" in jfs.server_script("juicefs-format")
    clusters = set(jfs.resources("AWS::MemoryDB::Cluster"))
    for resource in jfs.template["Resources"].values():
        if resource["Type"] in ("AWS::EC2::Instance", "AWS::EC2::LaunchTemplate", "AWS::Batch::ComputeEnvironment", "AWS::IAM::Policy"):
            assert not clusters & set(resource.get("DependsOn", []))
            assert not any(c in json.dumps(resource["Properties"]) for c in clusters)


def test_the_cache_size_reaches_the_mount_in_mib(jfs: Synth, jfs_existing: Synth) -> None:
    """juicefs mount --cache-size takes MiB: the 50 (100) GiB per volume that the root volume is sized for
    (test_node_root_volume_holds_both_caches) are 51200 (102400) MiB; 1000 per GiB would leave 2.3% of the disk
    meant for the cache unused, and a wrong factor the other way would fill the root volume."""
    assert "export CACHE_SIZE_MIB=51200\n" in jfs.node_script("juicefs-mount")
    assert "export CACHE_SIZE_MIB=102400\n" in jfs_existing.node_script("juicefs-mount")


def test_both_scripts_name_metadata_database_1(jfs: Synth) -> None:
    """The meta URL names db 1: go-redis then sends SELECT 1, whose refusal by a cluster-mode server is what switches
    JuiceFS to its cluster client and the {1} key prefix (the access string's +select is there for it, checked in
    tests/real/test_juicefs_redis.py). The format and the mounts must name the same database."""
    for script in (jfs.server_script("juicefs-format"), jfs.node_script("juicefs-mount")):
        assert "export META_DB=1\n" in script
        assert 'rediss://$META_USER@$host:6379/$META_DB' in script


def test_nodes_and_server_wait_out_a_new_memorydb_cluster(jfs: Synth) -> None:
    """MemoryDB takes about 15 minutes to create a cluster, and nothing in the stack waits for it: the server polls
    for it 45 times a minute apart before formatting, and each node waits 40 minutes for the endpoint and again for
    the format (docs/architecture.md: "the MemoryDB and format waits (~40 min)"). Waits of a few minutes would fail
    the first server and every node of a new stack."""
    fmt, mount = jfs.server_script("juicefs-format"), jfs.node_script("juicefs-mount")
    assert "export CLUSTER_WAIT_ATTEMPTS=45\n" in fmt
    assert 'mmb_retry "$CLUSTER_WAIT_ATTEMPTS" 60 mmb_memorydb_endpoint' in fmt
    assert "export FORMAT_WAIT_ATTEMPTS=40\n" in mount
    assert 'mmb_retry "$FORMAT_WAIT_ATTEMPTS" 60 juicefs status' in mount


def test_juicefs_outputs_name_buckets_endpoints_secret_and_mount_points(jfs: Synth) -> None:
    for key in ("CheckpointBucketName", "ScratchBucketName", "CheckpointMetadataEndpoint", "ScratchMetadataEndpoint",
                "MetadataPasswordSecretArn", "CheckpointMountPoint", "ScratchMountPoint", "JobQueueArn", "ManagementServerUrl"):
        assert key in jfs.template["Outputs"]


def test_redis_node_type_and_prefix_reach_the_clusters(tmp_path) -> None:
    s = synthesize({"backend": "juicefs", "redisNodeType": "db.r7g.large", "prefix": "team-a"}, tmp_path)
    clusters = s.resources("AWS::MemoryDB::Cluster").values()
    assert {c["Properties"]["NodeType"] for c in clusters} == {"db.r7g.large"}
    assert sorted(c["Properties"]["ClusterName"] for c in clusters) == ["team-a-checkpoint", "team-a-scratch"]


def test_formatter_changes_replace_the_server_rather_than_stop_it(jfs: Synth, tmp_path) -> None:
    # The format part is added after the instance exists; the replacement hash must still cover it.
    other = synthesize({"backend": "juicefs", "juicefsVersion": "1.3.3"}, tmp_path)
    assert set(jfs.resources("AWS::EC2::Instance")) != set(other.resources("AWS::EC2::Instance"))


@pytest.mark.parametrize("role", ["ComputeInstanceRole", "ManagementServerRole"])
def test_a_client_from_s3_is_readable_by_nodes_and_server_and_pinned(jfs_existing: Synth, role: str) -> None:
    statements = [st for st in jfs_existing.statements(role) if st["Action"] == "s3:GetObject" and "Sid" not in st]
    assert [st["Resource"] for st in statements] == [
        {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::example-artifacts/juicefs/juicefs-1.3.1-linux-*.tar.gz"]]}
    ], "the tarball of either architecture, and no checksums.txt: the checksum is pinned"
    lt = jfs_existing.node_launch_template()[1]
    mount = jfs_existing.node_script("juicefs-mount")
    assert "export JUICEFS_SOURCE='s3://example-artifacts/juicefs/juicefs-{version}-linux-{arch}.tar.gz'\n" in mount
    assert f"export JUICEFS_SHA256=amd64={'c' * 64}\n" in mount


def test_a_client_from_s3_without_a_pinned_checksum_may_read_the_checksums_beside_it() -> None:
    """Without juicefs_sha256 the boot scripts check the tarball against checksums.txt in the same folder; with a
    source in S3 (subnets without internet) that object needs the same read grant, or every node fails its boot."""
    import aws_cdk as cdk
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_iam as iam

    from mmbatch_cdk import CheckpointStorageJuiceFs

    stack = cdk.Stack(cdk.App(), "Check")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0, restrict_default_security_group=False)
    storage = CheckpointStorageJuiceFs(stack, "Storage", vpc=vpc,
                                       juicefs_source="s3://artifacts/juicefs/juicefs-{version}-linux-{arch}.tar.gz")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"))
    storage.grant_node(role)
    statements = stack.resolve(role.node.find_child("DefaultPolicy").document)["Statement"]
    (client,) = [st for st in statements if st["Action"] == "s3:GetObject"]
    resources = client["Resource"] if isinstance(client["Resource"], list) else [client["Resource"]]
    assert [r["Fn::Join"][1][-1] for r in resources] == [
        ":s3:::artifacts/juicefs/juicefs-1.3.1-linux-*.tar.gz", ":s3:::artifacts/juicefs/checksums.txt"]


def test_the_bucket_url_takes_the_partitions_domain(jfs: Synth) -> None:
    # F11: no amazonaws.com baked into what formats the volumes (aws-cn, GovCloud).
    fmt = jfs.server_script("juicefs-format")
    assert "export AWS_URL_SUFFIX=" in fmt and 'https://$bucket.s3.$AWS_REGION.$AWS_URL_SUFFIX' in fmt
    assert "export AWS_URL_SUFFIX='AWS::URLSuffix-ref'\n" in fmt and "amazonaws.com" not in fmt
