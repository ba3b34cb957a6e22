"""CheckpointStorageJuiceFs: JuiceFS volumes on S3 with MemoryDB (Redis) metadata, for checkpoints and scratch."""

from __future__ import annotations

import functools
import math
import re
from typing import Any, Mapping, Optional, Union

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_memorydb as memorydb
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from ..nag import acknowledge_compliance
from ..package_source import package_source_problem, s3_object
from ..rules import raise_problems, whole_number_problem
from ..subnets import select_subnets
from ..user_data import render
from .base import CheckpointStorage, direct_grantee

__all__ = [
    "CheckpointStorageJuiceFs",
    "JUICEFS_RELEASE_URL",
    "JUICEFS_ACCESS_STRING",
    "JUICEFS_ACCESS_STRING_VERSION",
    "MEMORYDB_NODE_TYPES",
    "SCRATCH_MOUNT_POINT",
    "BLOCK_SIZES_MIB",
    "BUFFER_SIZE_MIB_RANGE",
    "CACHE_SIZE_GIB_RANGE",
    "MAX_UPLOADS_RANGE",
    "juicefs_node_disk_gib",
]

JUICEFS_RELEASE_URL = "https://github.com/juicedata/juicefs/releases/download/v{version}/juicefs-{version}-linux-{arch}.tar.gz"
"""JuiceFS's own release assets; ``{version}`` and ``{arch}`` (amd64/arm64) are filled in at boot."""

SCRATCH_MOUNT_POINT = "/mmc-scratch"
"""Where the scratch volume is mounted on every node."""

CACHE_SIZE_GIB_RANGE = (1, 7400)
"""Accepted ``cache_size_gib``: a node's root volume holds both volumes' caches and a tenth to spare
(:func:`juicefs_node_disk_gib`), so 7,400 GiB is the most that fits gp3's 16 TiB with the 30 GiB base."""
MAX_UPLOADS_RANGE = (1, 200)
"""Accepted ``max_uploads``: 200 at S3's ~85 MB/s per connection is ~16 GiB/s, past any node's network."""
BUFFER_SIZE_MIB_RANGE = (32, 16384)
"""Accepted ``buffer_size_mib``: 32 MiB to 16 GiB of a node's memory per mount."""
BLOCK_SIZES_MIB = (1, 2, 4, 8, 16)
"""Accepted ``block_size_mib``: the powers of two ``juicefs format --block-size`` takes, up to its 16 MiB."""

_LARGE_SIZES = ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")
MEMORYDB_NODE_TYPES: tuple[str, ...] = (
    "db.t4g.small",
    "db.t4g.medium",
    *(f"db.r7g.{size}" for size in _LARGE_SIZES),
    *(f"db.r6g.{size}" for size in _LARGE_SIZES),
)
"""MemoryDB node types without data tiering (MemoryDB developer guide, "Supported node types"; the db.r6gd
types need data tiering, which these clusters do not turn on)."""


def juicefs_node_disk_gib(cache_size_gib: int) -> int:
    """Disk a node needs for both volumes' caches plus the 10% JuiceFS keeps free on the cache disk."""
    return math.ceil(2 * cache_size_gib * 11 / 10)


JUICEFS_ACCESS_STRING_VERSION = "1.3.1"
"""The JuiceFS release whose Redis commands :data:`JUICEFS_ACCESS_STRING` was read from."""

_JUICEFS_COMMANDS = (
    # What JuiceFS 1.3.1's Redis metadata engine (juicedata/juicefs pkg/meta/redis.go, redis_lock.go, redis_bak.go)
    # and its client go-redis 9.7.3 send, by group; categories from the Redis 7.2 command table.
    "get mget set setnx mset incr incrby decr decrby",  # strings: inode attributes, counters, the setting
    "hget hmget hset hsetnx hmset hdel hexists hgetall hkeys hlen hincrby hscan",  # hashes: entries, xattrs, sessions
    "lpush rpush rpushx lrange llen ltrim",  # lists: slices of each file
    "sadd srem smembers",  # sets
    "zadd zrem zrange zrangebyscore zscore",  # sorted sets: sessions, files and slices to delete
    "del exists scan dbsize",  # keyspace: cleanup, gc, dump
    "watch multi exec unwatch discard",  # transactions: every metadata update is WATCH/MULTI/EXEC
    # Scripts are loaded at each session start but run (EVALSHA) only with an empty key prefix, never in cluster
    # mode (redis.go doLookup/Resolve): load only, no script may run.
    "script|load",
    # go-redis 9.7.3 opens every connection with HELLO 3 AUTH (allowed to any user) and, as the volume URL names
    # db 1, SELECT 1 (redis.go initConn). Without +select that answers NOPERM and every connection fails. With it a
    # cluster-mode server answers "ERR SELECT is not allowed in cluster mode", and that error text is what makes
    # JuiceFS switch to its cluster client and the {1} key prefix (juicefs pkg/meta/redis.go newRedisMeta).
    # cluster|info is only reached where SELECT succeeds (a server not in cluster mode), and tells cluster mode
    # there; cluster|slots and command: go-redis's cluster client; info, ping: JuiceFS's server checks. CONFIG is
    # forbidden on MemoryDB and only sent when INFO reports no eviction policy. Checked against a real server and
    # the real client: tests/real/test_juicefs_redis.py.
    "select",
    "cluster|info cluster|slots command info ping",
)

JUICEFS_ACCESS_STRING = "on ~* resetchannels -@all " + " ".join(f"+{c}" for group in _JUICEFS_COMMANDS for c in group.split())
"""The MemoryDB user's access string: exactly the commands JuiceFS :data:`JUICEFS_ACCESS_STRING_VERSION` uses, no
pub/sub channels (it uses none), nothing destructive beyond its own keys (no FLUSHDB, KEYS, CONFIG, EVAL)."""

_META_DB = 1  # JuiceFS turns the db number into a {1} hash-tag key prefix on a cluster-mode server.
_CACHE_DIR = "/var/jfsCache"
_S3_CONNECTION_MIBPS = 85e6 / 2**20
"""S3 performance guidelines: one concurrent request per 85-90 MB/s of network throughput wanted."""


class CheckpointStorageJuiceFs(CheckpointStorage):
    """Two JuiceFS volumes, ``checkpoint`` (at ``/mmc-checkpoint``) and ``scratch`` (at ``/mmc-scratch``).

    Each volume keeps its data in its own S3 bucket (SSE-S3, public access blocked, TLS-only policy,
    retained by default) and its metadata in its own MemoryDB cluster (TLS, one shard with a replica
    in a second availability zone, daily snapshots kept for ``snapshot_retention_days``). One MemoryDB
    user, in an ACL used by both clusters, authenticates with a password generated in Secrets Manager;
    the template holds only a dynamic reference to it and nodes read it at boot with a grant on that
    one secret. The clusters admit 6379 only from what is granted through :attr:`connections`.

    The volumes are formatted once by the management server (``juicefs format --no-update``, so a
    second run is a no-op); nodes wait for that, then mount both volumes as systemd services ordered
    before the ECS agent. Nodes and server find the clusters' endpoints by name at boot, so nothing
    in the stack waits for MemoryDB to be created.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        vpc_subnets: Optional[ec2.SubnetSelection] = None,
        redis_node_type: str = "db.t4g.small",
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        cache_size_gib: int = 50,
        juicefs_version: str = "1.3.1",
        juicefs_source: str = JUICEFS_RELEASE_URL,
        juicefs_sha256: Optional[Union[str, Mapping[str, str]]] = None,
        block_size_mib: int = 4,
        max_uploads: int = 40,
        buffer_size_mib: int = 300,
        snapshot_retention_days: int = 7,
        name_prefix: Optional[str] = None,
        encryption_key: Optional[kms.IKey] = None,
        access_logs_bucket: Optional[s3.IBucket] = None,
        noncurrent_version_days: Optional[int] = None,
    ) -> None:
        """
        :param vpc: the VPC of the MemoryDB clusters.
        :param vpc_subnets: subnets of the clusters, in at least two availability zones. Default: the VPC's
            private subnets, or its public subnets when it has none.
        :param redis_node_type: MemoryDB node type. Default: ``db.t4g.small``.
        :param removal_policy: what stack deletion does to buckets, clusters and secret, and so to what the
            clusters use (ACL, user, subnet group, security group, and subnets and VPC created in the same stack).
            DESTROY also empties the buckets. Default: RETAIN_ON_UPDATE_OR_DELETE (kept on update and deletion,
            removed when the stack's first create fails, so a retry with the same names succeeds).
        :param cache_size_gib: local cache per volume on each node (added to its root volume). Default: 50.
        :param juicefs_version: JuiceFS client release. Default: ``1.3.1``.
        :param juicefs_source: where the client tarball comes from: an ``https://`` URL or, for subnets without
            internet, an ``s3://bucket/key`` (nodes and server get read access to it); ``{version}`` and ``{arch}``
            (amd64/arm64) are filled in at boot. Without a checksum, ``checksums.txt`` beside it is used.
            Default: JuiceFS's GitHub releases.
        :param juicefs_sha256: SHA-256 of the tarball: one value for every machine, or one per architecture
            (``{"x86_64": ..., "arm64": ...}``) when the server and nodes differ. Default: checked against the
            release's ``checksums.txt``.
        :param block_size_mib: JuiceFS block size, fixed when a volume is formatted. Default: 4.
        :param max_uploads: parallel uploads to S3 per mount; at ~85 MB/s each, 40 fill a 25 Gbps node.
            Default: 40 (JuiceFS's own default is 20).
        :param buffer_size_mib: read/write buffer per mount. Default: 300.
        :param snapshot_retention_days: MemoryDB snapshots kept. Default: 7.
        :param name_prefix: prefix of the MemoryDB cluster, user and ACL names (unique per account and region).
            Default: derived from the construct path.
        :param encryption_key: customer-managed key of the buckets (SSE-KMS, bucket key on), the clusters and the
            secret; nodes and server get its use through S3 only. Default: none (SSE-S3, and AWS managed keys).
        :param access_logs_bucket: bucket receiving both buckets' server access logs (under ``checkpoint/`` and
            ``scratch/``). Default: none (no access logs).
        :param noncurrent_version_days: turns S3 versioning on and keeps an overwritten or deleted block's old
            version this many days. Default: none (no versioning: JuiceFS's deleted blocks go at once).
        """
        super().__init__(scope, id)
        problem = package_source_problem(juicefs_source)
        if problem:
            raise ValueError(f"{self.node.path}: juicefs_source: {problem}")
        for prop, value, bounds, unit in (("cache_size_gib", cache_size_gib, CACHE_SIZE_GIB_RANGE, "GiB"),
                                          ("max_uploads", max_uploads, MAX_UPLOADS_RANGE, "uploads"),
                                          ("buffer_size_mib", buffer_size_mib, BUFFER_SIZE_MIB_RANGE, "MiB")):
            raise_problems(self, prop, [whole_number_problem(value, bounds, unit)])
        if isinstance(block_size_mib, bool) or block_size_mib not in BLOCK_SIZES_MIB:
            raise_problems(self, "block_size_mib", [
                f"{block_size_mib!r} is not accepted; expected one of {', '.join(map(str, BLOCK_SIZES_MIB))} (MiB)"])
        self.juicefs_source = juicefs_source
        """Where nodes and server get the JuiceFS client (``{version}``, ``{arch}`` filled in at boot)."""
        self._client_checksums = juicefs_sha256
        prefix = _memorydb_name(name_prefix or cdk.Names.unique_resource_name(self, max_length=18, separator="-"))
        self.cache_size_gib = cache_size_gib
        """Local cache per volume, in GiB."""
        self._settings: dict[str, Union[str, int]] = {
            "JUICEFS_VERSION": juicefs_version,
            "JUICEFS_SOURCE": juicefs_source,
            **_checksum_settings(juicefs_sha256),
            "AWS_REGION": cdk.Aws.REGION,
            "META_DB": _META_DB,
        }
        self.block_size_mib = block_size_mib
        """JuiceFS block size, in MiB, the volumes are formatted with."""
        self.max_uploads = max_uploads
        """Parallel S3 uploads per mount."""
        self.buffer_size_mib = buffer_size_mib
        """Read/write buffer per mount, in MiB."""
        self.encryption_key = encryption_key
        """The customer-managed key of buckets, clusters and secret, or None."""
        self._protection = (access_logs_bucket, noncurrent_version_days)

        self.checkpoint_bucket = self._bucket("CheckpointBucket", removal_policy, scratch=False)
        """S3 bucket of the checkpoint volume."""
        self.scratch_bucket = self._bucket("ScratchBucket", removal_policy, scratch=True)
        """S3 bucket of the scratch volume."""

        self.secret = secretsmanager.Secret(
            self,
            "MetadataPassword",
            description="Password of the MemoryDB user that JuiceFS connects as",
            generate_secret_string=secretsmanager.SecretStringGenerator(exclude_punctuation=True, password_length=32),
            removal_policy=removal_policy,
            encryption_key=encryption_key,
        )
        """The MemoryDB user's password."""
        cdk.Validations.of(self.secret).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions::AwsSolutions-SMG4",
                reason="A MemoryDB user holds one password that nodes read only at boot; rotating it needs the user "
                "updated and every node remounted, so rotation is an operator step (docs/juicefs.md), not a Lambda.",
            )
        )

        self._security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, description="JuiceFS metadata (MemoryDB): 6379 from granted peers only",
            allow_all_outbound=False,
        )
        self._connections = ec2.Connections(security_groups=[self._security_group], default_port=ec2.Port.tcp(6379))
        subnets = select_subnets(vpc, vpc_subnets)  # one selection: reading it is 7 jsii round trips
        zones = set(subnets.availability_zones)
        # Zones known at synth (named, not tokens) must be two: each cluster keeps a replica in another zone.
        if len(zones) < 2 and not any(cdk.Token.is_unresolved(zone) for zone in zones):
            raise ValueError(f"CheckpointStorageJuiceFs: vpc_subnets span {len(zones)} availability zone(s); MemoryDB "
                             "keeps each cluster's replica in a second zone, so give subnets in at least two")
        subnet_group = memorydb.CfnSubnetGroup(
            self,
            "SubnetGroup",
            subnet_group_name=f"{prefix}-juicefs",
            subnet_ids=subnets.subnet_ids,
            description="JuiceFS metadata clusters",
        )
        self.user_name = f"{prefix}-juicefs"
        """The MemoryDB user JuiceFS connects as."""
        user = memorydb.CfnUser(
            self,
            "User",
            user_name=self.user_name,
            access_string=JUICEFS_ACCESS_STRING,
            authentication_mode={"Type": "password", "Passwords": [self.secret.secret_value.unsafe_unwrap()]},
        )
        # Refs (which return the names) order user -> ACL -> clusters without explicit dependencies.
        acl = memorydb.CfnACL(self, "Acl", acl_name=f"{prefix}-juicefs", user_names=[user.ref])

        self.clusters: dict[str, memorydb.CfnCluster] = {}
        """The MemoryDB cluster of each volume (``checkpoint``, ``scratch``), created in parallel."""
        for volume in ("checkpoint", "scratch"):
            cluster = memorydb.CfnCluster(
                self,
                f"{volume.capitalize()}Metadata",
                cluster_name=f"{prefix}-{volume}",
                description=f"JuiceFS metadata of the {volume} volume",
                node_type=redis_node_type,
                acl_name=acl.ref,
                num_shards=1,
                num_replicas_per_shard=1,
                tls_enabled=True,
                engine="redis",
                engine_version="7.1",
                subnet_group_name=subnet_group.ref,
                security_group_ids=[self._security_group.security_group_id],
                snapshot_retention_limit=snapshot_retention_days,
                auto_minor_version_upgrade=True,
                kms_key_id=encryption_key.key_arn if encryption_key else None,
            )
            cluster.apply_removal_policy(removal_policy)
            self.clusters[volume] = cluster
        self._acknowledge_default_profile()
        if removal_policy != cdk.RemovalPolicy.DESTROY:
            # MemoryDB refuses to delete an ACL, user or subnet group a cluster still uses, and a retained
            # cluster keeps its network interfaces in its subnets: keep all of it with the clusters.
            for resource in (user, acl, subnet_group, self._security_group.node.default_child):
                assert isinstance(resource, cdk.CfnResource)
                resource.apply_removal_policy(removal_policy)
            _retain_created_network(vpc, subnets.subnets, removal_policy)
        self._volumes = {
            "checkpoint": (self.clusters["checkpoint"].cluster_name, self.checkpoint_bucket, self.mount_point),
            "scratch": (self.clusters["scratch"].cluster_name, self.scratch_bucket, SCRATCH_MOUNT_POINT),
        }

    def _acknowledge_default_profile(self) -> None:
        """HIPAA Security / NIST 800-53 R5 findings of the secret that the props leave."""
        acknowledge_compliance(
            self.secret, "SecretsManagerRotationEnabled",
            "A MemoryDB user holds one password that nodes read only at boot; rotating it needs the user updated and "
            "every node remounted, so rotation is an operator step (docs/juicefs.md), not a Lambda.",
        )
        if self.encryption_key is None:
            acknowledge_compliance(
                self.secret, "SecretsManagerUsingKMSKey",
                "Encrypted with the AWS managed key aws/secretsmanager and read by this stack's roles only; a "
                "customer-managed key is what compliance=hipaa adds.",
            )

    @property
    def connections(self) -> ec2.Connections:
        """Redis TLS (6379) access to both MemoryDB clusters."""
        return self._connections

    @property
    def node_disk_gib(self) -> int:
        """Both volumes' caches plus the 10% JuiceFS keeps free on the cache disk."""
        return juicefs_node_disk_gib(self.cache_size_gib)

    @property
    def monitored(self) -> Mapping[str, Any]:
        """Both MemoryDB clusters."""
        return {"memorydb_cluster_names": [cluster.cluster_name for cluster in self.clusters.values()]}

    @property
    def outputs(self) -> Mapping[str, tuple[str, str]]:
        """Buckets, metadata endpoints, the password secret and the mount points."""
        checkpoint, scratch = self.clusters["checkpoint"], self.clusters["scratch"]
        return {
            "CheckpointBucketName": (self.checkpoint_bucket.bucket_name, "S3 bucket of the checkpoint volume"),
            "ScratchBucketName": (self.scratch_bucket.bucket_name, "S3 bucket of the scratch volume"),
            "CheckpointMetadataEndpoint": (checkpoint.attr_cluster_endpoint_address, "MemoryDB endpoint (TLS, 6379)"),
            "ScratchMetadataEndpoint": (scratch.attr_cluster_endpoint_address, "MemoryDB endpoint (TLS, 6379)"),
            "MetadataPasswordSecretArn": (self.secret.secret_arn, "Secret holding the MemoryDB user's password"),
            "MetadataUserName": (self.user_name, "MemoryDB user JuiceFS connects as"),
            "CheckpointMountPoint": (self.mount_point, "Checkpoint volume on every node"),
            "ScratchMountPoint": (SCRATCH_MOUNT_POINT, "Scratch volume on every node"),
        }

    def grant_node(self, grantee: iam.IGrantable) -> iam.Grant:
        """Object read/write on the two buckets, read of the one secret, describe of the two clusters."""
        statements, acknowledgements = self._node_access
        target = direct_grantee(grantee)
        grants = [iam.Grant.add_to_principal(grantee=target, **statement) for statement in statements]
        policy = target.node.try_find_child("DefaultPolicy") if isinstance(target, iam.Role) else None
        if policy is not None:
            cdk.Validations.of(policy).acknowledge(*acknowledgements)
        combined = grants[0]
        for grant in grants[1:]:
            combined = combined.combine(grant)
        return combined

    @functools.cached_property
    def _node_access(self) -> tuple[list[dict[str, Any]], list[cdk.Acknowledgment]]:
        """:meth:`grant_node`'s statements (``Grant.add_to_principal`` keywords) and the acknowledgements of their
        wildcards: the same for every grantee, so read from the constructs once (each read is a jsii round trip).
        The S3 statements name both buckets at once, as the ``@aws-cdk/aws-iam:minimizePolicies`` flag of
        cdk.json would merge them anyway."""
        stack = cdk.Stack.of(self)
        buckets = (self.checkpoint_bucket, self.scratch_bucket)
        statements: list[dict[str, Any]] = [
            {"actions": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
             "resource_arns": [bucket.arn_for_objects("*") for bucket in buckets]},
            {"actions": ["s3:ListBucket"], "resource_arns": [bucket.bucket_arn for bucket in buckets]},
            # The statement secret.grant_read makes. With a key, grant_read would also name the grantee in the key's
            # policy, making the key wait for every role (a longer deploy); the key policy trusts the account, so
            # the IAM statements below suffice.
            {"actions": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
             "resource_arns": [self.secret.secret_arn]},
        ]
        if self.encryption_key is not None:
            key_arn = self.encryption_key.key_arn
            region, url_suffix = stack.region, stack.url_suffix
            statements.append({"actions": ["kms:Decrypt"], "resource_arns": [key_arn],
                               "conditions": {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.{url_suffix}"}}})
            # SSE-KMS: reading a block needs kms:Decrypt, writing one kms:GenerateDataKey (S3 User Guide, "Using
            # server-side encryption with AWS KMS keys"); only through S3.
            statements.append({"actions": ["kms:Decrypt", "kms:GenerateDataKey"], "resource_arns": [key_arn],
                               "conditions": {"StringEquals": {"kms:ViaService": f"s3.{region}.{url_suffix}"}}})
        source = s3_object(self.juicefs_source)
        client_keys: list[str] = []
        if source:
            # The client tarball for either architecture, and checksums.txt beside it when no checksum is pinned.
            bucket_name, key = source
            key = key.replace("{version}", self._settings["JUICEFS_VERSION"].__str__()).replace("{arch}", "*")
            keys = [key] + ([] if self._client_checksums else [key.rsplit("/", 1)[0] + "/checksums.txt" if "/" in key else "checksums.txt"])
            client_keys = [f"{bucket_name}/{key}"] if "*" in key else []
            statements.append({
                "actions": ["s3:GetObject"],
                "resource_arns": [stack.format_arn(service="s3", region="", account="", resource=bucket_name, resource_name=k)
                                  for k in keys],
            })
        statements.append({
            "actions": ["memorydb:DescribeClusters"],
            "resource_arns": [
                stack.format_arn(service="memorydb", resource="cluster", resource_name=cluster.cluster_name)
                for cluster in self.clusters.values()
            ],
        })
        acknowledgements = [
            cdk.Acknowledgment(
                id=f"AwsSolutions::AwsSolutions-IAM5[Resource::<{_logical_id(bucket)}.Arn>/*]",
                reason=f"JuiceFS stores the {bucket_id.replace('Bucket', '').lower()} volume as block objects "
                "under keys it generates; access is limited to objects of this one bucket.",
            )
            for bucket_id, bucket in (("CheckpointBucket", self.checkpoint_bucket), ("ScratchBucket", self.scratch_bucket))
        ] + [
            cdk.Acknowledgment(
                id=f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::{key}]",
                reason="The JuiceFS client tarball of the pinned version, one object per CPU architecture "
                "({arch} is amd64 or arm64 at boot): read-only, in the bucket juicefsSource names.",
            )
            for key in client_keys
        ]
        return statements, acknowledgements

    @property
    def node_write_mibps(self) -> Optional[float]:
        """``max_uploads`` parallel uploads at S3's guideline of about 85 MB/s per connection."""
        return self.max_uploads * _S3_CONNECTION_MIBPS

    @property
    def description(self) -> str:
        """``JuiceFS on S3 (40 uploads)`` and the like."""
        return f"JuiceFS on S3 ({self.max_uploads} uploads)"

    def node_mount_script(self, node_settings: Optional[Mapping[str, Union[str, int]]] = None) -> str:
        """Install the ECS gate and the pinned client, wait for the volumes to be formatted, mount both as systemd
        services."""
        volumes = " ".join(f"{name}:{cluster}:{mount}" for name, (cluster, _, mount) in self._volumes.items())
        return render(
            "juicefs_mount.sh",
            {
                "FATAL_SHUTDOWN_MINUTES": 1,
                **(node_settings or {}),
                **self._script_settings(volumes),
                "CACHE_DIR": _CACHE_DIR,
                "CACHE_SIZE_MIB": self.cache_size_gib * 1024,
                "MAX_UPLOADS": self.max_uploads,
                "BUFFER_SIZE_MIB": self.buffer_size_mib,
                "FORMAT_WAIT_ATTEMPTS": 40,
            },
        )

    def formatter_script(self) -> Optional[str]:
        """Format both volumes once the clusters are up (run by the management server)."""
        volumes = " ".join(f"{name}:{cluster}:{bucket.bucket_name}" for name, (cluster, bucket, _) in self._volumes.items())
        return render(
            "juicefs_format.sh",
            {
                **self._script_settings(volumes),
                "BLOCK_SIZE_KIB": self.block_size_mib * 1024,
                "AWS_URL_SUFFIX": cdk.Aws.URL_SUFFIX,
                "CLUSTER_WAIT_ATTEMPTS": 45,
            },
        )

    def _script_settings(self, volumes: str) -> dict[str, Union[str, int]]:
        """What the mount and format scripts both need: the client, the secret, the user and the volumes."""
        return {**self._settings, "SECRET_ARN": self.secret.secret_arn, "META_USER": self.user_name, "VOLUMES": volumes}

    def _bucket(self, id: str, removal_policy: cdk.RemovalPolicy, *, scratch: bool) -> s3.Bucket:
        rules = [s3.LifecycleRule(id="AbortIncompleteUploads", abort_incomplete_multipart_upload_after=cdk.Duration.days(1))]
        if scratch:
            # Scratch blocks that sit untouched move to Intelligent-Tiering, which reads back at S3 Standard
            # latency; objects are never expired by S3, since JuiceFS metadata still points at them.
            rules.append(
                s3.LifecycleRule(
                    id="ScratchToIntelligentTiering",
                    transitions=[
                        s3.Transition(storage_class=s3.StorageClass.INTELLIGENT_TIERING, transition_after=cdk.Duration.days(0))
                    ],
                )
            )
        access_logs, noncurrent_days = self._protection
        if noncurrent_days is not None:
            # Old versions go after noncurrent_days; the delete markers JuiceFS's deletions leave go once alone.
            rules.append(s3.LifecycleRule(id="ExpireNoncurrent", noncurrent_version_expiration=cdk.Duration.days(noncurrent_days),
                                          expired_object_delete_marker=True))
        key = self.encryption_key
        bucket = s3.Bucket(
            self,
            id,
            encryption=s3.BucketEncryption.KMS if key else s3.BucketEncryption.S3_MANAGED,
            encryption_key=key,
            bucket_key_enabled=True if key else None,
            versioned=True if noncurrent_days is not None else None,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix=f"{'scratch' if scratch else 'checkpoint'}/" if access_logs else None,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            removal_policy=removal_policy,
            # CloudFormation cannot delete a bucket that holds objects; with DESTROY, empty it first.
            auto_delete_objects=removal_policy == cdk.RemovalPolicy.DESTROY,
            lifecycle_rules=rules,
        )
        if access_logs is None:
            cdk.Validations.of(bucket).acknowledge(
                cdk.Acknowledgment(
                    id="AwsSolutions::AwsSolutions-S1",
                    reason="Server access logs would add a log line per JuiceFS block (4 MiB) read or written; bucket "
                    "access is limited to this stack's node and server roles. Enable CloudTrail data events to audit.",
                )
            )
        self._acknowledge_bucket(bucket, key, access_logs, noncurrent_days)
        return bucket

    def _acknowledge_bucket(self, bucket: s3.Bucket, key: Optional[kms.IKey], access_logs: Optional[s3.IBucket],
                            noncurrent_days: Optional[int]) -> None:
        """HIPAA Security / NIST 800-53 R5 findings of a bucket that its props leave (docs/security.md)."""
        acknowledge_compliance(
            bucket, "S3BucketReplicationEnabled",
            "JuiceFS blocks are useless without the volume's metadata in MemoryDB, which is not replicated; a replica "
            "would double storage and the copies of job memory images.",
        )
        if access_logs is None:
            acknowledge_compliance(
                bucket, "S3BucketLoggingEnabled",
                "Access is limited to this stack's node and server roles; a log line per 4 MiB block read or written is "
                "what compliance=hipaa adds (or CloudTrail data events).",
            )
        if noncurrent_days is None:
            acknowledge_compliance(
                bucket, "S3BucketVersioningEnabled",
                "JuiceFS deletes blocks itself when files go; old versions cannot rebuild a volume whose metadata is in "
                "MemoryDB and would keep deleted job data. compliance=hipaa keeps them for a bounded time.",
            )
        if key is None:
            acknowledge_compliance(
                bucket, "S3DefaultEncryptionKMS",
                "Encrypted at rest with SSE-S3 (AES-256) and TLS-only access; a customer-managed KMS key is what "
                "compliance=hipaa adds.",
            )


def _checksum_settings(juicefs_sha256: Optional[Union[str, Mapping[str, str]]]) -> dict[str, str]:
    """``JUICEFS_SHA256``: one digest for every architecture, or ``amd64=<sha256>,arm64=<sha256>``."""
    if juicefs_sha256 is None or isinstance(juicefs_sha256, str):
        return {"JUICEFS_SHA256": juicefs_sha256 or ""}
    unknown = set(juicefs_sha256) - {"x86_64", "arm64"}
    if unknown:
        raise ValueError(f"juicefs_sha256: architectures {sorted(unknown)} not accepted; expected x86_64 and arm64")
    names = {"x86_64": "amd64", "arm64": "arm64"}
    return {"JUICEFS_SHA256": ",".join(f"{names[arch]}={digest}" for arch, digest in sorted(juicefs_sha256.items()))}


def _retain_created_network(vpc: ec2.IVpc, subnets: list[ec2.ISubnet], removal_policy: cdk.RemovalPolicy) -> None:
    """Keep the subnets (and their VPC) that retained clusters sit in, when this stack created them."""
    for resource in [vpc.node.default_child, *(subnet.node.default_child for subnet in subnets)]:
        if isinstance(resource, (ec2.CfnVPC, ec2.CfnSubnet)):
            resource.apply_removal_policy(removal_policy)


def _memorydb_name(text: str) -> str:
    """A valid MemoryDB name fragment: lowercase letters, digits and single hyphens, starting with a letter."""
    name = re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", text.lower())).strip("-")
    return name if name[:1].isalpha() else f"m{name}"


def _logical_id(bucket: s3.Bucket) -> str:
    resource = bucket.node.default_child
    assert isinstance(resource, cdk.CfnResource)
    return cdk.Stack.of(bucket).get_logical_id(resource)
