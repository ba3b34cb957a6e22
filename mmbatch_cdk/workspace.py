"""Workspace: the S3 work bucket of workflow engines, the input buckets they read, and the job role tasks run with.

Nodes require IMDSv2 with a hop limit of 1, so a job container cannot take the node's role: a task that calls
AWS (Nextflow's ``aws s3 cp``, Cromwell's ``fetch_and_run``) needs a job role. :attr:`Workspace.task_role` is
that role: it reads and writes the work bucket and reads the input buckets (or prefixes) the user names, and
nothing else. Task logs need no permission in it: on EC2 the ECS agent writes ``awslogs`` streams with the node
role, and with an execution role (as :class:`CheckpointedJobDefinition` registers) with that role (Amazon ECS
Developer Guide, "Using the awslogs log driver", required IAM permissions).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .nag import acknowledge_compliance, compliance_acknowledgments

__all__ = ["InputLocation", "NEXTFLOW_WORK_PREFIX", "CROMWELL_EXECUTION_PREFIX", "WORK_EXPIRY_DAYS_RANGE", "Workspace",
           "bucket_name_problem", "parse_input_location"]

WORK_EXPIRY_DAYS_RANGE = (1, 3650)
"""Bounds of ``workExpiryDays`` / ``Workspace(work_expiry_days=)``: S3 lifecycle expiration takes any positive number of
days; ten years is a ceiling of ours, past which "intermediate work" is no longer what the rule is for."""

NEXTFLOW_WORK_PREFIX = "nextflow-work"
"""Prefix of Nextflow's ``workDir`` in the work bucket."""
CROMWELL_EXECUTION_PREFIX = "cromwell-execution"
"""Prefix of Cromwell's backend ``root`` in the work bucket."""

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP_RE = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
_PREFIX_RE = re.compile(r"^[A-Za-z0-9!_.'()/-]+$")


def bucket_name_problem(name: str) -> Optional[str]:
    """What is wrong with ``name`` as a general purpose bucket name, or None.

    The rules of the S3 User Guide, "General purpose bucket naming rules": 3-63 lowercase letters, digits, dots
    and hyphens, starting and ending with a letter or digit, no two adjacent dots, not an IP address, not
    starting with ``xn--``, ``sthree-`` or ``amzn-s3-demo-``, not ending with ``-s3alias``, ``--ol-s3`` or ``--x-s3``.
    """
    if not _BUCKET_RE.match(name) or ".." in name or _IP_RE.match(name) \
            or name.startswith(("xn--", "sthree-", "amzn-s3-demo-")) or name.endswith(("-s3alias", "--ol-s3", "--x-s3")):
        return (f"{name!r} is not an S3 bucket name; expected 3-63 lowercase letters, digits, dots and hyphens, starting "
                "and ending with a letter or digit (S3 general purpose bucket naming rules)")
    return None


@dataclass(frozen=True)
class InputLocation:
    """A bucket, or a prefix in it, that tasks may read."""

    bucket: str
    """The bucket name."""
    prefix: str = ""
    """The key prefix without a leading or trailing slash; empty: the whole bucket."""

    def __str__(self) -> str:
        return f"{self.bucket}/{self.prefix}" if self.prefix else self.bucket


def parse_input_location(text: str) -> InputLocation:
    """``bucket``, ``bucket/prefix`` or ``s3://bucket/prefix``; raises ValueError saying what is accepted."""
    raw = text.strip()
    body = raw[5:] if raw.startswith("s3://") else raw
    bucket, _, prefix = body.partition("/")
    problem = bucket_name_problem(bucket)
    if problem:
        raise ValueError(problem)
    prefix = prefix.strip("/")
    if prefix and (not _PREFIX_RE.match(prefix) or "//" in prefix):
        raise ValueError(f"{raw!r}: the prefix {prefix!r} is not accepted; expected letters, digits and ! _ . ' ( ) / - "
                         "(no wildcards, spaces or empty path parts)")
    return InputLocation(bucket, prefix)


class Workspace(Construct):
    """A work bucket (created, or the user's), read-only input locations and the task job role that uses them.

    The created bucket is encrypted (SSE-S3, or SSE-KMS with ``encryption_key``), TLS-only, blocks public
    access and expires the engines' intermediate work (:data:`NEXTFLOW_WORK_PREFIX`,
    :data:`CROMWELL_EXECUTION_PREFIX`) after ``work_expiry_days``. It wires nothing to siblings: give other
    principals access with :meth:`grant_read_write` where you compose it.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bucket_name: Optional[str] = None,
        input_locations: Sequence[str] = (),
        work_expiry_days: int = 30,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        encryption_key: Optional[kms.IKey] = None,
        access_logs_bucket: Optional[s3.IBucket] = None,
    ) -> None:
        """
        :param bucket_name: use this existing bucket instead of creating one (its encryption, lifecycle and
            retention are then yours). Default: none, a bucket is created.
        :param input_locations: buckets or prefixes tasks may read (``bucket``, ``bucket/prefix``). Default: none.
        :param work_expiry_days: days after which S3 expires intermediate work in a created bucket. Default: 30.
        :param removal_policy: what stack deletion does to a created bucket (DESTROY empties it first).
            Default: RETAIN_ON_UPDATE_OR_DELETE.
        :param encryption_key: customer-managed key of a created bucket (SSE-KMS, bucket key on). Default: none (SSE-S3).
        :param access_logs_bucket: where a created bucket's server access logs go. Default: none.
        """
        problems = []
        # "${Token[" marks CDK's string-encoded tokens; checking for it first saves a jsii call.
        if bucket_name is not None and not ("${Token[" in bucket_name and cdk.Token.is_unresolved(bucket_name)):
            problems.append(bucket_name_problem(bucket_name))
        locations: list[InputLocation] = []
        for text in input_locations:
            try:
                locations.append(parse_input_location(text))
            except ValueError as err:
                problems.append(str(err))
        low, high = WORK_EXPIRY_DAYS_RANGE
        if isinstance(work_expiry_days, bool) or not isinstance(work_expiry_days, int) or not low <= work_expiry_days <= high:
            problems.append(f"work_expiry_days {work_expiry_days!r} is not accepted; expected whole days from {low} to {high}")
        found = [p for p in problems if p]
        if found:
            raise ValueError(f"Workspace {id}: " + "; ".join(found))
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        self.input_locations = tuple(locations)
        """The locations tasks may read."""
        self.encryption_key = encryption_key if bucket_name is None else None
        """The created bucket's customer-managed key, if any."""
        if bucket_name is None:
            self.bucket: s3.IBucket = self._create_bucket(work_expiry_days, removal_policy, encryption_key, access_logs_bucket)
        else:
            self.bucket = s3.Bucket.from_bucket_name(self, "Bucket", bucket_name)
        """The work bucket."""
        self.created = bucket_name is None
        """True when the stack created the work bucket."""

        # The ECS task role trust policy with the confused-deputy conditions the Amazon ECS Developer Guide
        # shows ("Amazon ECS task IAM role", creating the role: aws:SourceArn arn:aws:ecs:<region>:<account>:*
        # and aws:SourceAccount); AWS Batch runs every job as an ECS task in this account.
        self.task_role = iam.Role(
            self,
            "TaskRole",
            assumed_by=ecs_tasks_principal(stack),
            description="Workflow tasks on MMBatch queues: the work bucket (read/write) and the input locations (read)",
        )
        """The job role of workflow tasks (Nextflow ``aws.batch.jobRole``, Cromwell ``aws_batch_job_role_arn``)."""
        self.grant_read_write(self.task_role)
        self.grant_read_inputs(self.task_role)
        acknowledge_compliance(
            self.task_role, "IAMNoInlinePolicy",
            "aws-cdk-lib's per-role default policy: attached to this task role only, created and deleted with it, "
            "holding the work bucket and input grants, each scoped to its bucket.",
        )

    @property
    def bucket_name(self) -> str:
        """The work bucket's name."""
        return self.bucket.bucket_name

    def grant_read_write(self, grantee: iam.IGrantable) -> None:
        """Let ``grantee`` list the work bucket and read, write and delete its objects (and use its key)."""
        iam.Grant.add_to_principal(
            grantee=grantee, actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
            resource_arns=[self.bucket.arn_for_objects("*")])
        iam.Grant.add_to_principal(grantee=grantee, actions=["s3:ListBucket", "s3:GetBucketLocation"],
                                   resource_arns=[self.bucket.bucket_arn])
        stack = cdk.Stack.of(self)
        bucket = self.bucket.node.default_child
        objects = (f"<{stack.get_logical_id(bucket)}.Arn>/*" if isinstance(bucket, cdk.CfnResource)
                   else f"arn:<AWS::Partition>:s3:::{self.bucket.bucket_name}/*")
        _acknowledge_objects(grantee, (objects, "The engines write work files under keys they generate; access is "
                                       "limited to objects of the work bucket."))
        if self.encryption_key is not None:
            # SSE-KMS: reading needs kms:Decrypt, writing kms:GenerateDataKey (S3 User Guide, "Using server-side
            # encryption with AWS KMS keys"); only through S3.
            iam.Grant.add_to_principal(
                grantee=grantee, actions=["kms:Decrypt", "kms:GenerateDataKey"], resource_arns=[self.encryption_key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"s3.{stack.region}.{stack.url_suffix}"}})

    def grant_read_inputs(self, grantee: iam.IGrantable) -> None:
        """Let ``grantee`` list and read the input locations, each bucket only under its prefix."""
        if not self.input_locations:
            return
        stack = cdk.Stack.of(self)
        objects = []
        for location in self.input_locations:
            bucket_arn = stack.format_arn(service="s3", region="", account="", resource=location.bucket)
            keys = f"{location.prefix}/*" if location.prefix else "*"
            iam.Grant.add_to_principal(grantee=grantee, actions=["s3:GetObject"], resource_arns=[f"{bucket_arn}/{keys}"])
            objects.append((f"arn:<AWS::Partition>:s3:::{location.bucket}/{keys}",
                            f"Read-only: the objects of the input location {location} (inputBuckets)."))
            # s3:prefix limits ListBucket to the prefix (S3 User Guide, "Condition key examples").
            conditions = {"StringLike": {"s3:prefix": [location.prefix, f"{location.prefix}/*"]}} if location.prefix else None
            iam.Grant.add_to_principal(grantee=grantee, actions=["s3:ListBucket", "s3:GetBucketLocation"] if not location.prefix
                                       else ["s3:ListBucket"], resource_arns=[bucket_arn], conditions=conditions)
        _acknowledge_objects(grantee, *objects)

    @property
    def outputs(self) -> dict[str, tuple[str, str]]:
        """Stack outputs: the work bucket and the task role."""
        return {
            "WorkBucketName": (self.bucket_name, "S3 work bucket of the engines (Nextflow workDir, Cromwell root)"),
            "TaskRoleArn": (self.task_role.role_arn, "Job role of workflow tasks (work bucket read/write, inputs read)"),
        }

    def _create_bucket(self, expiry_days: int, removal_policy: cdk.RemovalPolicy, key: Optional[kms.IKey],
                       access_logs: Optional[s3.IBucket]) -> s3.Bucket:
        rules = [s3.LifecycleRule(id="AbortIncompleteUploads", abort_incomplete_multipart_upload_after=cdk.Duration.days(1))]
        rules += [s3.LifecycleRule(id=f"Expire-{prefix}", prefix=f"{prefix}/", expiration=cdk.Duration.days(expiry_days))
                  for prefix in (NEXTFLOW_WORK_PREFIX, CROMWELL_EXECUTION_PREFIX)]
        bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.KMS if key else s3.BucketEncryption.S3_MANAGED,
            encryption_key=key,
            bucket_key_enabled=True if key else None,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="work/" if access_logs else None,
            removal_policy=removal_policy,
            # CloudFormation cannot delete a bucket that holds objects; with DESTROY, empty it first.
            auto_delete_objects=removal_policy == cdk.RemovalPolicy.DESTROY,
            lifecycle_rules=rules,
        )
        acknowledgments = compliance_acknowledgments(
            "S3BucketReplicationEnabled",
            "Intermediate workflow files that expire after workExpiryDays; a replica would copy scratch data.",
        ) + compliance_acknowledgments(
            "S3BucketVersioningEnabled",
            "Engines overwrite and delete intermediate files as they run; old versions would keep deleted data beyond "
            "workExpiryDays. Final outputs belong in a bucket of the user's with its own policy.",
        )
        if access_logs is None:
            acknowledgments.append(cdk.Acknowledgment(
                id="AwsSolutions::AwsSolutions-S1",
                reason="Intermediate workflow files written by this stack's task and head roles only; compliance=hipaa "
                "adds server access logs (or enable CloudTrail data events).",
            ))
            acknowledgments += compliance_acknowledgments(
                "S3BucketLoggingEnabled",
                "Intermediate workflow files; compliance=hipaa adds server access logs (or CloudTrail data events).",
            )
        if key is None:
            acknowledgments += compliance_acknowledgments(
                "S3DefaultEncryptionKMS",
                "Encrypted at rest with SSE-S3 (AES-256) and TLS-only access; a customer-managed KMS key is what "
                "compliance=hipaa adds.",
            )
        cdk.Validations.of(bucket).acknowledge(*acknowledgments)
        return bucket


def _acknowledge_objects(grantee: iam.IGrantable, *objects: tuple[str, str]) -> None:
    """AwsSolutions-IAM5 for ``(bucket/* resource, reason)`` pairs, on the grantee role's default policy alone."""
    policy = grantee.node.try_find_child("DefaultPolicy") if isinstance(grantee, iam.Role) else None
    if policy is not None:
        cdk.Validations.of(policy).acknowledge(*(cdk.Acknowledgment(
            id=f"AwsSolutions::AwsSolutions-IAM5[Resource::{resource}]", reason=reason) for resource, reason in objects))


def ecs_tasks_principal(stack: cdk.Stack) -> iam.IPrincipal:
    """``ecs-tasks.amazonaws.com`` limited to ECS tasks of ``stack``'s account and region (aws:SourceAccount/SourceArn)."""
    return iam.ServicePrincipal("ecs-tasks.amazonaws.com", conditions={
        "StringEquals": {"aws:SourceAccount": stack.account},
        "ArnLike": {"aws:SourceArn": stack.format_arn(service="ecs", resource="*", arn_format=cdk.ArnFormat.NO_RESOURCE_NAME)},
    })
