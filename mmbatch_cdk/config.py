"""Every setting of the mmbatch-cdk app, read once from CDK context and validated.

Nothing else in the project reads context. :class:`MmBatchConfig` is frozen and typed;
:meth:`MmBatchConfig.from_context` collects every problem before it raises, so a user sees
all of their mistakes in one message rather than one per synth.

Values arrive as strings from ``cdk synth -c key=value`` and as JSON types from ``cdk.json``;
every parser accepts both.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Sequence

from .instance_types import architecture, sizes

__all__ = ["ConfigError", "MmBatchConfig", "SETTINGS", "Setting", "DEFAULT_INSTANCE_TYPES"]

DEFAULT_INSTANCE_TYPES: tuple[str, ...] = (
    "m6i.large",
    "m6i.xlarge",
    "m6i.2xlarge",
    "m6i.4xlarge",
    "m6i.8xlarge",
    "m6i.12xlarge",
    "m6i.16xlarge",
)
"""The seed template's ``InstanceTypes`` default."""


class ConfigError(Exception):
    """One or more settings are invalid. ``problems`` lists each one, naming its key."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        head = f"mmbatch-cdk: {count} setting{'s' if count != 1 else ''} not valid; nothing was synthesized."
        super().__init__("\n".join([head, *(f"  - {p}" for p in self.problems)]))


class _Invalid(ValueError):
    """Raised by a parser; the message says what is accepted."""


# ----------------------------------------------------------------------------- parsers

_SUBNET_RE = re.compile(r"^subnet-([0-9a-f]{8}|[0-9a-f]{17})$")
_VPC_RE = re.compile(r"^vpc-([0-9a-f]{8}|[0-9a-f]{17})$")
_SG_RE = re.compile(r"^sg-([0-9a-f]{8}|[0-9a-f]{17})$")
_PREFIX_RE = re.compile(r"^(?=.{1,20}$)[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_INSTANCE_TYPE_RE = re.compile(r"^[a-z][a-z0-9-]*[0-9][a-z0-9-]*(\.[a-z0-9-]+)?$")
_NODE_TYPE_RE = re.compile(r"^db\.[a-z0-9]+\.[a-z0-9]+$")
_VERSION_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._+-]{0,63}$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_DURATION_RE = re.compile(r"^([1-9][0-9]*)([smh])$")
_KEY_NAME_RE = re.compile(r"^[\x20-\x7e]{1,255}$")


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


def _list_of(item: Callable[[Any], str], what: str, *, min_items: int = 1) -> Callable[[Any], tuple[str, ...]]:
    def parse(value: Any) -> tuple[str, ...]:
        if isinstance(value, str):
            raw = [part for part in (p.strip() for p in value.split(",")) if part]
        elif isinstance(value, (list, tuple)):
            raw = list(value)
        else:
            raise _Invalid(f"{value!r} is not accepted; expected a comma-separated list of {what}")
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
        if _DURATION_RE.match(text) and minimum_s <= duration_seconds(text) <= maximum_s:
            return text
        raise _Invalid(
            f"{text!r} is not accepted; expected a duration such as 90s, 15m or 1h "
            f"between {minimum_s}s and {maximum_s}s"
        )

    return parse


_GO_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")
_GO_DURATION_RE = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h))+")


def duration_seconds(text: str) -> float:
    """Seconds in a duration: the config's ``90s``, ``15m``, ``1h``, or any Go duration the ECS agent takes
    (``2m30s``, ``90000ms``)."""
    if not _GO_DURATION_RE.fullmatch(text):
        raise ValueError(f"not a duration: {text!r}")
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(number) * units[unit] for number, unit in _GO_DURATION_PART.findall(text))


# ----------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Setting:
    """One context key: its parser, default, documentation and the seed parameter it maps to."""

    key: str
    attr: str
    parse: Callable[[Any], Any]
    default: Any
    doc: str
    seed: Optional[str] = None


SETTINGS: tuple[Setting, ...] = (
    Setting("backend", "backend", _choice("efs", "juicefs"), "efs",
            "Checkpoint storage: `efs` or `juicefs` (S3 + MemoryDB)."),
    Setting("prefix", "prefix", _pattern(_PREFIX_RE, "1-20 lowercase letters, digits and single hyphens, starting with a letter"),
            "mmbatch", "Names and tags resources; lowercase letters, digits, hyphens (max 20).", "UniquePrefix"),
    Setting("vpcId", "vpc_id", _pattern(_VPC_RE, "a VPC id such as vpc-0123456789abcdef0"), None,
            "Deploy into this existing VPC (needs `subnetIds`). Unset: a new VPC is created.", "VpcId / VPCID"),
    Setting("subnetIds", "subnet_ids", _list_of(_pattern(_SUBNET_RE, "subnet ids"), "subnet ids such as subnet-0123456789abcdef0"),
            (), "Subnets for compute nodes and storage (comma list). JuiceFS: at least 2, in different AZs.",
            "SubnetId (EFS) / SubnetIds (JuiceFS)"),
    Setting("managementSubnetId", "management_subnet_id", _pattern(_SUBNET_RE, "a subnet id such as subnet-0123456789abcdef0"),
            None, "Subnet of the management server. Default: the first of `subnetIds`.", "SubnetId (JuiceFS)"),
    Setting("securityGroupId", "security_group_id", _pattern(_SG_RE, "a security group id such as sg-0123456789abcdef0"),
            None, "An existing security group added to the management server and compute nodes (never modified).",
            "SecurityGroupId"),
    Setting("keyName", "key_name", _pattern(_KEY_NAME_RE, "an EC2 key pair name (1-255 printable ASCII characters)"),
            None, "EC2 key pair for SSH. Port 22 opens only when `adminCidr` is also set; Session Manager works without it.",
            "KeyName"),
    Setting("instanceTypes", "instance_types",
            _list_of(_pattern(_INSTANCE_TYPE_RE, "instance types"), "instance types or families such as m6i.large or c7i"),
            DEFAULT_INSTANCE_TYPES, "Compute instance types (comma list), all of one CPU architecture.", "InstanceTypes"),
    Setting("minvCpus", "min_vcpus", _integer(0), 0, "Minimum vCPUs kept running by the compute environment.", "MinvCpus"),
    Setting("maxvCpus", "max_vcpus", _integer(1), 256, "Maximum vCPUs of the compute environment.", "MaxvCpus"),
    Setting("mmabVersion", "mmab_version", _pattern(_VERSION_RE, "a release name such as 1.4.0-release"),
            "1.4.0-release", "MMAB release installed on the management server.", "MMABVersion"),
    Setting("mmabSource", "mmab_source", _install_source, None,
            "Where the MMAB installer comes from: `https://...` or `s3://bucket/key`, `{version}` is replaced "
            "by `mmabVersion`. A `.deb` is installed with apt, anything else is run with bash. "
            "Unset: the server boots without MMAB and says so (synth warns)."),
    Setting("mmabSha256", "mmab_sha256", _pattern(_SHA256_RE, "64 lowercase hex digits"), None,
            "SHA-256 of the installer; the download is rejected if it differs."),
    Setting("managementInstanceType", "management_instance_type", _pattern(_INSTANCE_TYPE_RE, "an instance type such as m6i.large"),
            "m6i.large", "Instance type of the management server (x86_64 or arm64; the Ubuntu image follows)."),
    Setting("redisNodeType", "redis_node_type", _pattern(_NODE_TYPE_RE, "a MemoryDB node type such as db.t4g.small"),
            "db.t4g.small", "MemoryDB node type for the JuiceFS metadata clusters.", "RedisNodeType"),
    Setting("juicefsVersion", "juicefs_version", _pattern(re.compile(r"^1\.[0-9]+\.[0-9]+$"), "a JuiceFS 1.x release such as 1.3.1"),
            "1.3.1", "JuiceFS client release installed on nodes and the server (juicefs backend)."),
    Setting("juicefsSha256", "juicefs_sha256", _pattern(_SHA256_RE, "64 lowercase hex digits"), None,
            "SHA-256 of the JuiceFS tarball for the nodes' architecture. Unset: checked against the release's checksums.txt."),
    Setting("juicefsCacheGib", "juicefs_cache_gib", _integer(1, 16384), 50,
            "Local JuiceFS cache per volume on each node, in GiB (added to the root volume)."),
    Setting("juicefsMaxUploads", "juicefs_max_uploads", _integer(1, 200), 40,
            "JuiceFS `--max-uploads`: parallel S3 uploads per mount. 40 (JuiceFS: 20) lets a 25 Gbps node write at full speed."),
    Setting("juicefsBlockSizeMib", "juicefs_block_size_mib", _choice_int(1, 2, 4, 8, 16), 4,
            "JuiceFS block size in MiB, fixed when a volume is formatted (later changes do not apply to it)."),
    Setting("juicefsBufferSizeMib", "juicefs_buffer_size_mib", _integer(32, 16384), 300,
            "JuiceFS `--buffer-size` per mount, in MiB: memory holding data not yet uploaded."),
    Setting("efsThroughputMode", "efs_throughput_mode", _choice("elastic", "bursting", "provisioned"), "elastic",
            "EFS throughput mode: `elastic` scales with checkpoint bursts and bills per use."),
    Setting("efsProvisionedMibps", "efs_provisioned_mibps", _integer(1, 10240), None,
            "With `efsThroughputMode=provisioned`: the file system's throughput in MiB/s (required then)."),
    Setting("multiQueue", "multi_queue", _boolean, False, "Three job queues (compute, general, memory) instead of one.",
            "EnableMultiQueue"),
    Setting("privateOnly", "private_only", _boolean, False,
            "No public IPs. A new VPC then gets private subnets and one NAT gateway."),
    Setting("spot", "spot", _boolean, True, "Spot capacity (price-capacity-optimized); `false` for On-Demand."),
    Setting("adminCidr", "admin_cidr", _cidr, None,
            "Address range allowed to reach the dashboard (8080) and, with `keyName`, SSH. Unset: no such ingress."),
    Setting("removalPolicy", "removal_policy", _choice("retain", "destroy"), "retain",
            "What happens to checkpoint storage when the stack is deleted. Log groups (job logs, VPC flow "
            "logs) are always retained and expire after one month."),
    Setting("ckptInterval", "ckpt_interval", _duration(180, 24 * 3600), "15m",
            "Checkpoint interval set on the management server (longer than the 2-minute Spot notice)."),
    Setting("ecsStopTimeout", "ecs_stop_timeout", _duration(30, 3600), "110s",
            "ECS_CONTAINER_STOP_TIMEOUT: time a stopping job gets for its final checkpoint (just under the Spot notice)."),
    Setting("ecsStartTimeout", "ecs_start_timeout", _duration(180, 4 * 3600), "16m",
            "ECS_CONTAINER_START_TIMEOUT: a restore runs at container start."),
    Setting("ecsCreateTimeout", "ecs_create_timeout", _duration(180, 4 * 3600), "15m",
            "ECS_CONTAINER_CREATE_TIMEOUT: a restore may pull a large image first."),
    Setting("rootVolumeGib", "root_volume_gib", _integer(30, 16384), 30,
            "Root volume (gp3, encrypted) of each compute node, before any storage cache."),
)

_QUEUE_DEFAULTS = {
    "jq1": ("c7i", "compute-optimized, highest priority"),
    "jq2": ("m7i", "general purpose"),
    "jq3": ("r7i", "memory-optimized, lowest priority"),
}


def _queue_settings() -> tuple[Setting, ...]:
    settings = []
    for queue, (family, role) in _QUEUE_DEFAULTS.items():
        settings += [
            Setting(f"{queue}InstanceTypes", f"{queue}_instance_types",
                    _list_of(_pattern(_INSTANCE_TYPE_RE, "instance types"), "instance types or families such as c7i.large or c7i"),
                    sizes(family), f"With `multiQueue`: {queue.upper()} ({role}) instance types."),
            Setting(f"{queue}MinvCpus", f"{queue}_min_vcpus", _integer(0), 0, f"With `multiQueue`: {queue.upper()} minimum vCPUs."),
            Setting(f"{queue}MaxvCpus", f"{queue}_max_vcpus", _integer(1), 256, f"With `multiQueue`: {queue.upper()} maximum vCPUs."),
        ]
    return tuple(settings)


SETTINGS = SETTINGS + _queue_settings()
_BY_KEY = {s.key: s for s in SETTINGS}

# Context keys CDK itself or the CLI may pass; never reported as unknown.
_FOREIGN_KEY = re.compile(r"[:@/]")


@dataclass(frozen=True)
class MmBatchConfig:
    """The validated settings of one deployment. Build it with :meth:`from_context`."""

    backend: str = "efs"
    prefix: str = "mmbatch"
    vpc_id: Optional[str] = None
    subnet_ids: tuple[str, ...] = ()
    management_subnet_id: Optional[str] = None
    security_group_id: Optional[str] = None
    key_name: Optional[str] = None
    instance_types: tuple[str, ...] = DEFAULT_INSTANCE_TYPES
    min_vcpus: int = 0
    max_vcpus: int = 256
    mmab_version: str = "1.4.0-release"
    mmab_source: Optional[str] = None
    mmab_sha256: Optional[str] = None
    management_instance_type: str = "m6i.large"
    redis_node_type: str = "db.t4g.small"
    juicefs_version: str = "1.3.1"
    juicefs_sha256: Optional[str] = None
    juicefs_cache_gib: int = 50
    juicefs_max_uploads: int = 40
    juicefs_block_size_mib: int = 4
    juicefs_buffer_size_mib: int = 300
    efs_throughput_mode: str = "elastic"
    efs_provisioned_mibps: Optional[int] = None
    multi_queue: bool = False
    private_only: bool = False
    spot: bool = True
    admin_cidr: Optional[str] = None
    removal_policy: str = "retain"
    ckpt_interval: str = "15m"
    ecs_stop_timeout: str = "110s"
    ecs_start_timeout: str = "16m"
    ecs_create_timeout: str = "15m"
    root_volume_gib: int = 30
    jq1_instance_types: tuple[str, ...] = sizes("c7i")
    jq1_min_vcpus: int = 0
    jq1_max_vcpus: int = 256
    jq2_instance_types: tuple[str, ...] = sizes("m7i")
    jq2_min_vcpus: int = 0
    jq2_max_vcpus: int = 256
    jq3_instance_types: tuple[str, ...] = sizes("r7i")
    jq3_min_vcpus: int = 0
    jq3_max_vcpus: int = 256
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_context(cls, node: Any) -> "MmBatchConfig":
        """Read every setting from a construct node's context (``app.node``)."""
        return cls.from_mapping(dict(node.get_all_context() or {}))

    @classmethod
    def from_mapping(cls, context: Mapping[str, Any]) -> "MmBatchConfig":
        """Validate a mapping of context keys to raw values; raise :class:`ConfigError` listing every problem."""
        problems: list[str] = []
        values: dict[str, Any] = {}
        for key in context:
            if key in _BY_KEY or _FOREIGN_KEY.search(key):
                continue
            close = difflib.get_close_matches(key, list(_BY_KEY), n=1, cutoff=0.75)
            if close:
                problems.append(f"{key}: unknown setting; did you mean {close[0]!r}?")
        for setting in SETTINGS:
            raw = context.get(setting.key)
            if raw is None or (isinstance(raw, str) and raw.strip() == ""):
                values[setting.attr] = setting.default
                continue
            try:
                values[setting.attr] = setting.parse(raw)
            except _Invalid as err:
                values[setting.attr] = setting.default
                problems.append(f"{setting.key}: {err}")
        problems.extend(_cross_checks(values, context))
        if problems:
            raise ConfigError(problems)
        return cls(**values, warnings=tuple(_warnings(values, context)))

    @property
    def uses_existing_vpc(self) -> bool:
        """True when ``vpcId`` was given."""
        return self.vpc_id is not None


def _given(context: Mapping[str, Any], key: str) -> bool:
    raw = context.get(key)
    return raw is not None and not (isinstance(raw, str) and raw.strip() == "")


def _cross_checks(values: dict[str, Any], context: Mapping[str, Any]) -> list[str]:
    problems = []
    if values["min_vcpus"] > values["max_vcpus"]:
        problems.append(
            f"minvCpus: {values['min_vcpus']} is greater than maxvCpus ({values['max_vcpus']}); "
            "expected minvCpus <= maxvCpus"
        )
    if not _given(context, "vpcId"):
        for key in ("subnetIds", "managementSubnetId", "securityGroupId"):
            if _given(context, key):
                problems.append(f"{key}: only used with an existing VPC; set vpcId too, or remove {key} to create a new VPC")
    elif not _given(context, "subnetIds"):
        problems.append("subnetIds: required with vpcId (subnets are not looked up); give a comma-separated list")
    elif values["backend"] == "juicefs" and len(values["subnet_ids"]) < 2:
        problems.append(
            "subnetIds: the juicefs backend needs at least 2 subnets in different availability zones "
            "(MemoryDB keeps a replica in a second zone)"
        )
    if values["efs_throughput_mode"] == "provisioned" and values["efs_provisioned_mibps"] is None:
        problems.append("efsProvisionedMibps: required with efsThroughputMode=provisioned; give the throughput in MiB/s")
    elif _given(context, "efsProvisionedMibps") and values["efs_throughput_mode"] != "provisioned":
        problems.append("efsProvisionedMibps: only used with efsThroughputMode=provisioned; set that too, or remove it")
    if _given(context, "mmabSha256") and not _given(context, "mmabSource"):
        problems.append("mmabSha256: only used with mmabSource; set mmabSource to the installer's location")
    for key, attr in [("instanceTypes", "instance_types")] + [(f"{q}InstanceTypes", f"{q}_instance_types") for q in _QUEUE_DEFAULTS]:
        archs = {t: architecture(t) for t in values[attr]}
        if len(set(archs.values())) > 1:
            by_arch = ", ".join(f"{t} ({a})" for t, a in archs.items())
            problems.append(
                f"{key}: mixes CPU architectures ({by_arch}); checkpoints restore only onto the "
                "architecture they were taken on, so list one architecture per queue"
            )
    for queue in _QUEUE_DEFAULTS:
        low, high = values[f"{queue}_min_vcpus"], values[f"{queue}_max_vcpus"]
        if low > high:
            problems.append(f"{queue}MinvCpus: {low} is greater than {queue}MaxvCpus ({high}); expected {queue}MinvCpus <= {queue}MaxvCpus")
    return problems


_BACKEND_KEYS = {
    "efs": ("efsThroughputMode", "efsProvisionedMibps"),
    "juicefs": ("juicefsVersion", "juicefsSha256", "juicefsCacheGib", "juicefsMaxUploads", "juicefsBlockSizeMib",
                "juicefsBufferSizeMib", "redisNodeType"),
}


def _warnings(values: dict[str, Any], context: Mapping[str, Any]) -> list[str]:
    notes = []
    for backend, keys in _BACKEND_KEYS.items():
        ignored = [key for key in keys if values["backend"] != backend and _given(context, key)]
        if ignored:
            notes.append(f"{', '.join(ignored)} only apply to backend={backend} and are ignored with backend={values['backend']}.")
    in_flight = values["juicefs_max_uploads"] * values["juicefs_block_size_mib"]
    if values["backend"] == "juicefs" and values["juicefs_buffer_size_mib"] < in_flight:
        notes.append(
            f"juicefsBufferSizeMib ({values['juicefs_buffer_size_mib']}) is below juicefsMaxUploads x juicefsBlockSizeMib "
            f"({in_flight} MiB): uploads will wait for buffer space and checkpoints take longer."
        )
    if values["key_name"] and not values["admin_cidr"]:
        notes.append("keyName is set but adminCidr is not: SSH stays closed; use Session Manager or set adminCidr.")
    return notes


def settings_table() -> str:
    """The settings as a Markdown table (the README carries this table; a test keeps them equal)."""
    rows = ["| Key | Seed parameter | Default | Meaning |", "|---|---|---|---|"]
    for s in SETTINGS:
        default = s.default
        if isinstance(default, tuple):
            default = ",".join(default) if default else "(none)"
        elif default is None:
            default = "(none)"
        elif isinstance(default, bool):
            default = str(default).lower()
        rows.append(f"| `{s.key}` | {s.seed or '-'} | `{default}` | {s.doc} |")
    return "\n".join(rows)
