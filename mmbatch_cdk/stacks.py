"""MmBatchStack: the deployable stack, built from an :class:`MmBatchConfig`."""

from __future__ import annotations

from typing import Any, Callable, Iterator, Mapping
from contextlib import contextmanager

import aws_cdk as cdk
from constructs import Construct

from . import wiring
from .aws_cli import AWS_CLI_PATH, AwsCliInstall
from .compliance import ComplianceProfile
from .config import SETTINGS, ConfigError, MmBatchConfig
from .cost import MonthlyBudget, apply_cost_tags
from .deployment import MmBatchDeployment
from .head_queue import HeadJobQueue
from .log_shipping import LogShipping
from .management_server import MMAB_PORT, ManagementServer
from .monitoring import Monitoring, apply_runnable_time_limits, runnable_time_limit_actions
from .network import Network
from .node_settings import NodeSettings
from .quickstart import QueueQuickstart
from .volume_cleanup import VolumeCleanup
from .storage import CheckpointStorage, CheckpointStorageEfs, CheckpointStorageJuiceFs
from .workspace import Workspace

__all__ = ["MmBatchStack", "STORAGE"]

STORAGE: Mapping[str, Callable[..., CheckpointStorage]] = {"efs": CheckpointStorageEfs, "juicefs": CheckpointStorageJuiceFs}
"""The checkpoint storage construct of each ``backend``; the config's ``efs`` / ``juicefs`` props are its keyword arguments."""


class MmBatchStack(cdk.Stack):
    """Network + checkpoint storage (by ``backend``) + ManagementServer + job queues, as the config describes."""

    def __init__(self, scope: Construct, id: str, *, config: MmBatchConfig, **kwargs: Any) -> None:
        """
        :param config: the validated settings.
        :param kwargs: passed to :class:`aws_cdk.Stack` (``stack_name``, ``synthesizer``, ...).
        """
        super().__init__(scope, id, **kwargs)
        self.config = config
        """The settings this stack was built from."""
        for acknowledged in config.acknowledged:
            cdk.Annotations.of(self).acknowledge_warning(acknowledged, "accepted with -c acknowledge")
        for warning in config.warnings:
            cdk.Annotations.of(self).add_warning_v2(warning.annotation_id, warning.text)

        self.compliance = ComplianceProfile(self, "Compliance") if config.compliance == "hipaa" else None
        """With ``compliance=hipaa``: the KMS key, AWS Backup plan and access-log bucket; else None."""
        profile = self.compliance.props if self.compliance else _no_profile
        with _settings_of(config, "network"):
            self.network = Network(self, "Network", **config.props("network"), **profile("network"))
            """The VPC and subnets."""
        with _settings_of(config, config.backend):
            self.storage = STORAGE[config.backend](
                self, "CheckpointStorage", vpc=self.network.vpc, vpc_subnets=self.network.storage_subnets,
                **config.props(config.backend), **profile(config.backend),
            )
            """The checkpoint storage."""
        with _settings_of(config, "logs"):
            self.log_shipping = LogShipping(self, "LogShipping", **config.props("logs"), **profile("logs"))
            """The log groups of nodes and server, and the CloudWatch agent that fills them."""
        with _settings_of(config, "server"):
            self.management_server = ManagementServer(
                self,
                "ManagementServer",
                vpc=self.network.vpc,
                vpc_subnets=self.network.management_subnets,
                # A new private VPC's subnets assign no public IP; an existing VPC's may, so refuse one explicitly.
                public_ip=False if self.network.private_only and config.uses_existing_vpc else None,
                security_groups=self.network.extra_security_groups,
                log_shipping=self.log_shipping,
                **config.props("server"),
                **profile("server"),
            )
            """The MMAB management server."""
        aws_cli = AwsCliInstall(**config.props("awscli")) if config.installs_aws_cli else None
        with _settings_of(config, "nodes", "queue", "awscli"):
            # "Default" keeps the composite out of logical ids: its resources keep the ids they had before it existed.
            self.deployment = MmBatchDeployment(
                self,
                "Default",
                vpc=self.network.vpc,
                storage=self.storage,
                management_server=self.management_server,
                queues=config.queues,
                node_settings=NodeSettings(**config.props("nodes"), aws_cli=aws_cli, log_shipping=self.log_shipping,
                                           ssm_register_tag=self.management_server.deployment_tag
                                           if config.ssm_register_tagged else None),
                vpc_subnets=self.network.compute_subnets,
                security_groups=self.network.extra_security_groups,
                **profile("deployment"),
            )
            """Storage, server and queues wired together."""
        self.queues = self.deployment.queues
        """Each job queue's compute, by name: ``{"": ...}`` for the single queue, ``Jq1``... with ``multiQueue``."""
        with _settings_of(config, "workspace"):
            self.workspace = Workspace(self, "Workspace", **config.props("workspace"), **profile("workspace")) \
                if config.workspace else None
            """The work bucket, input locations and task job role (``workspace``); None with ``workspace=false``."""
        work_bucket = self.workspace.bucket_name if self.workspace else config.work_bucket
        with _settings_of(config, "quickstart"):
            self.quickstarts = {
                name: QueueQuickstart(self, f"Quickstart{name}", compute=compute, name=name,
                                      cli_path=AWS_CLI_PATH if aws_cli else None, work_bucket=work_bucket,
                                      job_role=self.workspace.task_role if self.workspace else None,
                                      **config.props("quickstart"))
                for name, compute in self.queues.items()
            }
            """Per queue: the smoke-test job, the engine configurations and (with ``drill``) the FIS drill."""
        self.head_queue = None
        """The head-job queue (``headQueue``); None without it."""
        if self.workspace is not None and config.builds_head_queue:
            with _settings_of(config, "head"):
                self.head_queue = HeadJobQueue(
                    self, "HeadQueue", vpc=self.network.vpc, workspace=self.workspace,
                    vpc_subnets=self.network.compute_subnets, security_groups=self.network.extra_security_groups,
                    assign_public_ip=not config.private_only,
                    nextflow_config=next(iter(self.quickstarts.values())).parameters["nextflow"],
                    cromwell_config=next(iter(self.quickstarts.values())).parameters["cromwell"],
                    # The first queue's job log group: kept, encrypted and retained as the settings say.
                    log_group=next(iter(self.queues.values())).job_log_group, **config.props("head"),
                )
                for compute in self.queues.values():
                    wiring.submit_from_head(self.head_queue, compute)
        self.volume_cleanup = None
        """With ``ebsCleanupOnDelete``: the custom resource that deletes leftover per-job EBS volumes; else None."""
        if config.ebs_cleanup_on_delete:
            with _settings_of(config, "cleanup"):
                # Deleted after the server and every compute environment, whose nodes hold the attached volumes.
                self.volume_cleanup = VolumeCleanup(
                    self, "EbsVolumeCleanup", tag=self.management_server.deployment_tag,
                    after=[self.management_server, *self.queues.values()],
                    **config.props("cleanup"), **profile("cleanup"))
        with _settings_of(config, "limits", "monitoring", "budget", "cost"):
            limits = runnable_time_limit_actions(**config.props("limits"))
            # The head queue too: a head job stuck RUNNABLE (no Fargate capacity, a subnet without a route) is cancelled
            # like any other, and its failures (a failed `nextflow run`) count in the failed-job alarm.
            job_queues = [compute.job_queue for compute in self.queues.values()]
            if self.head_queue is not None:
                job_queues.append(self.head_queue.job_queue)
            for queue in job_queues:
                apply_runnable_time_limits(queue, limits)
            self.monitoring = Monitoring(
                self,
                "Monitoring",
                job_queues=job_queues,
                management_server_instance_id=self.management_server.instance_id,
                node_boot_log_group=self.log_shipping.node_boot_log_group,
                server_log_group=self.log_shipping.server_log_group,
                **self.storage.monitored,
                **config.props("monitoring"),
            )
            """Alarms, their SNS topic and the dashboard."""
            if config.monthly_budget_usd is not None:
                MonthlyBudget(self, "Budget", prefix=config.prefix, **config.props("budget"))
            apply_cost_tags(self, config.prefix, **config.props("cost"))
        self._outputs()

    def _outputs(self) -> None:
        server = self.management_server
        instance_id = server.instance_id
        port_forward = (
            f"aws ssm start-session --target {instance_id} --document-name AWS-StartPortForwardingSession "
            f"--parameters portNumber={MMAB_PORT},localPortNumber={MMAB_PORT}"
        )
        outputs = {
            "ManagementServerUrl": (server.url, "MMAB dashboard and API inside the VPC"),
            "ManagementServerInstanceId": (instance_id, "Management server instance (Session Manager target)"),
            "ManagementPortForwardCommand": (
                port_forward,
                f"Run this, then open https://localhost:{MMAB_PORT} (self-signed certificate)",
            ),
            **{
                f"JobQueueArn{name}": (compute.job_queue.job_queue_arn, f"Submit checkpointed jobs here ({', '.join(compute.instance_types[:2])}...)")
                for name, compute in self.queues.items()
            },
            "JobLogGroupName": (self.deployment.job_log_group_name, "Log group for job logs"),
            "DashboardUrl": (self.monitoring.dashboard_url, "CloudWatch dashboard of this deployment"),
            "AlarmTopicArn": (self.monitoring.topic.topic_arn, "SNS topic the alarms publish to"),
            "EventTopicArn": (self.monitoring.event_topic.topic_arn,
                              "SNS topic of each failed job, RUNNABLE cancellation and Spot warning (subscribe to see them)"),
            "NodeBootLogGroupName": (self.log_shipping.node_boot_log_group.log_group_name, "Nodes' boot logs (one stream per instance)"),
            "NodeLogGroupName": (self.log_shipping.node_log_group.log_group_name, "Nodes' MMBatch agent and cloud-init logs"),
            "ServerLogGroupName": (self.log_shipping.server_log_group.log_group_name, "Management server's /var/log/mmab and cloud-init logs"),
            "Checkpointing": (
                "on" if server.installs_mmab else "OFF: no mmabSource, so nodes run jobs without the MMBatch agent",
                "Whether jobs are checkpointed (docs/deploy.md 'Installing MMAB')",
            ),
            "CheckpointInterval": (server.ckpt_interval, "Checkpoint interval the server sets in MMAB at boot (mmbatch-cdk verify compares)"),
            **self.storage.outputs,
            **(self.workspace.outputs if self.workspace else {}),
            **(self.head_queue.outputs if self.head_queue else {}),
            **({"MiniwdlSelfTestCommand": (
                self.head_queue.miniwdl_submit_command(next(iter(self.queues.values())).job_queue,
                                                       fsap=self.config.miniwdl_efs_access_point_id or "fsap-..."),
                "Run miniwdl's self test: its workflow job on the head queue, its tasks on the Spot queue")}
               if self.head_queue else {}),
            **(self.compliance.outputs if self.compliance else {}),
        }
        for key, (value, description) in outputs.items():
            cdk.CfnOutput(self, key, value=value, description=description)


def _no_profile(target: str) -> dict[str, Any]:
    """No compliance profile: no props beyond the settings'."""
    return {}


@contextmanager
def _settings_of(config: MmBatchConfig, *targets: str) -> Iterator[None]:
    """Report an error a construct raises while being built from settings as a ConfigError naming those settings."""
    try:
        yield
    except ConfigError:
        raise
    except Exception as err:  # jsii errors from aws-cdk-lib arrive as RuntimeError, ours as ValueError
        keys = [s.key for s in SETTINGS if s.key in config.given and any(p.partition(".")[0] in targets for p in s.props)]
        named = ", ".join(keys) if keys else "the defaults"
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ConfigError([f"{named}: rejected while building {', '.join(targets)}: {first_line}"]) from None
