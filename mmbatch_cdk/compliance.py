"""ComplianceProfile: what ``compliance=hipaa`` adds (one rotating KMS key, AWS Backup, an access-log bucket) and
the props it sets on the other constructs."""

from __future__ import annotations

from typing import Any, Optional

import aws_cdk as cdk
from aws_cdk import aws_backup as backup
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .nag import compliance_acknowledgments

__all__ = ["COMPLIANCE_PROFILES", "ComplianceProfile"]

COMPLIANCE_PROFILES: tuple[str, ...] = ("none", "hipaa")
"""Accepted values of the ``compliance`` setting."""


class ComplianceProfile(Construct):
    """The resources of the HIPAA / NIST 800-53 profile, and the props it gives each construct (:meth:`props`).

    One customer-managed KMS key with yearly rotation encrypts the checkpoint storage (EFS, or the JuiceFS
    buckets, MemoryDB clusters and password secret), every log group and the backup vault. AWS Backup copies
    the EFS file system daily into that vault (kept ``backup_retention``); the JuiceFS buckets log requests
    to :attr:`access_logs`. Key, vault and access-log bucket are kept when the stack is deleted, like the
    storage they protect.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        backup_retention: Optional[cdk.Duration] = None,
        snapshot_retention_days: int = 35,
        noncurrent_version_days: int = 30,
    ) -> None:
        """
        :param backup_retention: how long AWS Backup keeps each daily EFS backup. Default: 35 days.
        :param snapshot_retention_days: MemoryDB snapshots kept (AWS Backup does not support MemoryDB). Default: 35.
        :param noncurrent_version_days: days S3 keeps an overwritten or deleted object version of the JuiceFS
            buckets and of the access logs. Default: 30.
        """
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        self.snapshot_retention_days = snapshot_retention_days
        """MemoryDB snapshots kept."""
        self.noncurrent_version_days = noncurrent_version_days
        """Days an overwritten or deleted S3 object version is kept."""
        self.key = kms.Key(self, "Key", enable_key_rotation=True, removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
                           description=f"{stack.stack_name}: checkpoint storage, logs, secret and backups (mmbatch-cdk)")
        """The customer-managed key (rotated yearly by KMS)."""
        # CloudWatch Logs uses the key as its regional service principal, only for this account's log groups
        # (CloudWatch Logs User Guide, "Encrypt log data in CloudWatch Logs using AWS KMS", key policy step).
        self.key.add_to_resource_policy(iam.PolicyStatement(
            sid="CloudWatchLogsOfThisAccount",
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.{stack.url_suffix}")],
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            resources=["*"],
            conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                service="logs", resource="log-group", resource_name="*", arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)}},
        ))
        self._backup_retention = backup_retention or cdk.Duration.days(35)
        self._backup_plan: Optional[backup.BackupPlan] = None
        self._access_logs: Optional[s3.Bucket] = None

    @property
    def backup_plan(self) -> backup.BackupPlan:
        """Daily AWS Backup into a vault encrypted with :attr:`key`, created on first use; storage adds its selection."""
        if self._backup_plan is None:
            retain = cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
            # A vault's name is unique per account and region, and a retained vault keeps it: the last group of the
            # stack's UUID (AWS::StackId, ".../<name>/<uuid>") in the name lets the stack be created again after
            # `cdk destroy` kept the old vault. 37 + 1 + 12 characters fit the 50 a vault name allows.
            stack = cdk.Stack.of(self)
            uuid = cdk.Fn.select(2, cdk.Fn.split("/", stack.stack_id))
            stack_name = stack.stack_name
            # "${Token[" marks CDK's string-encoded tokens; checking for it first saves a jsii call.
            name = "mmbatch" if "${Token[" in stack_name and cdk.Token.is_unresolved(stack_name) else stack_name
            vault = backup.BackupVault(self, "BackupVault", encryption_key=self.key, removal_policy=retain,
                                       backup_vault_name=cdk.Fn.join("-", [name[:37], cdk.Fn.select(4, cdk.Fn.split("-", uuid))]))
            self._backup_plan = backup.BackupPlan(self, "BackupPlan", backup_vault=vault,
                                                  backup_plan_name=stack_name, backup_plan_rules=[
                # AWS Backup's daily rule (BackupPlanRule.daily: 05:00 UTC) with this profile's retention.
                backup.BackupPlanRule(rule_name="Daily", schedule_expression=events.Schedule.cron(minute="0", hour="5"),
                                      delete_after=self._backup_retention),
            ])
        return self._backup_plan

    @property
    def access_logs(self) -> s3.Bucket:
        """The bucket S3 server access logs go to (SSE-S3, TLS only, no public access, versioned), created on first use."""
        if self._access_logs is None:
            self._access_logs = s3.Bucket(
                self,
                "AccessLogs",
                # S3 delivers server access logs only to a bucket whose default encryption is SSE-S3.
                encryption=s3.BucketEncryption.S3_MANAGED,
                block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
                object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
                enforce_ssl=True,
                versioned=True,
                removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
                lifecycle_rules=[s3.LifecycleRule(
                    id="ExpireNoncurrent", noncurrent_version_expiration=cdk.Duration.days(self.noncurrent_version_days))],
            )
            cdk.Validations.of(self._access_logs).acknowledge(*compliance_acknowledgments(
                "S3DefaultEncryptionKMS",
                "S3 server access log delivery supports only SSE-S3 default encryption on the destination bucket; the "
                "logs hold request metadata (keys, callers), not checkpoint data, which the KMS key encrypts.",
            ), *compliance_acknowledgments(
                "S3BucketReplicationEnabled",
                "Access logs of this deployment's buckets, versioned and retained in this region; a replica in another "
                "region is an account-level choice (S3 replication of the log bucket), not this stack's.",
            ))
        return self._access_logs

    @property
    def outputs(self) -> dict[str, tuple[str, str]]:
        """Stack outputs: the key, the backup vault and the access-log bucket."""
        found = {"ComplianceKeyArn": (self.key.key_arn, "KMS key of checkpoint storage, logs, secret and backups")}
        if self._backup_plan is not None:
            found["BackupVaultName"] = (self._backup_plan.backup_vault.backup_vault_name, "AWS Backup vault of the EFS backups")
        if self._access_logs is not None:
            found["AccessLogsBucketName"] = (self._access_logs.bucket_name, "S3 server access logs of the JuiceFS and work buckets")
        return found

    def props(self, target: str) -> dict[str, Any]:
        """The keyword arguments this profile sets on ``target`` (``network``, ``efs``, ``juicefs``, ``server``,
        ``deployment``, ``logs``, ``workspace``, ``cleanup``); merged with the settings' own (:meth:`MmBatchConfig.props`). Log retention is
        the ``logRetentionDays`` setting's, a year by default with the profile."""
        if target == "network":
            return {"log_encryption_key": self.key, "flow_log_traffic": ec2.FlowLogTrafficType.ALL, "map_public_ip_on_launch": False}
        if target == "efs":
            return {"encryption_key": self.key, "backup_plan": self.backup_plan}
        if target == "juicefs":
            return {"encryption_key": self.key, "access_logs_bucket": self.access_logs,
                    "noncurrent_version_days": self.noncurrent_version_days,
                    "snapshot_retention_days": self.snapshot_retention_days}
        if target == "server":
            return {"detailed_monitoring": True}
        if target == "workspace":
            return {"encryption_key": self.key, "access_logs_bucket": self.access_logs}
        if target == "deployment":
            return {"log_encryption_key": self.key}
        if target == "logs":
            return {"encryption_key": self.key}
        if target == "cleanup":
            return {"log_encryption_key": self.key}
        return {}
