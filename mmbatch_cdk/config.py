"""Every setting of the mmbatch-cdk app, declared once, read once from CDK context and validated.

Nothing else in the project reads context. :data:`SETTINGS` declares each setting once: its key, parser,
default, help, seed parameter, where it applies (a backend, the single queue or each of the three
queues) and the construct prop it sets. :meth:`MmBatchConfig.from_mapping` collects every problem before
it raises, so a user sees all of their mistakes in one message; settings that are valid but have no effect
in the chosen mode become warnings that name them.

Values arrive as strings from ``cdk synth -c key=value`` and as JSON types from ``cdk.json``; every parser
accepts both.
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Sequence

import aws_cdk as cdk
from aws_cdk import aws_efs as efs

from . import rules
from .compliance import COMPLIANCE_PROFILES
from .compute import CHECKPOINT_TIME_WARNING, DEFAULT_INSTANCE_TYPES
from .cost import MAX_USER_TAGS, TAGS_ACCEPTED, tag_problem
from .durations import duration_seconds
from .instance_types import architecture
from .job_definition import spot_attempts_problem
from .management_server import MMAB_SOURCE_WARNING
from .monitoring import MIN_COUNT_THRESHOLD, PERCENT_RANGE, TIME_LIMIT_RANGE_S
from .multi_queue import DEFAULT_QUEUES, QueueSpec
from .node_settings import BOOT_CHECK_SECONDS_RANGE, INFRASTRUCTURE_UPDATE_MINUTES_RANGE
from .aws_cli import (
    AWS_CLI_KEY_WARNING,
    AWS_CLI_PATH,
    AWS_CLI_PINNED_SHA256,
    AWS_CLI_PINNED_SOURCE,
    AWS_CLI_VERSION,
    FETCH_AND_RUN_PATH,
)
from .log_shipping import UBUNTU_AGENT_URL, retention_days
from .storage.juicefs import JUICEFS_RELEASE_URL, MEMORYDB_NODE_TYPES, juicefs_node_disk_gib
from .head_queue import NEXTFLOW_HEAD_IMAGE
from .workspace import bucket_name_problem, parse_input_location

__all__ = [
    "ConfigError",
    "ConfigWarning",
    "DEFAULT_INSTANCE_TYPES",
    "MmBatchConfig",
    "SETTINGS",
    "Setting",
    "duration_seconds",
]


class ConfigError(Exception):
    """One or more settings are invalid. ``problems`` lists each one, naming its key."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        count = len({p.partition(":")[0] for p in self.problems})  # every message about one setting counts as one
        head = f"mmbatch-cdk: {count} setting{'s' if count != 1 else ''} not valid; nothing was synthesized."
        super().__init__("\n".join([head, *(f"  - {p}" for p in self.problems)]))


@dataclass(frozen=True)
class ConfigWarning:
    """A setting that is valid but probably not what was meant. ``id`` is what ``-c acknowledge=`` takes."""

    id: str
    message: str

    @property
    def annotation_id(self) -> str:
        """The CDK annotation id, ``mmbatch:<id>``."""
        return f"mmbatch:{self.id}"

    @property
    def text(self) -> str:
        """The message with how to accept it from the command line."""
        return f"{self.message} To accept this, pass -c acknowledge={self.id}."


class _Invalid(ValueError):
    """Raised by a parser; the message says what is accepted."""


# ----------------------------------------------------------------------------- parsers

_SUBNET_RE = re.compile(r"^subnet-([0-9a-f]{8}|[0-9a-f]{17})$")
_VPC_RE = re.compile(r"^vpc-([0-9a-f]{8}|[0-9a-f]{17})$")
_SG_RE = re.compile(r"^sg-([0-9a-f]{8}|[0-9a-f]{17})$")
_PREFIX_RE = re.compile(r"^(?=.{1,20}$)[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_SIZE = r"(nano|micro|small|medium|large|xlarge|[1-9][0-9]*xlarge|metal(-[1-9][0-9]*xl)?)"
"""EC2 size names (nano ... 48xlarge, metal, metal-24xl)."""
_INSTANCE_TYPE_RE = re.compile(rf"^([a-z][a-z0-9-]*[0-9][a-z0-9-]*(\.{_SIZE})?|optimal|default_x86_64|default_arm64)$")
_SIZED_TYPE_RE = re.compile(rf"^[a-z][a-z0-9-]*[0-9][a-z0-9-]*\.{_SIZE}$")
_VERSION_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._+-]{0,63}$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_KEY_NAME_RE = re.compile(r"^[\x20-\x7e]{1,255}$")
_KMS_KEY_ARN_RE = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9a-f-]{36}$|^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/mrk-[0-9a-f]{32}$")
_ARCH_NAMES = {"amd64": "x86_64", "x86_64": "x86_64", "arm64": "arm64", "aarch64": "arm64"}


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _Invalid(f"{value!r} is not a text value")
    return str(value).strip()


def _pattern(regex: re.Pattern[str], accepted: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = _text(value)
        if not regex.match(text):
            raise _Invalid(f"{text!r} is not accepted; expected {accepted}")
        return text

    return parse


def _choice(*choices: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = _text(value).lower()
        if text not in choices:
            raise _Invalid(f"{value!r} is not accepted; expected one of: {', '.join(choices)}")
        return text

    return parse


def _choice_int(*choices: int) -> Callable[[Any], int]:
    accepted = ", ".join(map(str, choices))
    whole = _integer(min(choices), max(choices))

    def parse(value: Any) -> int:
        number = whole(value)
        if number not in choices:
            raise _Invalid(f"{number} is not accepted; expected one of: {accepted}")
        return number

    return parse


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower() if isinstance(value, str) else ""
    if text in ("true", "yes", "1"):
        return True
    if text in ("false", "no", "0"):
        return False
    raise _Invalid(f"{value!r} is not accepted; expected true or false")


_INT32_MAX = 2**31 - 1
"""The largest value of an AWS API ``Integer`` (Smithy's integer: a 32-bit signed integer), such as AWS Batch's
``ComputeResource`` minvCpus and maxvCpus (AWS Batch API Reference, "Type: Integer")."""


def _integer(minimum: int, maximum: Optional[int] = None) -> Callable[[Any], int]:
    bounds = f"a whole number >= {minimum}" + (f" and <= {maximum}" if maximum is not None else "")

    def parse(value: Any) -> int:
        if isinstance(value, bool):
            raise _Invalid(f"{value!r} is not accepted; expected {bounds}")
        if isinstance(value, int):
            number = value
        elif isinstance(value, str) and re.fullmatch(r"\s*-?[0-9]+\s*", value):
            number = int(value)
        else:
            raise _Invalid(f"{value!r} is not accepted; expected {bounds}")
        if number < minimum or (maximum is not None and number > maximum):
            raise _Invalid(f"{number} is out of range; expected {bounds}")
        return number

    return parse


def _parts(text: str, what: str) -> list[str]:
    """The comma-separated parts of ``text``; an empty part is refused: on the command line it is what is left when
    an unquoted space after a comma ended the value there (``-c instanceTypes=m6i.large, c6i.large``)."""
    parts = [p.strip() for p in text.split(",")]
    if "" in parts:
        raise _Invalid(f"{text!r} has an empty item; expected a comma-separated list of {what} (on the command line, "
                       "a space after a comma ends the value: quote it, as in -c 'key=a, b')")
    return parts


def _items(value: Any, what: str) -> list[Any]:
    if isinstance(value, str):
        return _parts(value, what)
    if isinstance(value, (list, tuple)):
        return list(value)
    raise _Invalid(f"{value!r} is not accepted; expected a comma-separated list of {what}")


def _list_of(item: Callable[[Any], str], what: str, *, min_items: int = 1) -> Callable[[Any], tuple[str, ...]]:
    def parse(value: Any) -> tuple[str, ...]:
        raw = _items(value, what)
        if len(raw) < min_items:
            raise _Invalid(f"expected at least {min_items} of {what}, got {len(raw)}")
        items = []
        bad = []
        for entry in raw:
            try:
                items.append(item(entry))
            except _Invalid:
                bad.append(repr(entry))
        if bad:
            raise _Invalid(f"{', '.join(bad)} not accepted; expected a comma-separated list of {what}")
        duplicates = sorted({i for i in items if items.count(i) > 1})
        if duplicates:
            raise _Invalid(f"{', '.join(duplicates)} listed more than once")
        return tuple(items)

    return parse


def _cidr(value: Any) -> str:
    text = _text(value)
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError:
        raise _Invalid(f"{text!r} is not accepted; expected a CIDR block such as 203.0.113.0/24") from None
    if network.prefixlen == 0:
        raise _Invalid(f"{text!r} would open the management server to the whole internet; give your own address range")
    widest = 16 if network.version == 4 else 32
    if network.is_global and network.prefixlen < widest:
        raise _Invalid(
            f"{text!r} spans {network.num_addresses:,} public addresses, far more than one organisation owns; "
            f"give your own range (a /{widest} or narrower)"
        )
    return str(network)


def _install_source(value: Any) -> str:
    text = _text(value)
    if re.match(r"^https://[^\s'\"`$\\]+$", text) or re.match(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[^\s'\"`$\\]+$", text):
        return text
    raise _Invalid(
        f"{text!r} is not accepted; expected an https:// URL or an s3://bucket/key URI of the MMAB installer, "
        "optionally containing {version}"
    )


def _duration(minimum_s: int, maximum_s: int) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = _text(value)
        problem = rules.duration_problem(text, minimum_s, maximum_s)
        if problem:
            raise _Invalid(problem)
        return text

    return parse


def _checksums(value: Any) -> dict[str, str]:
    """``<sha256>`` (every architecture) or ``amd64:<sha256>,arm64:<sha256>``."""
    text = _text(value)
    accepted = "64 lowercase hex digits, or one per architecture as amd64:<sha256>,arm64:<sha256>"
    if _SHA256_RE.match(text):
        return {"*": text}
    found: dict[str, str] = {}
    for part in _parts(text, "amd64:<sha256>,arm64:<sha256>"):
        arch, _, digest = part.partition(":")
        if arch.strip() not in _ARCH_NAMES or not _SHA256_RE.match(digest.strip()):
            raise _Invalid(f"{part!r} is not accepted; expected {accepted}")
        if _ARCH_NAMES[arch.strip()] in found:
            raise _Invalid(f"{_ARCH_NAMES[arch.strip()]} is given more than once ({arch.strip()!r}); expected one checksum "
                           "per architecture")
        found[_ARCH_NAMES[arch.strip()]] = digest.strip()
    if not found:
        raise _Invalid(f"{text!r} is not accepted; expected {accepted}")
    return found


def _minutes_or_never(value: Any) -> Optional[int]:
    if isinstance(value, str) and value.strip().lower() == "never":
        return None
    try:
        return _integer(0, 60)(value)
    except _Invalid:
        raise _Invalid(f"{value!r} is not accepted; expected whole minutes from 0 to 60, or never") from None


def _client_source_of(what: str, placeholders: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = _text(value)
        if re.match(r"^https://[^\s'\"`$\\]+$", text) or re.match(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[^\s'\"`$\\]+$", text):
            return text
        raise _Invalid(f"{text!r} is not accepted; expected an https:// URL or an s3://bucket/key URI of {what}"
                       + (f", optionally containing {placeholders}" if placeholders else ""))

    return parse


_client_source = _client_source_of("the JuiceFS tarball", "{version} and {arch} (amd64 or arm64)")


def _or_none(parse: Callable[[Any], str]) -> Callable[[Any], Optional[str]]:
    """``parse``, and the word ``none`` for no value."""
    def parse_or_none(value: Any) -> Optional[str]:
        return None if _text(value).lower() == "none" else parse(value)

    return parse_or_none


def _number(minimum: float, maximum: Optional[float] = None, *, above: bool = False) -> Callable[[Any], float]:
    bounds = f"a number {'>' if above else '>='} {minimum:g}" + (f" and <= {maximum:g}" if maximum is not None else "")

    def parse(value: Any) -> float:
        try:
            number = float(value) if not isinstance(value, bool) else float("nan")
        except (TypeError, ValueError):
            raise _Invalid(f"{value!r} is not accepted; expected {bounds}") from None
        if not math.isfinite(number):  # JSON, and so a template, has no Infinity or NaN
            raise _Invalid(f"{value!r} is not accepted; expected {bounds}, a finite number")
        if not (number > minimum if above else number >= minimum) or (maximum is not None and number > maximum):
            raise _Invalid(f"{value!r} is out of range; expected {bounds}")
        return number

    return parse


def _email(value: Any) -> str:
    text = _text(value)
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", text):
        raise _Invalid(f"{text!r} is not accepted; expected an email address such as ops@example.org")
    return text


def _tag_map(value: Any) -> dict[str, str]:
    """``{"team": "genomics"}`` from cdk.json, or ``team=genomics,project=rnaseq`` from the command line."""
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, str):
        pairs = []
        for part in _parts(value, "key=value pairs"):
            key, sep, tag_value = part.partition("=")
            if not sep:
                raise _Invalid(f"{part!r} is not accepted; expected key=value pairs such as team=genomics,project=rnaseq")
            pairs.append((key.strip(), tag_value.strip()))
    else:
        raise _Invalid(f"{value!r} is not accepted; expected a JSON object or key=value pairs such as team=genomics")
    tags: dict[str, str] = {}
    for key, tag_value in pairs:
        problem = tag_problem(key, tag_value)
        if problem:
            raise _Invalid(problem)
        if key in tags:
            raise _Invalid(f"tag {key!r} is given more than once ({tags[key]!r}, {tag_value!r}); give each key once")
        tags[key] = tag_value
    if len(tags) > MAX_USER_TAGS:
        raise _Invalid(f"{len(tags)} tags given; expected {TAGS_ACCEPTED}")
    return tags


def _spot_attempts(value: Any) -> int:
    """The job definition's own rule (:func:`~mmbatch_cdk.job_definition.spot_attempts_problem`), in its words."""
    if isinstance(value, str) and re.fullmatch(r"\s*-?[0-9]+\s*", value):
        value = int(value)
    problem = spot_attempts_problem(value)
    if problem:
        raise _Invalid(problem)
    return int(value)


def _agent_source(value: Any) -> str:
    text = _text(value)
    if text == "dnf" or re.match(r"^https://[^\s'\"`$\\]+$", text) or re.match(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[^\s'\"`$\\]+$", text):
        return text
    raise _Invalid(f"{text!r} is not accepted; expected dnf (nodes only), an https:// URL or an s3://bucket/key of the "
                   "CloudWatch agent package, optionally containing {arch} (amd64 or arm64)")


def _memorydb_node_type(value: Any) -> str:
    text = _text(value)
    if text in MEMORYDB_NODE_TYPES:
        return text
    if text.startswith("db.r6gd."):
        raise _Invalid(f"{text!r} is a data-tiering node type, which needs data tiering on; mmbatch-cdk does not turn it on")
    raise _Invalid(f"{text!r} is not a MemoryDB node type; expected one of: {', '.join(MEMORYDB_NODE_TYPES)}")


def _bucket_name(value: Any) -> str:
    text = _text(value)
    problem = bucket_name_problem(text)
    if problem:
        raise _Invalid(problem)
    return text


def _input_location(value: Any) -> str:
    try:
        return str(parse_input_location(_text(value)))
    except ValueError as err:
        raise _Invalid(str(err)) from None


_IMAGE_RE = re.compile(r"^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$")

_INSTANCE_TYPES = _list_of(_pattern(_INSTANCE_TYPE_RE, "instance types"),
                           "instance types or families such as m6i.large or c7i, or optimal, default_x86_64, default_arm64")

# ----------------------------------------------------------------------------- the table


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
        (:class:`Workspace`) and ``head`` (:class:`HeadJobQueue`). :param to_prop: converts the value for those props; None: passed as is.
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
    Setting("juicefsCacheGib", "juicefs_cache_gib", _integer(1, 7400), 50,
            "Local JuiceFS cache per volume on each node, in GiB (added to the root volume).", backend="juicefs",
            props=("juicefs.cache_size_gib",)),
    Setting("juicefsMaxUploads", "juicefs_max_uploads", _integer(1, 200), 40,
            "JuiceFS `--max-uploads`: parallel S3 uploads per mount. 40 (JuiceFS: 20) lets a 25 Gbps node write at full speed.",
            backend="juicefs", props=("juicefs.max_uploads",)),
    Setting("juicefsBlockSizeMib", "juicefs_block_size_mib", _choice_int(1, 2, 4, 8, 16), 4,
            "JuiceFS block size in MiB, fixed when a volume is formatted (later changes do not apply to it).",
            backend="juicefs", props=("juicefs.block_size_mib",)),
    Setting("juicefsBufferSizeMib", "juicefs_buffer_size_mib", _integer(32, 16384), 300,
            "JuiceFS `--buffer-size` per mount, in MiB: memory holding data not yet uploaded.", backend="juicefs",
            props=("juicefs.buffer_size_mib",)),
    Setting("efsThroughputMode", "efs_throughput_mode", _choice("elastic", "bursting", "provisioned"), "elastic",
            "EFS throughput mode: `elastic` scales with checkpoint bursts and bills per use.", backend="efs",
            props=("efs.throughput_mode",), to_prop=_THROUGHPUT.__getitem__),
    Setting("efsProvisionedMibps", "efs_provisioned_mibps", _integer(1, 3414), None,
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
    Setting("agentWaitSeconds", "agent_wait_seconds", _integer(60, 3600), 900,
            "How long a node waits for the management server to serve the MMBatch agent before it logs one FATAL line "
            "and shuts down (AWS Batch replaces it).", props=("nodes.agent_wait_seconds",)),
    Setting("fatalShutdownMinutes", "fatal_shutdown_minutes", _minutes_or_never, 1,
            "Minutes from a node's fatal boot error (no storage, no agent) to its shutdown; `never` keeps it, with "
            "ECS gated off so it takes no job, for debugging.", props=("nodes.fatal_shutdown_minutes",)),
    Setting("bootCheckSeconds", "boot_check_seconds", _integer(*BOOT_CHECK_SECONDS_RANGE), 600,
            "On every boot after a node's first, how long it waits for its checkpoint storage to be mounted before it "
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
    Setting("workExpiryDays", "work_expiry_days", _integer(1, 3650), 30,
            "Days after which S3 deletes intermediate work (`nextflow-work/`, `cromwell-execution/`) in the created work bucket.",
            props=("workspace.work_expiry_days",)),
    Setting("headQueue", "head_queue", _boolean, True,
            "An AWS Fargate On-Demand queue for engines' head jobs (never reclaimed), its role and a Nextflow head job "
            "definition; needs `workspace`. Costs nothing idle.", props=()),
    Setting("headQueueMaxvCpus", "head_queue_max_vcpus", _integer(1, 4096), 16,
            "vCPUs of all head jobs together on the head queue.", props=("head.max_vcpus",)),
    Setting("nextflowHeadImage", "nextflow_head_image", _pattern(_IMAGE_RE, "a container image such as "
            "public.ecr.aws/seqera-labs/nextflow:25.10.2"), NEXTFLOW_HEAD_IMAGE,
            "Image of the Nextflow head job (Nextflow's own, from Amazon ECR Public).", props=("head.nextflow_image",)),
    Setting("miniwdlEfsFileSystemId", "miniwdl_efs_file_system_id", _pattern(re.compile(r"^fs-[0-9a-f]{8,17}$"), "fs-0123456789abcdef0"),
            None, "Your EFS file system for miniwdl-aws's working files, named in its configuration.",
            props=("quickstart.efs_file_system_id",)),
    Setting("miniwdlEfsAccessPointId", "miniwdl_efs_access_point_id", _pattern(re.compile(r"^fsap-[0-9a-f]{8,17}$"), "fsap-0123456789abcdef0"),
            None, "An access point of that file system for miniwdl-aws.", props=("quickstart.efs_access_point_id",)),
    Setting("awsCli", "aws_cli", _boolean, True,
            f"Nodes install AWS CLI v2 at `{AWS_CLI_PATH}` (Nextflow's `cliPath`; Cromwell mounts its directory) and "
            f"Cromwell's `{FETCH_AND_RUN_PATH}`, verified or refused (docs/queues-and-jobs.md 'AWS CLI on the nodes'); `false` for "
            "neither.", props=()),
    Setting("awsCliSource", "aws_cli_source", _client_source_of("the AWS CLI v2 zip", "{arch} (x86_64, aarch64)"),
            AWS_CLI_PINNED_SOURCE, f"Where nodes get the AWS CLI v2 zip: `https://...` or `s3://bucket/key` (then its "
            f"`.sig` beside it for a signature check). Default: AWS's zip of release {AWS_CLI_VERSION}, pinned with its "
            "checksums; another release needs its own checksums or awsCliPgpKeySource.", props=("awscli.source",)),
    Setting("awsCliSha256X86", "aws_cli_sha256_x86_64", _pattern(_SHA256_RE, "64 lowercase hex digits"),
            AWS_CLI_PINNED_SHA256["x86_64"], "SHA-256 of the x86_64 zip, checked as well as any signature.",
            props=("awscli.sha256_x86_64",)),
    Setting("awsCliSha256Arm64", "aws_cli_sha256_aarch64", _pattern(_SHA256_RE, "64 lowercase hex digits"),
            AWS_CLI_PINNED_SHA256["aarch64"], "SHA-256 of the aarch64 zip.", props=("awscli.sha256_aarch64",)),
    Setting("awsCliPgpKeySource", "aws_cli_pgp_key_source", _or_none(_client_source_of("the AWS CLI Team public key", "")),
            None, "Where nodes fetch the AWS CLI Team public key to also check AWS's signature of the zip (by the key "
            "with AWS's published fingerprint), for example a copy in your bucket. Unset or `none`: checksums only.",
            props=("awscli.pgp_key_source",)),
    Setting("tags", "tags", _tag_map, {},
            "Cost-allocation tags on every resource, and on the instances and volumes AWS Batch launches: a JSON object in "
            "cdk.json, or `team=genomics,project=rnaseq` on the command line. `mmbatch:prefix` is always added.",
            props=("cost.tags",)),
    Setting("alarmEmail", "alarm_email", _email, None,
            "Email address subscribed to the alarm topic (confirm the subscription mail) and told by the budget.",
            props=("monitoring.alarm_email", "budget.email")),
    Setting("monthlyBudgetUsd", "monthly_budget_usd", _number(0, above=True), None,
            "A monthly AWS Budget in USD over this deployment's cost (by its mmbatch:prefix tag, once activated in "
            "Billing): mails alarmEmail at 80% actual and 100% forecast. Needs alarmEmail.", props=("budget.amount_usd",)),
    Setting("logRetentionDays", "log_retention_days", _choice_int(*_RETENTION_DAYS), 30,
            "Days the node, server, job and flow log groups keep events (a CloudWatch Logs period). The groups outlive the "
            "stack. With `compliance=hipaa`: 365 unless given, and at least 365.",
            props=("logs.retention", "nodes.job_log_retention", "network.log_retention"), to_prop=retention_days),
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
    Setting("alarmEfsBurstCreditGib", "alarm_efs_burst_credit_gib", _number(0, above=True), 360,
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
    return tuple(found)


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


@dataclass(frozen=True)
class MmBatchConfig:
    """The validated settings of one deployment. Build it with :meth:`from_mapping` or :meth:`from_context`.

    Read a setting as an attribute (``config.max_vcpus``) or by key (``config["maxvCpus"]``); read what a
    construct takes with :meth:`props`.
    """

    values: Mapping[str, Any] = field(default_factory=lambda: {s.key: s.default for s in SETTINGS})
    given: frozenset[str] = frozenset()
    warnings: tuple[ConfigWarning, ...] = field(default=(), compare=False)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def __getattr__(self, name: str) -> Any:
        for setting in SETTINGS:
            if setting.attr == name:
                return self.values[setting.key]
        raise AttributeError(name)

    @classmethod
    def from_context(cls, node: Any) -> "MmBatchConfig":
        """Read every setting from a construct node's context (``app.node``)."""
        return cls.from_mapping(dict(node.get_all_context() or {}))

    @classmethod
    def from_mapping(cls, context: Mapping[str, Any]) -> "MmBatchConfig":
        """Validate a mapping of context keys to raw values; raise :class:`ConfigError` listing every problem."""
        problems = _unknown_keys(context)
        values: dict[str, Any] = {}
        unparsed: set[str] = set()
        for setting in SETTINGS:
            if not _given(context, setting.key):
                values[setting.key] = setting.default
                continue
            try:
                values[setting.key] = setting.parse(_not_empty(context[setting.key], setting))
            except _Invalid as err:
                values[setting.key] = setting.default
                unparsed.add(setting.key)
                problems.append(f"{setting.key}: {err}")
        for key, value in _PROFILE_DEFAULTS.get(values["compliance"], {}).items():
            if not _given(context, key):
                values[key] = value
        given = frozenset(key for key in _BY_KEY if _given(context, key))
        config = cls(values, given)
        # A setting that did not parse holds its default here; a check that read it would speak of a value the user
        # did not pass, so only what names no such setting is kept (its own message already stops synth).
        problems.extend(p for p in _cross_checks(config) if not _names_any(p, unparsed))
        if problems:
            raise ConfigError(problems)
        notes = [w for w in _warnings(config) if w.id not in values["acknowledge"]]
        return dataclasses.replace(config, warnings=tuple(notes))

    def applies(self, setting: Setting) -> bool:
        """True when ``setting`` has an effect with this backend and queue mode."""
        if setting.backend is not None and setting.backend != self.values["backend"]:
            return False
        if setting.queue is not None and (setting.queue == 0) == self.values["multiQueue"]:
            return False
        return True

    def props(self, target: str) -> dict[str, Any]:
        """Keyword arguments for ``target`` (see :class:`Setting` for the targets): one per
        prop that a setting applying here sets; props no setting sets keep the construct's own defaults."""
        found: dict[str, Any] = {}
        for setting in SETTINGS:
            if setting.queue is not None or not self.applies(setting):
                continue
            for prop in setting.props:
                name, _, attr = prop.partition(".")
                if name == target:
                    value = self.values[setting.key]
                    found[attr] = setting.to_prop(value) if setting.to_prop and value is not None else value
        return found

    @property
    def queues(self) -> tuple[QueueSpec, ...]:
        """The job queues: the single queue (name ``""``) or, with ``multiQueue``, Jq1-Jq3."""
        if not self.values["multiQueue"]:
            specs, index = [_SINGLE_QUEUE], [0]
        else:
            specs, index = list(DEFAULT_QUEUES), [1, 2, 3]
        return tuple(
            dataclasses.replace(spec, **{s.props[0].partition(".")[2]: self.values[s.key] for s in SETTINGS if s.queue == n})
            for spec, n in zip(specs, index)
        )

    @property
    def installs_aws_cli(self) -> bool:
        """True when nodes install the AWS CLI and Cromwell's fetch-and-run script (``awsCli``)."""
        return bool(self.values["awsCli"])

    @property
    def builds_head_queue(self) -> bool:
        """True when the head-job queue is built: ``headQueue`` and ``workspace`` (with workspace off it is left out)."""
        return bool(self.values["headQueue"] and self.values["workspace"])

    @property
    def uses_existing_vpc(self) -> bool:
        """True when ``vpcId`` was given."""
        return self.values["vpcId"] is not None

    @property
    def acknowledged(self) -> tuple[str, ...]:
        """Annotation ids (``mmbatch:...``) the user accepted with ``acknowledge``."""
        return tuple(f"mmbatch:{ack}" for ack in self.values["acknowledge"])


def _given(context: Mapping[str, Any], key: str) -> bool:
    return context.get(key) is not None


def _not_empty(raw: Any, setting: Setting) -> Any:
    """``raw``, unless it is empty text (``-c key=``), which is refused rather than read as the default."""
    if isinstance(raw, str) and raw.strip() == "":
        default = setting.default
        shown = ("none" if default in (None, (), {}) else ",".join(default) if isinstance(default, tuple)
                 else str(default).lower() if isinstance(default, bool) else default)
        raise _Invalid(f"the value is empty; give a value, or leave {setting.key} out for its default ({shown})")
    return raw


def _names_any(problem: str, keys: set[str]) -> bool:
    """True when ``problem`` is about, or mentions, one of ``keys``."""
    return any(re.search(rf"(^|[^A-Za-z0-9]){re.escape(key)}([^A-Za-z0-9]|$)", problem) for key in keys)


def _unknown_keys(context: Mapping[str, Any]) -> list[str]:
    problems = []
    for key in context:
        if key in _BY_KEY or _foreign(key):
            continue
        if key.lower() in _BY_LOWER_KEY:
            problems.append(f"{key}: unknown setting; did you mean {_BY_LOWER_KEY[key.lower()]!r}? (keys are case-sensitive)")
            continue
        close = difflib.get_close_matches(key.lower(), list(_BY_LOWER_KEY), n=1, cutoff=0.75)
        if close:
            problems.append(f"{key}: unknown setting; did you mean {_BY_LOWER_KEY[close[0]]!r}?")
        else:
            problems.append(f"{key}: unknown setting; the accepted keys are listed in docs/reference/settings.md")
    return problems


def _cross_checks(config: MmBatchConfig) -> list[str]:
    v, given = config.values, config.given
    problems = []
    if "vpcId" not in given:
        for key in ("subnetIds", "managementSubnetId", "securityGroupId"):
            if key in given:
                problems.append(f"{key}: only used with an existing VPC; set vpcId too, or remove {key} to create a new VPC")
    elif "subnetIds" not in given:
        problems.append("subnetIds: required with vpcId (subnets are not looked up); give a comma-separated list")
    elif v["backend"] == "juicefs" and len(v["subnetIds"]) < 2:
        problems.append(
            "subnetIds: the juicefs backend needs at least 2 subnets in different availability zones "
            "(MemoryDB keeps a replica in a second zone)"
        )
    if v["backend"] == "efs":
        if v["efsThroughputMode"] == "provisioned" and "efsProvisionedMibps" not in given:
            problems.append("efsProvisionedMibps: required with efsThroughputMode=provisioned; give the throughput in MiB/s")
        elif "efsProvisionedMibps" in given and v["efsThroughputMode"] != "provisioned":
            problems.append("efsProvisionedMibps: only used with efsThroughputMode=provisioned; set that too, or remove it")
    if "mmabSha256" in given and "mmabSource" not in given:
        problems.append("mmabSha256: only used with mmabSource; set mmabSource to the installer's location")
    problems += _queue_checks(config)
    aws_cli_keys = [k for k in ("awsCliSource", "awsCliSha256X86", "awsCliSha256Arm64", "awsCliPgpKeySource") if k in given]
    if aws_cli_keys and not config.installs_aws_cli:
        problems.append(f"{aws_cli_keys[0]}: only used when nodes install the AWS CLI; remove it, or remove awsCli=false")
    queue_arches = {architecture(t) for q in config.queues for t in q.instance_types}
    # The default checksums are the pinned release's (aws_cli.py); another zip needs its own, for each architecture the
    # queues use, or AWS's signature check instead.
    pinned_file = AWS_CLI_PINNED_SOURCE.rsplit("/", 1)[1]
    if config.installs_aws_cli and "awsCliSource" in given and not v["awsCliSource"].endswith("/" + pinned_file) \
            and not v["awsCliPgpKeySource"]:
        names = {"x86_64": "awsCliSha256X86", "arm64": "awsCliSha256Arm64"}
        missing = [names[a] for a in sorted(queue_arches) if names[a] not in given]
        if missing:
            problems.append(f"{missing[0]}: awsCliSource is not AWS CLI {AWS_CLI_VERSION}'s zip ({pinned_file}), whose "
                            f"checksums are the defaults; give your zip's checksum for each architecture the queues use "
                            f"({', '.join(sorted(queue_arches))}), or awsCliPgpKeySource to check AWS's signature instead")
    if v["cloudWatchAgentNodeSource"].endswith(".deb"):
        problems.append("cloudWatchAgentNodeSource: nodes run Amazon Linux 2023, which installs .rpm packages, not .deb")
    if v["cloudWatchAgentNodeSha256"] and "{arch}" in v["cloudWatchAgentNodeSource"] and len(queue_arches) > 1:
        problems.append("cloudWatchAgentNodeSha256: one checksum cannot match the package of both architectures the "
                        "queues use; give an architecture-free source, or leave the checksum out")
    if v["drill"] and not v["spot"]:
        problems.append("drill: the drill interrupts a Spot node, and spot=false runs On-Demand nodes only; set spot=true "
                        "or leave drill out")
    if "monthlyBudgetUsd" in given and "alarmEmail" not in given:
        problems.append("monthlyBudgetUsd: the budget mails its alerts to alarmEmail; set alarmEmail too")
    if v["cloudWatchAgentServerSource"] == "dnf":
        problems.append("cloudWatchAgentServerSource: the server runs Ubuntu, which has no dnf; give an https:// or s3:// .deb")
    if not v["workspace"]:
        for key in ("inputBuckets", "workExpiryDays"):
            if key in given:
                problems.append(f"{key}: only used with workspace=true (the task role and its bucket); remove {key}, "
                                "or remove workspace=false")
        if v["headQueue"] and "headQueue" in given:
            problems.append("headQueue: head jobs pass the workspace's task role to their tasks; set workspace=true too, "
                            "or remove headQueue")
    elif "workExpiryDays" in given and "workBucket" in given:
        problems.append("workExpiryDays: only applies to a work bucket the stack creates, and workBucket names yours; "
                        "set the expiry on your bucket, or remove workBucket")
    if not config.builds_head_queue:
        for key in ("headQueueMaxvCpus", "nextflowHeadImage"):
            if key in given:
                problems.append(f"{key}: only used with the head queue (headQueue=true and workspace=true); remove it")
    if "miniwdlEfsAccessPointId" in given and "miniwdlEfsFileSystemId" not in given:
        problems.append("miniwdlEfsFileSystemId: required with miniwdlEfsAccessPointId; give the access point's file system")
    cache = juicefs_node_disk_gib(v["juicefsCacheGib"]) if v["backend"] == "juicefs" else 0
    problem = rules.root_volume_problem(v["rootVolumeGib"], cache)
    if problem:
        problems.append(f"rootVolumeGib: {problem} (juicefsCacheGib sets the cache)" if cache else f"rootVolumeGib: {problem}")
    if v["compliance"] != "none" and v["logRetentionDays"] < _PROFILE_MIN_LOG_DAYS:
        problems.append(f"logRetentionDays: compliance={v['compliance']} keeps logs at least {_PROFILE_MIN_LOG_DAYS} days; "
                        f"give {_PROFILE_MIN_LOG_DAYS} or more, or leave it unset")
    if v["compliance"] != "none" and not config.uses_existing_vpc and not v["privateOnly"]:
        problems.append(f"compliance: {v['compliance']} with a new VPC needs privateOnly=true (no instance in a public "
                        "subnet); set privateOnly=true, or give vpcId and subnetIds")
    if v["backend"] == "juicefs" and v["juicefsSha256"] is not None:
        in_use = {architecture(v["managementInstanceType"])} | {architecture(t) for q in config.queues for t in q.instance_types}
        checksums = v["juicefsSha256"]
        if "*" in checksums and len(in_use) > 1:
            problems.append(
                "juicefsSha256: one checksum cannot match both the x86_64 and the arm64 tarball, and the server and "
                "queues use both; give one per architecture: amd64:<sha256>,arm64:<sha256>"
            )
        elif "*" not in checksums and in_use - set(checksums):
            lacking = ", ".join(sorted(in_use - set(checksums)))
            problems.append(f"juicefsSha256: no checksum for {lacking}, which the server or a queue uses; add it")
    return problems


def _queue_checks(config: MmBatchConfig) -> list[str]:
    problems = []
    for spec, n in zip(config.queues, [1, 2, 3] if config.values["multiQueue"] else [0]):
        keys = {s.props[0].partition(".")[2]: s.key for s in SETTINGS if s.queue == n}
        problems += [f"{keys['instance_types']}: {p}" for p in rules.instance_type_problems(spec.instance_types)]
        problem = rules.vcpu_problem(spec.min_vcpus, spec.max_vcpus, keys["min_vcpus"], keys["max_vcpus"])
        if problem:
            problems.append(f"{keys['min_vcpus']}: {problem}")
    return problems


def _warnings(config: MmBatchConfig) -> list[ConfigWarning]:
    v = config.values
    notes = []
    unused: dict[str, list[str]] = {}  # one warning per reason, naming each setting it covers once
    for setting in (s for s in SETTINGS if s.key in config.given and not config.applies(s)):
        if setting.backend is not None:
            why = f"with backend={v['backend']}: {{they apply}} to the {setting.backend} backend only"
        elif setting.queue == 0:
            why = "with multiQueue=true: {they set} the single queue, and jq1-jq3 settings set the three queues"
        else:
            why = "without multiQueue=true: {they set} queues JQ1-JQ3, which exist only with multiQueue=true"
        unused.setdefault(why, []).append(setting.key)
    for why, keys in unused.items():
        one = len(keys) == 1
        subject = keys[0] if one else ", ".join(keys[:-1]) + " and " + keys[-1]
        text = why.replace("{they apply}", "it applies" if one else "they apply").replace("{they set}", "it sets" if one else "they set")
        notes.append(ConfigWarning("unusedSetting", f"{subject} {'has' if one else 'have'} no effect {text}."))
    in_flight = v["juicefsMaxUploads"] * v["juicefsBlockSizeMib"]
    if v["backend"] == "juicefs" and v["juicefsBufferSizeMib"] < in_flight:
        notes.append(ConfigWarning(
            "juicefsBuffer",
            f"juicefsBufferSizeMib ({v['juicefsBufferSizeMib']}) is below juicefsMaxUploads x juicefsBlockSizeMib "
            f"({in_flight} MiB): uploads will wait for buffer space and checkpoints take longer."))
    if v["keyName"] and not v["adminCidr"]:
        notes.append(ConfigWarning("sshClosed", "keyName is set but adminCidr is not: SSH stays closed; use Session Manager or set adminCidr."))
    if v["privateOnly"] and config.uses_existing_vpc:
        notes.append(ConfigWarning(
            "privateOnlyExistingVpc",
            "privateOnly with vpcId: the management server gets no public IP, but compute nodes get one whenever "
            "your subnets assign public IPs on launch, which this app does not change; give private subnets in subnetIds."))
    if v["adminCidr"]:
        network = ipaddress.ip_network(v["adminCidr"])
        if not network.is_global and network.prefixlen < (16 if network.version == 4 else 48):
            notes.append(ConfigWarning(
                "adminCidrWide",
                f"adminCidr {v['adminCidr']} lets {network.num_addresses:,} private addresses reach the dashboard and API (8080)."))
    return notes

