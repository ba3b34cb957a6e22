"""The checks across settings: unknown keys, combinations that cannot deploy (errors), and valid settings that are
probably not what was meant (warnings)."""

from __future__ import annotations

import difflib
import ipaddress
from typing import Any, Mapping, Protocol

from .. import rules
from ..aws_cli import AWS_CLI_PINNED_SOURCE, AWS_CLI_VERSION
from ..instance_types import architecture
from ..log_shipping import agent_package_problem
from ..multi_queue import QueueSpec
from ..storage.juicefs import juicefs_node_disk_gib
from .errors import ConfigWarning
from .table import (
    _BY_KEY,
    _BY_LOWER_KEY,
    _DEFAULT_NEW_VPC_AZS,
    _MAX_NEW_VPC_AZS,
    _PROFILE_MIN_LOG_DAYS,
    SETTINGS,
    Setting,
    _foreign,
)


class _Config(Protocol):
    """What the checks read of :class:`~mmbatch_cdk.config.MmBatchConfig` (which runs them while it is built)."""

    @property
    def values(self) -> Mapping[str, Any]: ...
    @property
    def given(self) -> frozenset[str]: ...
    @property
    def queues(self) -> tuple[QueueSpec, ...]: ...
    @property
    def installs_aws_cli(self) -> bool: ...
    @property
    def builds_head_queue(self) -> bool: ...
    @property
    def uses_existing_vpc(self) -> bool: ...
    def applies(self, setting: Setting) -> bool: ...


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


def _cross_checks(config: _Config) -> list[str]:
    v, given = config.values, config.given
    problems = []
    if "vpcId" not in given:
        for key in ("subnetIds", "managementSubnetId", "securityGroupId", "computeSubnetIds"):
            if key in given:
                problems.append(f"{key}: only used with an existing VPC; set vpcId too, or remove {key} to create a new VPC")
    elif "subnetIds" not in given:
        problems.append("subnetIds: required with vpcId (subnets are not looked up); give a comma-separated list")
    elif v["backend"] == "juicefs" and len(v["subnetIds"]) < 2:
        problems.append(
            "subnetIds: the juicefs backend needs at least 2 subnets in different availability zones "
            "(MemoryDB keeps a replica in a second zone)"
        )
    problems += _zone_checks(config)
    if v["backend"] == "efs":
        if v["efsThroughputMode"] == "provisioned" and "efsProvisionedMibps" not in given:
            problems.append("efsProvisionedMibps: required with efsThroughputMode=provisioned; give the throughput in MiB/s")
        elif "efsProvisionedMibps" in given and v["efsThroughputMode"] != "provisioned":
            problems.append("efsProvisionedMibps: only used with efsThroughputMode=provisioned; set that too, or remove it")
    if v["ebsCleanupOnDelete"] and v["ebsScoping"] != "tag":
        problems.append("ebsCleanupOnDelete: deletes only volumes tagged with this deployment, and with "
                        "ebsScoping=account MMAB is not asked to tag them; set ebsScoping=tag, or leave ebsCleanupOnDelete out")
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
    for key, kind in (("cloudWatchAgentNodeSource", "node"), ("cloudWatchAgentServerSource", "server")):
        problem = agent_package_problem(kind, v[key])
        if problem:
            problems.append(f"{key}: {problem}")
    if v["cloudWatchAgentNodeSha256"] and "{arch}" in v["cloudWatchAgentNodeSource"] and len(queue_arches) > 1:
        problems.append("cloudWatchAgentNodeSha256: one checksum cannot match the package of both architectures the "
                        "queues use; give an architecture-free source, or leave the checksum out")
    if v["drill"] and not v["spot"]:
        problems.append("drill: the drill interrupts a Spot node, and spot=false runs On-Demand nodes only; set spot=true "
                        "or leave drill out")
    if "monthlyBudgetUsd" in given and "alarmEmail" not in given:
        problems.append("monthlyBudgetUsd: the budget mails its alerts to alarmEmail; set alarmEmail too")
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
        for key in ("headQueueMaxvCpus", "nextflowHeadImage", "cromwellHeadImage"):
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


def _zone_checks(config: _Config) -> list[str]:
    """Availability zones: a new VPC's named zones, and compute kept to fewer zones than storage spans."""
    v, given = config.values, config.given
    problems = []
    zones = v["availabilityZones"]
    if config.uses_existing_vpc:
        for key in ("availabilityZones", "computeAzCount"):
            if key in given:
                problems.append(f"{key}: only used with a new VPC; with vpcId your subnets set the zones (computeSubnetIds "
                                f"restricts compute to some of them), or remove vpcId to create a VPC")
        outside = [s for s in v["computeSubnetIds"] if s not in v["subnetIds"]]
        if outside and "subnetIds" in given:
            where = "EFS has its mount targets" if v["backend"] == "efs" else "storage is reachable"
            problems.append(f"computeSubnetIds: {', '.join(outside)} not among subnetIds, where {where}; "
                            "give a subset of subnetIds")
        return problems
    regions = {zone[:-1] for zone in zones}
    if len(regions) > 1:
        problems.append(f"availabilityZones: zones of {len(regions)} regions ({', '.join(sorted(regions))}); give zones of "
                        "the stack's region only")
    if len(zones) > _MAX_NEW_VPC_AZS:
        problems.append(f"availabilityZones: a new VPC spans at most {_MAX_NEW_VPC_AZS} zones (its 10.64.0.0/16 address "
                        f"space); give {_MAX_NEW_VPC_AZS} or fewer")
    if v["backend"] == "juicefs" and len(set(zones)) == 1:
        problems.append("availabilityZones: the juicefs backend needs at least 2 zones (MemoryDB keeps a replica in a "
                        "second zone); give 2, and computeAzCount=1 to keep compute nodes in one")
    vpc_zones = len(set(zones)) or _DEFAULT_NEW_VPC_AZS
    if v["computeAzCount"] is not None and v["computeAzCount"] > vpc_zones:
        problems.append(f"computeAzCount: {v['computeAzCount']} is more than the new VPC's {vpc_zones} zones "
                        "(availabilityZones); give at most that many")
    return problems


def _queue_checks(config: _Config) -> list[str]:
    problems = []
    for spec, n in zip(config.queues, [1, 2, 3] if config.values["multiQueue"] else [0]):
        keys = {s.props[0].partition(".")[2]: s.key for s in SETTINGS if s.queue == n}
        problems += [f"{keys['instance_types']}: {p}" for p in rules.instance_type_problems(spec.instance_types)]
        problem = rules.vcpu_problem(spec.min_vcpus, spec.max_vcpus, keys["min_vcpus"], keys["max_vcpus"])
        if problem:
            problems.append(f"{keys['min_vcpus']}: {problem}")
    return problems


def _warnings(config: _Config) -> list[ConfigWarning]:
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
