"""The settings table: every setting declared once (key, parser, default, help, seed parameter, where it applies,
the construct props it sets). Adding a setting is a row here plus the construct that reads it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

import aws_cdk as cdk
from aws_cdk import aws_efs as efs

from .. import rules
from ..aws_cli import (
    AWS_CLI_KEY_WARNING,
    AWS_CLI_PATH,
    AWS_CLI_PINNED_SHA256,
    AWS_CLI_PINNED_SOURCE,
    AWS_CLI_VERSION,
    FETCH_AND_RUN_PATH,
)
from ..compliance import COMPLIANCE_PROFILES
from ..compute import CHECKPOINT_TIME_WARNING, DEFAULT_INSTANCE_TYPES
from ..cost import BUDGET_USD_RANGE, OWN_TAG_KEYS
from ..head_queue import CROMWELL_HEAD_IMAGE, HEAD_QUEUE_MAX_VCPUS_RANGE, NEXTFLOW_HEAD_IMAGE
from ..log_shipping import UBUNTU_AGENT_URL, retention_days
from ..management_server import MMAB_SOURCE_WARNING
from ..monitoring import EFS_BURST_CREDIT_GIB_RANGE, MIN_COUNT_THRESHOLD, PERCENT_RANGE, TIME_LIMIT_RANGE_S
from ..multi_queue import DEFAULT_QUEUES, QueueSpec
from ..network import DEFAULT_AZS
from ..node_settings import (
    AGENT_WAIT_SECONDS_RANGE,
    BOOT_CHECK_SECONDS_RANGE,
    FATAL_SHUTDOWN_MINUTES_RANGE,
    INFRASTRUCTURE_UPDATE_MINUTES_RANGE,
)
from ..storage.efs import PROVISIONED_MIBPS_RANGE
from ..storage.juicefs import (
    BLOCK_SIZES_MIB,
    BUFFER_SIZE_MIB_RANGE,
    CACHE_SIZE_GIB_RANGE,
    JUICEFS_RELEASE_URL,
    MAX_UPLOADS_RANGE,
)
from ..workspace import WORK_EXPIRY_DAYS_RANGE
from .parsers import (
    _AZ_RE,
    _INSTANCE_TYPES,
    _INT32_MAX,
    _KEY_NAME_RE,
    _KMS_KEY_ARN_RE,
    _PREFIX_RE,
    _SG_RE,
    _SHA256_RE,
    _SIZED_TYPE_RE,
    _SUBNET_RE,
    _VERSION_RE,
    _VPC_RE,
    _agent_source,
    _boolean,
    _bucket_name,
    _checksums,
    _choice,
    _choice_int,
    _cidr,
    _client_source,
    _duration,
    _email,
    _image,
    _input_location,
    _install_source,
    _integer,
    _Invalid,
    _items,
    _list_of,
    _memorydb_node_type,
    _minutes_or_never,
    _number,
    _once_each,
    _or_none,
    _package_source,
    _pattern,
    _spot_attempts,
    _tag_map,
    _text,
)


@dataclass(frozen=True)
class Setting:
    """One context key, declared once.

    :param key: the context key. :param attr: the attribute of :class:`MmBatchConfig` that reads it.
    :param parse: turns a raw value into a valid one or raises with what is accepted.
    :param default: the value when the key is not given. :param doc: help text (the site's settings reference, docs/reference/settings.md).
    :param seed: the seed template's parameter. :param backend: the backend it applies to; None: both.
    :param queue: ``0`` for the single queue's keys (no ``multiQueue``), ``1``-``3`` for ``jq1``-``jq3``'s;
        None: not a queue key. :param props: construct props it sets, as ``target.prop``; targets are
        ``network``, ``efs``, ``juicefs``, ``server``, ``nodes`` (:class:`NodeSettings`), ``queue``
        (:class:`QueueSpec`), ``awscli`` (:class:`AwsCliInstall`), ``quickstart``, ``logs`` (:class:`LogShipping`),
        ``monitoring``, ``budget``, ``limits`` (RUNNABLE time limits), ``cost`` (cost tags), ``workspace``
        (:class:`Workspace`), ``head`` (:class:`HeadJobQueue`) and ``cleanup`` (:class:`VolumeCleanup`). :param to_prop: converts the value for those props; None: passed as is.
    """

    key: str
    attr: str
    parse: Callable[[Any], Any]
    default: Any
    doc: str
    seed: Optional[str] = None
    backend: Optional[str] = None
    queue: Optional[int] = None
    props: tuple[str, ...] = ()
    to_prop: Optional[Callable[[Any], Any]] = None


_DEFAULT_NEW_VPC_AZS = DEFAULT_AZS
"""How many zones a new VPC spans when availabilityZones is not given."""
_MAX_NEW_VPC_AZS = 3
"""The most zones a new VPC spans: 10.64.0.0/16 holds a /20 public and a /18 private subnet in each of three."""

_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)
"""The retention periods CloudWatch Logs accepts, in days."""

_THROUGHPUT = {"elastic": efs.ThroughputMode.ELASTIC, "bursting": efs.ThroughputMode.BURSTING,
               "provisioned": efs.ThroughputMode.PROVISIONED}
_REMOVAL = {"retain": cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE, "destroy": cdk.RemovalPolicy.DESTROY}


def _one_or_per_arch(value: dict[str, str]) -> Any:
    return value["*"] if "*" in value else value


_GLOBAL: tuple[Setting, ...] = (
    Setting("backend", "backend", _choice("efs", "juicefs"), "efs",
            "Checkpoint storage: `efs` or `juicefs` (S3 + MemoryDB)."),
    Setting("prefix", "prefix", _pattern(_PREFIX_RE, "1-20 lowercase letters, digits and single hyphens, starting with a letter"),
            "mmbatch", "Names and tags resources; lowercase letters, digits, hyphens (max 20).", "UniquePrefix",
            props=("juicefs.name_prefix",)),
    Setting("vpcId", "vpc_id", _pattern(_VPC_RE, "a VPC id such as vpc-0123456789abcdef0"), None,
            "Deploy into this existing VPC (needs `subnetIds`). Unset: a new VPC is created.", "VpcId / VPCID",
            props=("network.vpc_id",)),
    Setting("subnetIds", "subnet_ids", _list_of(_pattern(_SUBNET_RE, "subnet ids"), "subnet ids such as subnet-0123456789abcdef0"),
            (), "Subnets for compute nodes and storage (comma list). JuiceFS: at least 2, in different AZs.",
            "SubnetId (EFS) / SubnetIds (JuiceFS)", props=("network.subnet_ids",)),
    Setting("managementSubnetId", "management_subnet_id", _pattern(_SUBNET_RE, "a subnet id such as subnet-0123456789abcdef0"),
            None, "Subnet of the management server. Default: the first of `subnetIds`.", "SubnetId (JuiceFS)",
            props=("network.management_subnet_id",)),
    Setting("availabilityZones", "availability_zones",
            _list_of(_pattern(_AZ_RE, "zone names"), "availability zone names of this stack's region such as us-east-1a"),
            (), "A new VPC's availability zones (comma list of names, 1-3; juicefs: at least 2, for MemoryDB's replica). "
            "Default: the region's first two. Names, not zone ids; a zone of another region fails at deploy.",
            props=("network.availability_zones",)),
    Setting("computeAzCount", "compute_az_count", _integer(1, _MAX_NEW_VPC_AZS), None,
            "Keep a new VPC's compute nodes in its first this many availability zones (storage keeps them all). "
            "MMBatch restores a job with per-job EBS volumes only in its volume's zone. Default: every zone.",
            props=("network.compute_az_count",)),
    Setting("computeSubnetIds", "compute_subnet_ids",
            _list_of(_pattern(_SUBNET_RE, "subnet ids"), "subnet ids among subnetIds"), (),
            "With `vpcId`: the subnets of compute nodes, among `subnetIds` (where storage keeps its mount targets). "
            "Default: all of `subnetIds`.", props=("network.compute_subnet_ids",)),
    Setting("securityGroupId", "security_group_id", _pattern(_SG_RE, "a security group id such as sg-0123456789abcdef0"),
            None, "An existing security group added to the management server and compute nodes (never modified).",
            "SecurityGroupId", props=("network.security_group_id",)),
    Setting("keyName", "key_name", _pattern(_KEY_NAME_RE, "an EC2 key pair name (1-255 printable ASCII characters)"),
            None, "EC2 key pair for SSH. Port 22 opens only when `adminCidr` is also set; Session Manager works without it.",
            "KeyName", props=("server.key_name",)),
    Setting("mmabVersion", "mmab_version", _pattern(_VERSION_RE, "a release name such as 1.4.0-release"),
            "1.4.0-release", "MMAB release installed on the management server.", "MMABVersion", props=("server.mmab_version",)),
    Setting("mmabSource", "mmab_source", _install_source, None,
            "Where the MMAB installer comes from: `https://...` or `s3://bucket/key`, `{version}` is replaced "
            "by `mmabVersion`. A `.deb` is installed with apt, anything else is run with bash. "
            "Unset: the server boots without MMAB and says so (synth warns).", props=("server.mmab_source",)),
    Setting("mmabSha256", "mmab_sha256", _pattern(_SHA256_RE, "64 lowercase hex digits"), None,
            "SHA-256 of the installer; the download is rejected if it differs.", props=("server.mmab_sha256",)),
    Setting("managementInstanceType", "management_instance_type",
            _pattern(_SIZED_TYPE_RE, "an instance type with its size, such as m6i.large"),
            "m6i.large", "Instance type of the management server (x86_64 or arm64; the Ubuntu image follows).",
            props=("server.instance_type",)),
    Setting("managementRootVolumeGib", "management_root_volume_gib", _integer(8, rules.GP3_MAX_GIB), 30,
            "Root volume (gp3, encrypted) of the management server, which keeps MMAB's state and logs.",
            props=("server.root_volume_gib",)),
    Setting("ebsScoping", "ebs_scoping", _choice("tag", "account"), "tag",
            "What the server may do with EBS volumes for per-job disks: `tag`: create only volumes tagged with this "
            "deployment and attach, detach or delete only those, on its own nodes; `account`: any, for an MMAB release "
            "that does not tag volumes when it creates them.", props=("server.ebs_scope",)),
    Setting("ebsKmsKeyArn", "ebs_kms_key_arn", _pattern(_KMS_KEY_ARN_RE, "a KMS key ARN such as "
            "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"), None,
            "The customer managed key of this account's EBS encryption by default, which MMAB's per-job volumes use: "
            "the server may use it through EC2 only. Unset: the AWS managed `aws/ebs` key needs no grant.",
            props=("server.ebs_kms_key_arn",)),
    Setting("ebsSnapshots", "ebs_snapshots", _boolean, False,
            "Let MMAB snapshot its per-job volumes and restore from those snapshots (tagged like the volumes with "
            "`ebsScoping=tag`). MemVerge does not document snapshot use; turn on if your MMAB release needs it.",
            props=("server.ebs_snapshots",)),
    Setting("ssmRegisterTagged", "ssm_register_tagged", _boolean, False,
            "Let the server and nodes register with Session Manager (`ssm:UpdateInstanceInformation`) only while they "
            "carry this deployment's `mmbatch-stack` tag. Off by default: no AWS page says that action honours the "
            "instance's tags; if it does not, Session Manager stops working, which `mmbatch-cdk verify`'s server step "
            "shows at once (docs/real-deploy-claims.md).", props=("server.ssm_register_tagged",)),
    Setting("ebsCleanupOnDelete", "ebs_cleanup_on_delete", _boolean, False,
            "On stack deletion, after the compute environments and the server are gone, delete the `available` EBS "
            "volumes tagged with this deployment (MMAB's per-job volumes, `ebsScoping=tag`); a volume still attached "
            "fails the deletion, naming it. Default: such volumes are kept (docs/operations.md lists them)."),
    Setting("redisNodeType", "redis_node_type", _memorydb_node_type, "db.t4g.small",
            "MemoryDB node type for the JuiceFS metadata clusters.", "RedisNodeType", backend="juicefs",
            props=("juicefs.redis_node_type",)),
    Setting("juicefsVersion", "juicefs_version", _pattern(re.compile(r"^1\.[0-9]+\.[0-9]+$"), "a JuiceFS 1.x release such as 1.3.1"),
            "1.3.1", "JuiceFS client release installed on nodes and the server.", backend="juicefs",
            props=("juicefs.juicefs_version",)),
    Setting("juicefsSource", "juicefs_source", _client_source, JUICEFS_RELEASE_URL,
            "Where nodes and the server get the JuiceFS client: `https://...` or, for subnets without internet, "
            "`s3://bucket/key` (read access is granted); `{version}` and `{arch}` (amd64, arm64) are filled in.",
            backend="juicefs", props=("juicefs.juicefs_source",)),
    Setting("juicefsSha256", "juicefs_sha256", _checksums, None,
            "SHA-256 of the JuiceFS tarball: one value when the server and every queue share a CPU architecture, "
            "else one per architecture (`amd64:<sha256>,arm64:<sha256>`). Unset: checked against the release's checksums.txt.",
            backend="juicefs", props=("juicefs.juicefs_sha256",), to_prop=_one_or_per_arch),
    Setting("juicefsCacheGib", "juicefs_cache_gib", _integer(*CACHE_SIZE_GIB_RANGE), 50,
            "Local JuiceFS cache per volume on each node, in GiB (added to the root volume).", backend="juicefs",
            props=("juicefs.cache_size_gib",)),
    Setting("juicefsMaxUploads", "juicefs_max_uploads", _integer(*MAX_UPLOADS_RANGE), 40,
            "JuiceFS `--max-uploads`: parallel S3 uploads per mount. 40 (JuiceFS: 20) lets a 25 Gbps node write at full speed.",
            backend="juicefs", props=("juicefs.max_uploads",)),
    Setting("juicefsBlockSizeMib", "juicefs_block_size_mib", _choice_int(*BLOCK_SIZES_MIB), 4,
            "JuiceFS block size in MiB, fixed when a volume is formatted (later changes do not apply to it).",
            backend="juicefs", props=("juicefs.block_size_mib",)),
    Setting("juicefsBufferSizeMib", "juicefs_buffer_size_mib", _integer(*BUFFER_SIZE_MIB_RANGE), 300,
            "JuiceFS `--buffer-size` per mount, in MiB: memory holding data not yet uploaded.", backend="juicefs",
            props=("juicefs.buffer_size_mib",)),
    Setting("efsThroughputMode", "efs_throughput_mode", _choice("elastic", "bursting", "provisioned"), "elastic",
            "EFS throughput mode: `elastic` scales with checkpoint bursts and bills per use.", backend="efs",
            props=("efs.throughput_mode",), to_prop=_THROUGHPUT.__getitem__),
    Setting("efsProvisionedMibps", "efs_provisioned_mibps", _integer(*PROVISIONED_MIBPS_RANGE), None,
            "With `efsThroughputMode=provisioned`: the file system's throughput in MiB/s (required then; EFS takes "
            "1-3414, less in some regions).", backend="efs", props=("efs.provisioned_throughput_mibps",)),
    Setting("multiQueue", "multi_queue", _boolean, False, "Three job queues (compute, general, memory) instead of one.",
            "EnableMultiQueue"),
    Setting("privateOnly", "private_only", _boolean, False,
            "No public IPs. A new VPC then gets private subnets and one NAT gateway.", props=("network.private_only",)),
    Setting("compliance", "compliance", _choice(*COMPLIANCE_PROFILES), "none",
            "`hipaa`: what cdk-nag's HIPAA Security and NIST 800-53 R5 packs ask for, and synth runs both: one "
            "customer-managed KMS key with rotation (EFS or JuiceFS buckets, MemoryDB and secret, every log group, "
            "backups), daily AWS Backup of EFS, MemoryDB snapshots 35 days, S3 versioning and access logs, logs kept a "
            "year, detailed monitoring, flow logs of all traffic. A new VPC needs `privateOnly=true` (docs/deploy.md "
            "'The compliance profile'). Choose it at the first deploy: switching it later changes the storage's key, which "
            "replaces EFS (a new, empty file system) and fails on the named MemoryDB clusters."),
    Setting("spot", "spot", _boolean, True, "Spot capacity (price-capacity-optimized) for every queue; `false` for On-Demand.",
            props=("nodes.spot",)),
    Setting("adminCidr", "admin_cidr", _cidr, None,
            "Address range allowed to reach the dashboard (8080) and, with `keyName`, SSH. Unset: no such ingress.",
            props=("server.admin_cidr",)),
    Setting("removalPolicy", "removal_policy", _choice("retain", "destroy"), "retain",
            "What happens to checkpoint storage when the stack is deleted: `retain` keeps it (and, for JuiceFS, what "
            "its clusters use) on update and deletion but not when the first create fails; `destroy` deletes it, "
            "buckets emptied first. Log groups are always kept, except after a failed first create.",
            props=("efs.removal_policy", "juicefs.removal_policy", "workspace.removal_policy"), to_prop=_REMOVAL.__getitem__),
    Setting("ckptInterval", "ckpt_interval", _duration(180, 24 * 3600), "15m",
            "Checkpoint interval set on the management server (longer than the 2-minute Spot notice).",
            props=("server.ckpt_interval",)),
    Setting("ecsStopTimeout", "ecs_stop_timeout", _duration(30, 3600), "110s",
            "ECS_CONTAINER_STOP_TIMEOUT: the grace a job's container gets when ECS stops it (a terminated job, an agent "
            "stop). ECS Spot draining does not stop Batch jobs, so this is not a window after a Spot notice.",
            props=("nodes.ecs_stop_timeout",)),
    Setting("ecsStartTimeout", "ecs_start_timeout", _duration(180, 4 * 3600), "16m",
            "ECS_CONTAINER_START_TIMEOUT: a restore runs at container start.", props=("nodes.ecs_start_timeout",)),
    Setting("ecsCreateTimeout", "ecs_create_timeout", _duration(180, 4 * 3600), "15m",
            "ECS_CONTAINER_CREATE_TIMEOUT: a restore may pull a large image first.", props=("nodes.ecs_create_timeout",)),
    Setting("agentWaitSeconds", "agent_wait_seconds", _integer(*AGENT_WAIT_SECONDS_RANGE), 900,
            "How long a node waits for the management server to serve the MMBatch agent before it logs one FATAL line "
            "and shuts down (AWS Batch replaces it).", props=("nodes.agent_wait_seconds",)),
    Setting("fatalShutdownMinutes", "fatal_shutdown_minutes", _minutes_or_never(*FATAL_SHUTDOWN_MINUTES_RANGE), 1,
            "Minutes from a node's fatal boot error (no storage, no agent) to its shutdown; `never` keeps it, with "
            "ECS gated off so it takes no job, for debugging.", props=("nodes.fatal_shutdown_minutes",)),
    Setting("bootCheckSeconds", "boot_check_seconds", _integer(*BOOT_CHECK_SECONDS_RANGE), 600,
            "On every boot (the first too), how long a node waits for its checkpoint storage to be mounted before it "
            "logs one FATAL line and shuts down (AWS Batch replaces it), instead of sitting idle with ECS gated off.",
            props=("nodes.boot_check_seconds",)),
    Setting("infrastructureUpdateMinutes", "infrastructure_update_minutes", _integer(*INFRASTRUCTURE_UPDATE_MINUTES_RANGE), 30,
            "When a deploy updates the compute environments (new user data; each also takes the latest ECS-optimized "
            "AMI), how long running jobs may go on on the old nodes before AWS Batch replaces them.",
            props=("nodes.infrastructure_update_minutes",)),
    Setting("spotAttempts", "spot_attempts", _spot_attempts, 5,
            "Attempts per job in the smoke test and the engine configurations: a Spot reclaim is retried (the retry is "
            "what MMBatch restores into) until this many attempts.", props=("quickstart.spot_attempts",)),
    Setting("drill", "drill", _boolean, False,
            "Add an AWS FIS experiment template per queue that sends a real Spot interruption notice to one running "
            "node (docs/verify.md); nothing runs until you start it.", props=("quickstart.drill",)),
    Setting("workspace", "workspace", _boolean, True,
            "A work bucket (or `workBucket`) and a task job role that reads and writes it and reads `inputBuckets`; the "
            "engine configurations and the smoke test name the role. `false`: neither (jobs then have no AWS credentials).",
            props=()),
    Setting("workBucket", "work_bucket", _bucket_name, None,
            "Your existing S3 bucket as the work bucket (Nextflow's work directory, Cromwell's executions) instead of one "
            "the stack creates; with `workspace=false` only its name is written into the engine configurations.",
            props=("workspace.bucket_name",)),
    Setting("inputBuckets", "input_buckets", _list_of(_input_location, "bucket names or bucket/prefix locations"), (),
            "Buckets or prefixes (comma list of `bucket` or `bucket/prefix`) that tasks and head jobs may read.",
            props=("workspace.input_locations",)),
    Setting("workExpiryDays", "work_expiry_days", _integer(*WORK_EXPIRY_DAYS_RANGE), 30,
            "Days after which S3 deletes intermediate work (`nextflow-work/`, `cromwell-execution/`) in the created work bucket.",
            props=("workspace.work_expiry_days",)),
    Setting("headQueue", "head_queue", _boolean, True,
            "An AWS Fargate On-Demand queue for engines' head jobs (never reclaimed), its role and Nextflow and Cromwell "
            "head job definitions; needs `workspace`. Costs nothing idle.", props=()),
    Setting("headQueueMaxvCpus", "head_queue_max_vcpus", _integer(*HEAD_QUEUE_MAX_VCPUS_RANGE), 16,
            "vCPUs of all head jobs together on the head queue.", props=("head.max_vcpus",)),
    Setting("nextflowHeadImage", "nextflow_head_image", _image("public.ecr.aws/seqera-labs/nextflow:25.10.2"), NEXTFLOW_HEAD_IMAGE,
            "Image of the Nextflow head job (Nextflow's own, from Amazon ECR Public). An image in private ECR is pulled "
            "with the job definition's execution role.", props=("head.nextflow_image",)),
    Setting("cromwellHeadImage", "cromwell_head_image", _image("broadinstitute/cromwell:92"), CROMWELL_HEAD_IMAGE,
            "Image of the Cromwell head job (Cromwell's own, from Docker Hub; 92 or later, with its entry point). An "
            "image in private ECR, such as a pull through cache of Docker Hub's, is pulled with the job definition's "
            "execution role (docs/engines.md, \"Docker Hub's pull limits\").",
            props=("head.cromwell_image",)),
    Setting("miniwdlEfsFileSystemId", "miniwdl_efs_file_system_id", _pattern(re.compile(r"^fs-[0-9a-f]{8,17}$"), "fs-0123456789abcdef0"),
            None, "Your EFS file system for miniwdl-aws's working files, named in its configuration.",
            props=("quickstart.efs_file_system_id",)),
    Setting("miniwdlEfsAccessPointId", "miniwdl_efs_access_point_id", _pattern(re.compile(r"^fsap-[0-9a-f]{8,17}$"), "fsap-0123456789abcdef0"),
            None, "An access point of that file system for miniwdl-aws.", props=("quickstart.efs_access_point_id",)),
    Setting("awsCli", "aws_cli", _boolean, True,
            f"Nodes install AWS CLI v2 at `{AWS_CLI_PATH}` (Nextflow's `cliPath`; Cromwell mounts its directory) and "
            f"Cromwell's `{FETCH_AND_RUN_PATH}`, verified or refused (docs/queues-and-jobs.md 'AWS CLI on the nodes'); `false` for "
            "neither.", props=()),
    Setting("awsCliSource", "aws_cli_source", _package_source("the AWS CLI v2 zip", "{arch} (x86_64, aarch64)"),
            AWS_CLI_PINNED_SOURCE, f"Where nodes get the AWS CLI v2 zip: `https://...` or `s3://bucket/key` (then its "
            f"`.sig` beside it for a signature check). Default: AWS's zip of release {AWS_CLI_VERSION}, pinned with its "
            "checksums; another release needs its own checksums or awsCliPgpKeySource.", props=("awscli.source",)),
    Setting("awsCliSha256X86", "aws_cli_sha256_x86_64", _pattern(_SHA256_RE, "64 lowercase hex digits"),
            AWS_CLI_PINNED_SHA256["x86_64"], "SHA-256 of the x86_64 zip, checked as well as any signature.",
            props=("awscli.sha256_x86_64",)),
    Setting("awsCliSha256Arm64", "aws_cli_sha256_aarch64", _pattern(_SHA256_RE, "64 lowercase hex digits"),
            AWS_CLI_PINNED_SHA256["aarch64"], "SHA-256 of the aarch64 zip.", props=("awscli.sha256_aarch64",)),
    Setting("awsCliPgpKeySource", "aws_cli_pgp_key_source", _or_none(_package_source("the AWS CLI Team public key", "")),
            None, "Where nodes fetch the AWS CLI Team public key to also check AWS's signature of the zip (by the key "
            "with AWS's published fingerprint), for example a copy in your bucket. Unset or `none`: checksums only.",
            props=("awscli.pgp_key_source",)),
    Setting("tags", "tags", _tag_map, {},
            "Cost-allocation tags on every resource, and on the instances and volumes AWS Batch launches: a JSON object in "
            "cdk.json, or `team=genomics,project=rnaseq` on the command line. `mmbatch:prefix` is always added; the app's "
            f"own keys ({', '.join(f'`{k}`' for k in OWN_TAG_KEYS)}) and keys that differ only in case are refused.",
            props=("cost.tags",)),
    Setting("alarmEmail", "alarm_email", _email, None,
            "Email address subscribed to the alarm topic (confirm the subscription mail) and told by the budget.",
            props=("monitoring.alarm_email", "budget.email")),
    Setting("monthlyBudgetUsd", "monthly_budget_usd", _number(*BUDGET_USD_RANGE), None,
            "A monthly AWS Budget in USD over this deployment's cost (by its mmbatch:prefix tag, once activated in "
            "Billing): mails alarmEmail at 80% actual and 100% forecast. Needs alarmEmail.", props=("budget.amount_usd",)),
    Setting("logRetentionDays", "log_retention_days", _choice_int(*_RETENTION_DAYS), 30,
            "Days the node, server, job and flow log groups keep events (a CloudWatch Logs period). The groups outlive the "
            "stack. With `compliance=hipaa`: 365 unless given, and at least 365.",
            props=("logs.retention", "nodes.job_log_retention", "network.log_retention", "cleanup.log_retention"),
            to_prop=retention_days),
    Setting("runnableTimeoutMinutes", "runnable_timeout_minutes", _integer(TIME_LIMIT_RANGE_S[0] // 60, TIME_LIMIT_RANGE_S[1] // 60), 240,
            "Jobs waiting in RUNNABLE for capacity are cancelled after this long, with the reason recorded.",
            props=("limits.capacity_max_time",), to_prop=cdk.Duration.minutes),
    Setting("misconfiguredTimeoutMinutes", "misconfigured_timeout_minutes", _integer(TIME_LIMIT_RANGE_S[0] // 60, TIME_LIMIT_RANGE_S[1] // 60), 10,
            "Jobs no compute environment of the queue can ever run are cancelled after this long, with the reason.",
            props=("limits.misconfiguration_max_time",), to_prop=cdk.Duration.minutes),
    Setting("alarmFailedJobs", "alarm_failed_jobs", _integer(MIN_COUNT_THRESHOLD), 1, "Failed jobs in 5 minutes that raise the alarm.",
            props=("monitoring.failed_jobs_threshold",)),
    Setting("alarmRunnableCancellations", "alarm_runnable_cancellations", _integer(MIN_COUNT_THRESHOLD), 1,
            "Jobs cancelled in RUNNABLE in 5 minutes that raise the alarm.", props=("monitoring.runnable_cancellations_threshold",)),
    Setting("alarmSpotInterruptionsPerHour", "alarm_spot_interruptions_per_hour", _integer(MIN_COUNT_THRESHOLD), 20,
            "Spot interruption warnings in an hour (the whole region: EventBridge cannot filter by tag) that raise the alarm.",
            props=("monitoring.spot_interruptions_per_hour",)),
    Setting("alarmBootFailures", "alarm_boot_failures", _integer(MIN_COUNT_THRESHOLD), 1,
            "Nodes whose boot failed (their one FATAL line) in 5 minutes that raise the alarm.",
            props=("monitoring.boot_failures_threshold",)),
    Setting("alarmEfsPercentIoLimit", "alarm_efs_percent_io_limit", _number(*PERCENT_RANGE, above=True), 90,
            "EFS PercentIOLimit (15-minute average; General Purpose with bursting or provisioned throughput) that raises the alarm.",
            backend="efs", props=("monitoring.efs_percent_io_limit",)),
    Setting("alarmEfsBurstCreditGib", "alarm_efs_burst_credit_gib", _number(*EFS_BURST_CREDIT_GIB_RANGE, above=True), 360,
            "EFS burst credits (GiB; bursting throughput only) below which the alarm is raised.",
            backend="efs", props=("monitoring.efs_burst_credit_balance_gib",)),
    Setting("alarmMemoryDbCpuPercent", "alarm_memorydb_cpu_percent", _number(*PERCENT_RANGE, above=True), 80,
            "The busiest MemoryDB node's CPUUtilization (15 minutes) that raises the alarm.", backend="juicefs",
            props=("monitoring.memorydb_cpu_percent",)),
    Setting("alarmMemoryDbEngineCpuPercent", "alarm_memorydb_engine_cpu_percent", _number(*PERCENT_RANGE, above=True), 90,
            "The busiest MemoryDB node's EngineCPUUtilization (15 minutes) that raises the alarm.", backend="juicefs",
            props=("monitoring.memorydb_engine_cpu_percent",)),
    Setting("alarmMemoryDbMemoryPercent", "alarm_memorydb_memory_percent", _number(*PERCENT_RANGE, above=True), 80,
            "The busiest MemoryDB node's DatabaseMemoryUsagePercentage that raises the alarm.", backend="juicefs",
            props=("monitoring.memorydb_memory_percent",)),
    Setting("cloudWatchAgentNodeSource", "cloudwatch_agent_node_source", _agent_source, "dnf",
            "Where nodes get the CloudWatch agent: `dnf` (Amazon Linux's repository, reached through S3), an `https://` "
            "or `s3://bucket/key` package.", props=("logs.node_agent_source",)),
    Setting("cloudWatchAgentNodeSha256", "cloudwatch_agent_node_sha256", _pattern(_SHA256_RE, "64 lowercase hex digits"), None,
            "SHA-256 the nodes' downloaded agent package must have.", props=("logs.node_agent_sha256",)),
    Setting("cloudWatchAgentServerSource", "cloudwatch_agent_server_source", _agent_source, UBUNTU_AGENT_URL,
            "Where the server gets the CloudWatch agent (`https://` or `s3://bucket/key` of the Ubuntu .deb, `{arch}`).",
            props=("logs.server_agent_source",)),
    Setting("cloudWatchAgentServerSha256", "cloudwatch_agent_server_sha256", _pattern(_SHA256_RE, "64 lowercase hex digits"), None,
            "SHA-256 the server's agent package must have.", props=("logs.server_agent_sha256",)),
    Setting("rootVolumeGib", "root_volume_gib", _integer(30, rules.GP3_MAX_GIB), 30,
            "Root volume (gp3, encrypted) of each compute node, before any storage cache.", props=("nodes.root_volume_gib",)),
)

_QUEUE_FIELDS = (
    # (single-queue key, per-queue suffix, QueueSpec field, parser, help, seed parameter)
    ("instanceTypes", "InstanceTypes", "instance_types", _INSTANCE_TYPES,
     "instance types (comma list), all of one CPU architecture; GPU types get the NVIDIA image", "InstanceTypes"),
    ("minvCpus", "MinvCpus", "min_vcpus", _integer(0, _INT32_MAX), "minimum vCPUs kept running", "MinvCpus"),
    ("maxvCpus", "MaxvCpus", "max_vcpus", _integer(1, _INT32_MAX), "maximum vCPUs", "MaxvCpus"),
)
_QUEUE_ROLES = ("compute-optimized, highest priority", "general purpose", "memory-optimized, lowest priority")
_SINGLE_QUEUE = QueueSpec("", 1, DEFAULT_INSTANCE_TYPES)


def _queue_settings() -> tuple[Setting, ...]:
    single = tuple(
        Setting(key, prop, parse, getattr(_SINGLE_QUEUE, prop), f"Compute {text}.", seed, queue=0, props=(f"queue.{prop}",))
        for key, _, prop, parse, text, seed in _QUEUE_FIELDS
    )
    each = tuple(
        Setting(f"jq{n}{suffix}", f"jq{n}_{prop}", parse, getattr(spec, prop),
                f"With `multiQueue`: {spec.name.upper()} ({role}) {text}.", queue=n, props=(f"queue.{prop}",))
        for n, (spec, role) in enumerate(zip(DEFAULT_QUEUES, _QUEUE_ROLES), start=1)
        for _, suffix, prop, parse, text, _seed in _QUEUE_FIELDS
    )
    return single + each


_ACKNOWLEDGEABLE = {
    "unusedSetting": "a setting has no effect with the chosen backend or queue mode",
    "sshClosed": "keyName without adminCidr",
    "juicefsBuffer": "a JuiceFS buffer smaller than the uploads in flight",
    "privateOnlyExistingVpc": "privateOnly with an existing VPC",
    "adminCidrWide": "a private adminCidr wider than /16",
    AWS_CLI_KEY_WARNING.partition(":")[2]: "an s3:// awsCliSource with the AWS CLI key still from the keyserver",
    CHECKPOINT_TIME_WARNING.partition(":")[2]: "instance types that may not finish a checkpoint within the Spot notice",
    MMAB_SOURCE_WARNING.partition(":")[2]: "no MMAB install source",
}


def _acknowledgements(value: Any) -> tuple[str, ...]:
    found = []
    for entry in _items(value, "warning ids"):
        text = re.sub(r"^(Annotation::)?(mmbatch:)?", "", _text(entry))
        if text not in _ACKNOWLEDGEABLE:
            raise _Invalid(f"{entry!r} is not a warning mmbatch-cdk raises; expected any of: {', '.join(_ACKNOWLEDGEABLE)}")
        found.append(text)
    return _once_each(found)


_QUEUES = _queue_settings()
SETTINGS: tuple[Setting, ...] = _GLOBAL[:7] + _QUEUES[:3] + _GLOBAL[7:] + _QUEUES[3:] + (
    Setting("acknowledge", "acknowledge", _acknowledgements, (),
            "Warnings you have read and accept (comma list of ids such as `checkpointTime`); each warning names its id."),
)
"""Every setting, in the order of the settings reference."""

_PROFILE_MIN_LOG_DAYS = 365
_PROFILE_DEFAULTS: Mapping[str, Mapping[str, Any]] = {"hipaa": {"logRetentionDays": _PROFILE_MIN_LOG_DAYS}}
"""Defaults a compliance profile changes: settings not given take these values instead."""

_BY_KEY = {s.key: s for s in SETTINGS}
_BY_LOWER_KEY = {s.key.lower(): s.key for s in SETTINGS}


def _foreign(key: str) -> bool:
    """CDK's own context keys start with ``@`` (feature flags) or contain ``:`` (``aws:cdk:...``)."""
    return key.startswith("@") or ":" in key
