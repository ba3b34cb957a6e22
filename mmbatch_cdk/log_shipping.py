"""LogShipping: retained CloudWatch log groups for node and server logs, and the agent boot script that fills them.

The CloudWatch agent's configuration is generated here (:func:`agent_config`), in one place, kept in an
SSM parameter per kind of instance, and read by the agent at boot (``amazon-cloudwatch-agent-ctl -a
fetch-config -m ec2 -s -c ssm:<name>``, as in "Installing the CloudWatch agent on EC2 instances using
your agent configuration": https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/install-CloudWatch-Agent-on-EC2-Instance-fleet.html ;
AWS's RFDK CloudWatchAgent construct does the same). Outside the user data, the configuration costs
none of EC2's 16 KiB user-data limit, and changing it re-configures no instance. Keys follow the agent's configuration file
reference (``logs.logs_collected.files.collect_list[]``: ``file_path``, ``log_group_name``,
``log_stream_name``): https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch-Agent-Configuration-File-Details.html
and its schema (github.com/aws/amazon-cloudwatch-agent, translator/config/schema.json).
``retention_in_days`` is left out on purpose: the stack owns the log groups and their retention.
"""

from __future__ import annotations

import re
from typing import Any, Optional, Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from .nag import acknowledge_compliance
from .package_source import package_source_problem, s3_object
from .user_data import render

__all__ = [
    "agent_package_problem",
    "LogShipping",
    "agent_config",
    "multi_log_stream",
    "node_collect_list",
    "server_collect_list",
    "NODE_BOOT_LOG",
    "UBUNTU_AGENT_URL",
    "retention_days",
]

NODE_BOOT_LOG = "/var/log/mmbatch/boot.log"
"""The compute nodes' boot log, which every node boot script appends to."""
NODE_AGENT_LOGS = "/var/log/memverge/*.log"
"""The MMBatch agent's logs on a node (pagent.log, mmrunc.log: file names unverified, hence the pattern)."""
SERVER_LOGS = "/var/log/mmab/*.log"
"""The management server's logs: MMAB's and the boot scripts' (:data:`SERVER_BOOT_LOG`, juicefs-format.log)."""
SERVER_BOOT_LOG = "/var/log/mmab/bootstrap.log"
"""The server boot script's log (``MMB_LOG`` in ``management_server.sh``), which the server's agent step writes too."""
CLOUD_INIT_LOGS = ("/var/log/cloud-init.log", "/var/log/cloud-init-output.log")
"""cloud-init's own log and the output (stdout and stderr) of every user-data script."""

UBUNTU_AGENT_URL = "https://amazoncloudwatch-agent.s3.amazonaws.com/ubuntu/{arch}/latest/amazon-cloudwatch-agent.deb"
"""AWS's download link for Ubuntu (``{arch}``: amd64 or arm64), as listed in "Verifying the signature of the
CloudWatch agent package": https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/verify-CloudWatch-Agent-Package-Signature.html"""

_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)
"""CloudWatch Logs' retention periods, in the order of ``logs.RetentionDays`` (which ends with INFINITE)."""

_INSTANCE = "{instance_id}"
_NOT_IN_A_STREAM_NAME = re.compile(r"[^.\-_#A-Za-z0-9]")
"""What the agent replaces with ``_`` in a file's path to name its stream (:func:`multi_log_stream`)."""


def agent_package_problem(kind: str, source: str) -> Optional[str]:
    """What ``cloudwatch_agent.sh`` could not install from ``source`` on a ``kind`` ("node", Amazon Linux 2023, or
    "server", Ubuntu), or None: the script installs a download by its file name, the URL's last part, with dpkg for
    ``*.deb`` and dnf otherwise, and dnf takes a file as a package only when its name ends in ``.rpm``."""
    if kind == "node":
        if source == "dnf" or source.endswith(".rpm"):
            return None
        return ("nodes run Amazon Linux 2023, whose dnf installs a downloaded package only by a name ending in .rpm; "
                "give dnf, or an https:// or s3:// URL ending in .rpm (lower case, no query string after it)")
    if source == "dnf":
        return "the server runs Ubuntu, which has no dnf; give an https:// or s3:// .deb"
    if not source.endswith(".deb"):
        return ("the server runs Ubuntu and installs the package with dpkg by its name; give an https:// or s3:// URL "
                "ending in .deb (lower case, no query string after it)")
    return None

def agent_config(collect_list: Sequence[tuple[str, str, str]]) -> dict[str, Any]:
    """The agent's logs-only configuration: each ``(file_path, log_group_name, log_stream_name)`` shipped as is.

    A ``file_path`` with a wildcard also gets ``publish_multi_logs``: without it the agent tails, at each scan, only
    the most recently modified file the pattern matches, all into one stream (``getTargetFiles`` in
    github.com/aws/amazon-cloudwatch-agent, ``plugins/inputs/logfile/logfile.go``), so a file written once while
    another was newer was never shipped; with it, each match gets its own stream (:func:`multi_log_stream`)."""
    return {
        "agent": {"run_as_user": "root"},
        "logs": {
            "logs_collected": {
                "files": {
                    "collect_list": [
                        {"file_path": path, "log_group_name": group, "log_stream_name": stream,
                         **({"publish_multi_logs": True} if "*" in path else {})}
                        for path, group, stream in collect_list
                    ]
                }
            }
        },
    }


def multi_log_stream(stream: str, path: str) -> str:
    """The stream the agent writes ``path`` to when a wildcard entry with ``publish_multi_logs`` and ``log_stream_name``
    ``stream`` matches it: ``<stream>_<path>``, every character of the path other than letters, digits and ``. - _ #``
    made ``_`` (``generateLogStreamName`` in the agent's ``logfile.go``): ``/var/log/mmab/bootstrap.log`` ->
    ``<stream>__var_log_mmab_bootstrap.log``."""
    return f"{stream}_{_NOT_IN_A_STREAM_NAME.sub('_', path)}"


def node_collect_list(boot_group: str, node_group: str) -> list[tuple[str, str, str]]:
    """A node's files: the boot log alone in ``boot_group`` (its metric filter counts each line once), the rest
    in ``node_group``, one stream per instance and source."""
    return [
        (NODE_BOOT_LOG, boot_group, _INSTANCE),
        (NODE_AGENT_LOGS, node_group, f"{_INSTANCE}/memverge"),
        *((path, node_group, f"{_INSTANCE}/{_stem(path)}") for path in CLOUD_INIT_LOGS),
    ]


def server_collect_list(server_group: str) -> list[tuple[str, str, str]]:
    """The management server's files, one stream per instance and source."""
    return [
        (SERVER_LOGS, server_group, f"{_INSTANCE}/mmab"),
        *((path, server_group, f"{_INSTANCE}/{_stem(path)}") for path in CLOUD_INIT_LOGS),
    ]


def retention_days(days: int) -> logs.RetentionDays:
    """The ``logs.RetentionDays`` of ``days`` (0: never expire); ValueError naming the accepted values otherwise."""
    members = list(logs.RetentionDays)
    if days == 0:
        return logs.RetentionDays.INFINITE
    if days not in _RETENTION_DAYS:
        raise ValueError(f"log retention of {days} days is not one CloudWatch Logs offers; use 0 (forever) or one of "
                         f"{', '.join(map(str, _RETENTION_DAYS))}")
    return members[_RETENTION_DAYS.index(days)]


def _stem(path: str) -> str:
    return path.rsplit("/", 1)[-1].removesuffix(".log")


class LogShipping(Construct):
    """Three log groups, the agent configurations, and the boot scripts that install the CloudWatch agent.

    ``node_boot_log_group`` holds each node's boot log (stream: the instance id), ``node_log_group`` the
    MMBatch agent's and cloud-init's logs of the nodes, ``server_log_group`` the management server's
    ``/var/log/mmab`` and cloud-init logs (streams ``<instance-id>/<source>``). The groups are retained on
    stack deletion. Put :meth:`node_part` and :meth:`server_part` first in the user data, so the agent
    ships the logs of any later step that fails. The agent's role needs only :meth:`grant_nodes` /
    :meth:`grant_server`: write to these groups, read of its configuration parameter (and of an ``s3://``
    package), not the broad ``CloudWatchAgentServerPolicy``. Instances in subnets without internet need
    VPC endpoints for CloudWatch Logs and SSM.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        node_agent_source: str = "dnf",
        node_agent_sha256: Optional[str] = None,
        server_agent_source: str = UBUNTU_AGENT_URL,
        server_agent_sha256: Optional[str] = None,
        encryption_key: Optional[kms.IKey] = None,
    ) -> None:
        """
        :param retention: how long the log groups keep events. Default: one month.
        :param node_agent_source: ``dnf`` (Amazon Linux's package, which reaches its repository through the S3
            gateway endpoint), or the ``https://`` or ``s3://`` URL of an ``.rpm`` (``{arch}``: amd64/arm64).
            Default: ``dnf``.
        :param node_agent_sha256: SHA-256 the downloaded node package must have (one architecture). Default: not verified.
        :param server_agent_source: ``https://`` or ``s3://`` URL of the ``.deb`` for the Ubuntu server (``{arch}``);
            an ``s3://`` copy serves subnets without internet. Default: AWS's download link, :data:`UBUNTU_AGENT_URL`.
        :param server_agent_sha256: SHA-256 the server package must have. Default: not verified.
        :param encryption_key: customer-managed key of the log groups (its key policy must admit CloudWatch Logs).
            Default: none (CloudWatch Logs' own encryption).
        """
        super().__init__(scope, id)
        for prop, source in (("node_agent_source", node_agent_source), ("server_agent_source", server_agent_source)):
            problem = None if prop == "node_agent_source" and source == "dnf" else package_source_problem(source)
            if problem:
                raise ValueError(f"LogShipping: {prop} {problem}" + (" (or dnf)" if prop == "node_agent_source" else ""))
            problem = agent_package_problem(prop.partition("_")[0], source)
            if problem:
                raise ValueError(f"LogShipping: {prop} {source!r}: {problem}")
        for prop, digest in (("node_agent_sha256", node_agent_sha256), ("server_agent_sha256", server_agent_sha256)):
            if digest is not None and not re.fullmatch(r"[0-9a-f]{64}", digest):
                raise ValueError(f"LogShipping: {prop} must be 64 lowercase hex digits (a SHA-256), got {digest!r}")
        self._sources = {"node": (node_agent_source, node_agent_sha256), "server": (server_agent_source, server_agent_sha256)}

        def group(name: str) -> logs.LogGroup:
            created = logs.LogGroup(self, name, retention=retention, encryption_key=encryption_key,
                                    removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE)
            if encryption_key is None:
                acknowledge_compliance(
                    created, "CloudWatchLogGroupEncrypted",
                    "CloudWatch Logs encrypts all log data at rest with its own keys; a customer-managed key for the "
                    "node and server logs is what compliance=hipaa adds.",
                )
            return created

        self.node_boot_log_group = group("NodeBootLogs")
        """Each node's ``/var/log/mmbatch/boot.log``, one stream per instance id."""
        self.node_log_group = group("NodeLogs")
        """Nodes' MMBatch agent (``/var/log/memverge``) and cloud-init logs."""
        self.server_log_group = group("ServerLogs")
        """The management server's ``/var/log/mmab`` and cloud-init logs."""

        self._parameter_names: dict[str, str] = {}
        stack = cdk.Stack.of(self)
        stack_name = stack.stack_name

        def parameter(name: str, config: dict[str, Any], kind: str) -> ssm.StringParameter:
            # A name known at synth time keeps the boot script free of deploy-time values, so it can be compressed.
            self._parameter_names[name] = f"/{stack_name}/cloudwatch-agent/{name}"
            return ssm.StringParameter(self, name, string_value=stack.to_json_string(config),
                                       parameter_name=self._parameter_names[name],
                                       description=f"CloudWatch agent configuration of the MMBatch {kind} (logs only)")

        self.node_config = parameter(
            "NodeAgentConfig", agent_config(node_collect_list(self.node_boot_log_group.log_group_name, self.node_log_group.log_group_name)),
            "compute nodes")
        """The nodes' agent configuration (:func:`agent_config` of :func:`node_collect_list`)."""
        self.server_config = parameter("ServerAgentConfig", agent_config(server_collect_list(self.server_log_group.log_group_name)),
                                       "management server")
        """The server's agent configuration (:func:`agent_config` of :func:`server_collect_list`)."""

    def node_script(self) -> str:
        """The compute nodes' boot script: install the agent, start it with :attr:`node_config`."""
        return self._script("node", self.node_config, NODE_BOOT_LOG)

    def server_script(self) -> str:
        """The management server's boot script: install the agent, start it with :attr:`server_config`."""
        return self._script("server", self.server_config, SERVER_BOOT_LOG)

    def grant_nodes(self, grantee: iam.IGrantable) -> None:
        """Let a node role write the node log groups (and read an ``s3://`` agent package)."""
        self._grant(grantee, "node", (self.node_boot_log_group, self.node_log_group))

    def grant_server(self, grantee: iam.IGrantable) -> None:
        """Let the server role write the server log group (and read an ``s3://`` agent package)."""
        self._grant(grantee, "server", (self.server_log_group,))

    def _script(self, kind: str, config: ssm.StringParameter, log: str) -> str:
        source, digest = self._sources[kind]
        name = self._parameter_names["NodeAgentConfig" if kind == "node" else "ServerAgentConfig"]
        settings = {"AGENT_SOURCE": source, "AGENT_SHA256": digest or "", "AGENT_LOG": log, "AGENT_CONFIG_PARAMETER": name}
        return render("cloudwatch_agent.sh", settings)

    def _grant(self, grantee: iam.IGrantable, kind: str, groups: Sequence[logs.LogGroup]) -> None:
        (self.node_config if kind == "node" else self.server_config).grant_read(grantee)
        for group in groups:
            group.grant_write(grantee)
            group.grant(grantee, "logs:DescribeLogStreams")
        source = self._sources[kind][0]
        found = s3_object(source)
        if found:
            bucket, key = found
            iam.Grant.add_to_principal(
                grantee=grantee,
                actions=["s3:GetObject"],
                resource_arns=[
                    cdk.Stack.of(self).format_arn(service="s3", region="", account="", resource=bucket, resource_name=name)
                    for name in sorted({key.replace("{arch}", arch) for arch in ("amd64", "arm64")})
                ],
            )

