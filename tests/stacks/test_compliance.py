"""compliance=hipaa: one rotating KMS key behind every store and log, backups, versioning, access logs, a year of
logs, detailed monitoring, all-traffic flow logs, and the secure defaults still in place.

The two compliance configurations (tests/conftest.py) cover both backends, one and three queues, a new and an
existing VPC; their synth runs all three cdk-nag packs (tests/stacks/test_nag.py checks the findings).
"""

from __future__ import annotations

from typing import Any

import pytest

from ..conftest import COMPLIANCE_CONFIGS, CONFIGS
from ..templates import Synth

KEY = "ComplianceKey7E87934C"


def key_arn() -> dict[str, Any]:
    return {"Fn::GetAtt": [KEY, "Arn"]}


@pytest.fixture(params=COMPLIANCE_CONFIGS)
def profile(request: pytest.FixtureRequest, synth) -> Synth:
    return synth(request.param)


def test_one_customer_managed_key_rotated_and_retained(profile: Synth) -> None:
    # The alarm topic's own key (Monitoring) is not the profile's.
    assert [k for k in profile.resources("AWS::KMS::Key") if k.startswith("Compliance")] == [KEY]
    key = profile.template["Resources"][KEY]
    assert key["Properties"]["EnableKeyRotation"] is True
    assert (key["DeletionPolicy"], key["UpdateReplacePolicy"]) == ("RetainExceptOnCreate", "Retain")


def test_the_key_admits_cloudwatch_logs_of_this_account_only(profile: Synth) -> None:
    statements = profile.template["Resources"][KEY]["Properties"]["KeyPolicy"]["Statement"]
    [logs] = [s for s in statements if s.get("Sid") == "CloudWatchLogsOfThisAccount"]
    assert logs["Principal"] == {"Service": {"Fn::Join": ["", ["logs.", {"Ref": "AWS::Region"}, ".", {"Ref": "AWS::URLSuffix"}]]}}
    assert logs["Condition"] == {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": {"Fn::Join": ["", [
        "arn:", {"Ref": "AWS::Partition"}, ":logs:", {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"}, ":log-group:*"]]}}}


def test_cloudwatch_logs_may_both_encrypt_and_decrypt_with_the_key(profile: Synth) -> None:
    # The five actions of the key policy in "Encrypt log data in CloudWatch Logs using AWS KMS": without Decrypt*
    # the groups still take events, but no one can read them back (console, GetLogEvents, Insights, verify).
    statements = profile.template["Resources"][KEY]["Properties"]["KeyPolicy"]["Statement"]
    [logs] = [s for s in statements if s.get("Sid") == "CloudWatchLogsOfThisAccount"]
    assert sorted(logs["Action"]) == sorted(["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"])


def test_every_log_group_is_encrypted_with_the_key_and_kept_a_year(profile: Synth) -> None:
    groups = profile.resources("AWS::Logs::LogGroup")
    assert len(groups) >= 1
    for group in groups.values():
        assert group["Properties"]["KmsKeyId"] == key_arn()
        assert group["Properties"]["RetentionInDays"] == 365


def test_the_efs_file_system_is_in_a_daily_backup_plan_with_an_encrypted_vault(synth) -> None:
    s = synth("efs-compliance")
    [(fs_id, fs)] = s.resources("AWS::EFS::FileSystem").items()
    assert fs["Properties"]["KmsKeyId"] == key_arn()
    vault = s.one("AWS::Backup::BackupVault")
    assert vault["Properties"]["EncryptionKeyArn"] == key_arn()
    assert vault["DeletionPolicy"] == "RetainExceptOnCreate"
    # The kept vault must not block creating the same stack again: its name ends with part of the stack's UUID.
    stack_uuid = {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}
    assert vault["Properties"]["BackupVaultName"] == {
        "Fn::Join": ["-", ["mmbatch-efs", {"Fn::Select": [4, {"Fn::Split": ["-", stack_uuid]}]}]]}
    [rule] = s.one("AWS::Backup::BackupPlan")["Properties"]["BackupPlan"]["BackupPlanRule"]
    assert (rule["ScheduleExpression"], rule["Lifecycle"]) == ("cron(0 5 * * ? *)", {"DeleteAfterDays": 35})
    [resource] = s.one("AWS::Backup::BackupSelection")["Properties"]["BackupSelection"]["Resources"]
    assert {"Ref": fs_id} in resource["Fn::Join"][1]


def test_juicefs_buckets_use_the_key_keep_versions_a_while_and_log_access(synth) -> None:
    s = synth("juicefs-compliance")
    buckets = s.resources("AWS::S3::Bucket")
    [logs_id] = [k for k in buckets if k.startswith("ComplianceAccessLogs")]
    data = {k: v["Properties"] for k, v in buckets.items() if k.startswith("CheckpointStorage")}
    assert len(data) == 2
    for bucket_id, bucket in data.items():
        [rule] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule == {"BucketKeyEnabled": True,
                        "ServerSideEncryptionByDefault": {"KMSMasterKeyID": key_arn(), "SSEAlgorithm": "aws:kms"}}
        assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
        assert {"Id": "ExpireNoncurrent", "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                "ExpiredObjectDeleteMarker": True, "Status": "Enabled"} in bucket["LifecycleConfiguration"]["Rules"]
        assert bucket["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": logs_id}
    prefixes = sorted(b["LoggingConfiguration"]["LogFilePrefix"] for b in data.values())
    assert prefixes == ["checkpoint/", "scratch/"]


def test_with_access_logs_the_aws_solutions_s1_acknowledgement_goes(synth) -> None:
    storage = synth("juicefs-compliance").stack.storage
    for bucket in (storage.checkpoint_bucket, storage.scratch_bucket):
        acknowledged = [rule for e in bucket.node.metadata if e.type == "aws:cdk:acknowledged-rules" for rule in e.data]
        assert acknowledged and "AwsSolutions::AwsSolutions-S1" not in acknowledged


def test_the_access_log_bucket_is_private_encrypted_tls_only_and_retained(synth) -> None:
    s = synth("juicefs-compliance")
    [(logs_id, bucket)] = [(k, v) for k, v in s.resources("AWS::S3::Bucket").items() if k.startswith("ComplianceAccessLogs")]
    props = bucket["Properties"]
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
    assert all(props["PublicAccessBlockConfiguration"].values()) and len(props["PublicAccessBlockConfiguration"]) == 4
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["DeletionPolicy"] == "RetainExceptOnCreate"
    [policy] = [p for p in s.resources("AWS::S3::BucketPolicy").values() if p["Properties"]["Bucket"] == {"Ref": logs_id}]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert {"Action": "s3:*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}, "Effect": "Deny",
            "Principal": {"AWS": "*"}} == {k: v for k, v in statements[0].items() if k != "Resource"}
    writers = [st for st in statements if st.get("Principal") == {"Service": "logging.s3.amazonaws.com"}]
    # The two JuiceFS buckets and the workspace's work bucket log here.
    assert len(writers) == 3 and all(st["Action"] == "s3:PutObject" for st in writers)
    sources = sorted(st["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::GetAtt"][0] for st in writers)
    assert [s.rstrip("0123456789ABCDEF") for s in sources] == ["CheckpointStorageCheckpointBucket", "CheckpointStorageScratchBucket",
                                                              "WorkspaceBucket"], sources


def test_the_access_log_bucket_drops_old_log_versions_after_the_profiles_days(synth) -> None:
    # Versioned and retained, and written by S3 every few minutes: without the rule, every overwritten or deleted log
    # object's versions would be billed for ever.
    s = synth("juicefs-compliance")
    [bucket] = [v for k, v in s.resources("AWS::S3::Bucket").items() if k.startswith("ComplianceAccessLogs")]
    assert bucket["Properties"]["LifecycleConfiguration"]["Rules"] == [
        {"Id": "ExpireNoncurrent", "NoncurrentVersionExpiration": {"NoncurrentDays": 30}, "Status": "Enabled"}]


def test_the_access_log_bucket_has_acls_off(synth) -> None:
    # S3 log delivery is allowed by the bucket policy (logging.s3.amazonaws.com), which needs no ACL; with ACLs off
    # (bucket owner enforced) no object ACL can hand a log to another account.
    s = synth("juicefs-compliance")
    [bucket] = [v for k, v in s.resources("AWS::S3::Bucket").items() if k.startswith("ComplianceAccessLogs")]
    assert bucket["Properties"]["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}


def test_memorydb_secret_and_snapshots_use_the_key(synth) -> None:
    s = synth("juicefs-compliance")
    clusters = s.resources("AWS::MemoryDB::Cluster")
    assert len(clusters) == 2
    for cluster in clusters.values():
        assert cluster["Properties"]["KmsKeyId"] == key_arn()
        assert cluster["Properties"]["SnapshotRetentionLimit"] == 35
        assert cluster["Properties"]["TLSEnabled"] is True
    assert s.one("AWS::SecretsManager::Secret")["Properties"]["KmsKeyId"] == key_arn()


def test_nodes_and_server_may_use_the_key_through_s3_only(synth) -> None:
    s = synth("juicefs-compliance")
    for role in ("ComputeInstanceRole", "ManagementServerRole"):
        [policy] = [p for k, p in s.resources("AWS::IAM::Policy").items() if k.startswith(f"{role}DefaultPolicy")]
        [statement] = [st for st in policy["Properties"]["PolicyDocument"]["Statement"]
                       if st["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]]
        assert statement["Resource"] == key_arn()
        assert statement["Condition"] == {"StringEquals": {"kms:ViaService": {"Fn::Join": ["", [
            "s3.", {"Ref": "AWS::Region"}, ".", {"Ref": "AWS::URLSuffix"}]]}}}
        [secret] = [st for st in policy["Properties"]["PolicyDocument"]["Statement"] if st["Action"] == "kms:Decrypt"]
        assert secret["Condition"] == {"StringEquals": {"kms:ViaService": {"Fn::Join": ["", [
            "secretsmanager.", {"Ref": "AWS::Region"}, ".", {"Ref": "AWS::URLSuffix"}]]}}}
    # No role in the key policy: the key would wait for every role, and the deploy take longer.
    key_policy = str(s.template["Resources"][KEY]["Properties"]["KeyPolicy"])
    assert "Role" not in key_policy


def test_detailed_monitoring_on_the_management_server(profile: Synth) -> None:
    assert profile.one("AWS::EC2::Instance")["Properties"]["Monitoring"] is True


def test_a_new_vpc_logs_all_traffic_and_its_public_subnets_assign_no_public_ip(synth) -> None:
    s = synth("efs-compliance")
    assert s.one("AWS::EC2::FlowLog")["Properties"]["TrafficType"] == "ALL"
    public = [v for v in s.resources("AWS::EC2::Subnet").values()
              if {"Key": "aws-cdk:subnet-type", "Value": "Public"} in v["Properties"]["Tags"]]
    assert len(public) == 2
    assert all(subnet["Properties"]["MapPublicIpOnLaunch"] is False for subnet in public)


def test_outputs_name_the_key_and_what_it_protects(synth) -> None:
    efs_outputs, juicefs_outputs = (synth(n).template["Outputs"] for n in ("efs-compliance", "juicefs-compliance"))
    # Both log the work bucket's requests (the workspace), so both name the access-log bucket.
    assert {"ComplianceKeyArn", "BackupVaultName", "AccessLogsBucketName"} <= set(efs_outputs)
    assert {"ComplianceKeyArn", "AccessLogsBucketName"} <= set(juicefs_outputs) and "BackupVaultName" not in juicefs_outputs


def test_the_secure_defaults_are_kept(profile: Synth) -> None:
    for template in profile.resources("AWS::EC2::LaunchTemplate").values():
        data = template["Properties"]["LaunchTemplateData"]
        assert data["MetadataOptions"]["HttpTokens"] == "required"
        assert all(d["Ebs"]["Encrypted"] is True for d in data.get("BlockDeviceMappings", []))
    for group in profile.resources("AWS::EC2::SecurityGroup").values():
        for rule in group["Properties"].get("SecurityGroupIngress", []):
            assert rule.get("CidrIp") != "0.0.0.0/0" and rule.get("CidrIpv6") != "::/0"
    for resource in profile.resources("AWS::EC2::SecurityGroupIngress").values():
        assert resource["Properties"].get("CidrIp") != "0.0.0.0/0"
    stateful = ("AWS::EFS::FileSystem", "AWS::S3::Bucket", "AWS::MemoryDB::Cluster", "AWS::SecretsManager::Secret",
                "AWS::Logs::LogGroup")
    for logical_id, resource in profile.template["Resources"].items():
        if resource["Type"] in stateful or logical_id == KEY:
            assert resource.get("DeletionPolicy") == "RetainExceptOnCreate", logical_id


def test_without_the_profile_the_templates_have_none_of_it(synth) -> None:
    for name in (n for n in CONFIGS if n not in COMPLIANCE_CONFIGS):
        s = synth(name)
        assert KEY not in s.template["Resources"] and not s.resources("AWS::Backup::BackupPlan"), name
        days = s.stack.config.log_retention_days  # 30 unless the configuration sets it
        assert all("KmsKeyId" not in g["Properties"] and g["Properties"]["RetentionInDays"] == days
                   for g in s.resources("AWS::Logs::LogGroup").values()), name
        assert "Monitoring" not in s.one("AWS::EC2::Instance")["Properties"], name

