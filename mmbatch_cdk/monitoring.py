"""Monitoring: alarms on failing and stuck jobs, Spot interruptions, failed node boots, the server and storage; one dashboard.

Sources for the metrics and event patterns:

- Batch Job State Change events (``detail.status``, ``detail.jobQueue``, ``detail.statusReason``):
  https://docs.aws.amazon.com/batch/latest/userguide/batch_cwe_events.html
- jobStateTimeLimitActions, their reasons and the status reason of a job they cancel
  ("Canceled by JobStateTimeLimit action due to reason: ..."):
  https://docs.aws.amazon.com/batch/latest/userguide/job_stuck_in_runnable_capacity.html
- EventBridge's ``AWS/Events`` metrics (``Invocations`` by ``RuleName``: "the number of times a target is invoked
  by a rule in response to an event", sent only when not zero):
  https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-monitoring.html
- EC2 status checks and the recover action: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/UsingAlarmActions.html
- EFS metrics (``PercentIOLimit``, ``BurstCreditBalance``): https://docs.aws.amazon.com/efs/latest/ug/efs-metrics.html
- MemoryDB metrics, published per node: https://docs.aws.amazon.com/memorydb/latest/devguide/metrics.memorydb.html
- Encrypted topics need a customer managed key that lets CloudWatch use it:
  https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
"""

from __future__ import annotations

import re
from typing import Optional, Sequence

import aws_cdk as cdk
from aws_cdk import aws_batch as batch
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_efs as efs
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from .nag import acknowledge_compliance

__all__ = [
    "Monitoring",
    "FATAL_MARKER",
    "RUNNABLE_CANCEL_REASON_PREFIX",
    "TIME_LIMIT_RANGE_S",
    "MIN_COUNT_THRESHOLD",
    "PERCENT_RANGE",
    "CAPACITY_REASONS",
    "REASON_STRINGS",
    "MISCONFIGURATION_REASONS",
    "runnable_time_limit_actions",
    "apply_runnable_time_limits",
]

FATAL_MARKER = "mmbatch: FATAL"
"""What a node's fail-closed boot step writes at the start of its one fatal line in the boot log."""

RUNNABLE_CANCEL_REASON_PREFIX = "Canceled by JobStateTimeLimit action"
"""Start of the status reason AWS Batch gives a job that a jobStateTimeLimitAction cancelled."""

CAPACITY_REASONS = (batch.JobStateTimeLimitActionsReason.INSUFFICIENT_INSTANCE_CAPACITY,)
"""RUNNABLE reasons that may clear by themselves (Spot capacity comes back)."""
MISCONFIGURATION_REASONS = (
    batch.JobStateTimeLimitActionsReason.COMPUTE_ENVIRONMENT_MAX_RESOURCE,
    batch.JobStateTimeLimitActionsReason.JOB_RESOURCE_REQUIREMENT,
)
"""RUNNABLE reasons that never clear by waiting: no compute environment can ever run the job."""

REASON_STRINGS = {
    batch.JobStateTimeLimitActionsReason.INSUFFICIENT_INSTANCE_CAPACITY: "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY",
    batch.JobStateTimeLimitActionsReason.COMPUTE_ENVIRONMENT_MAX_RESOURCE: "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE",
    batch.JobStateTimeLimitActionsReason.JOB_RESOURCE_REQUIREMENT: "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT",
}
"""AWS Batch's ``reason`` string for each aws-cdk-lib reason (what ``batch.JobQueue`` itself renders)."""

TIME_LIMIT_RANGE_S = (600, 86400)
"""AWS Batch JobStateTimeLimitAction ``maxTimeSeconds``: "The minimum value is 600 (10 minutes) and the maximum value
is 86,400 (24 hours)", https://docs.aws.amazon.com/batch/latest/APIReference/API_JobStateTimeLimitAction.html);
the RUNNABLE timeout settings check this same bound, in minutes."""
_MIN_TIME_LIMIT_S, _MAX_TIME_LIMIT_S = TIME_LIMIT_RANGE_S
MIN_COUNT_THRESHOLD = 1
"""The smallest event-count alarm threshold: with ``>=`` and missing data not breaching, 0 would always alarm."""
PERCENT_RANGE = (0, 100)
"""Percentage alarm thresholds: above the first, at most the second (the metrics are percentages)."""
EFS_BURST_CREDIT_GIB_RANGE = (0, 1e9)
"""The burst-credit alarm's threshold in GiB: above the first, at most the second. EFS caps a balance at 2.1 TiB per
TiB stored (Amazon EFS User Guide, "Throughput modes"), so no file system nears a billion GiB; the bound keeps the
threshold in bytes (x 2**30) finite and a plain decimal in the template (JSON writers use an exponent from 1e21)."""
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CONSOLE_HOSTS = {"aws": "console.aws.amazon.com", "aws-cn": "console.amazonaws.cn", "aws-us-gov": "console.amazonaws-us-gov.com"}


def runnable_time_limit_actions(
    *, capacity_max_time: Optional[cdk.Duration] = None, misconfiguration_max_time: Optional[cdk.Duration] = None
) -> list[batch.JobStateTimeLimitAction]:
    """CANCEL actions for jobs stuck at the head of a queue in RUNNABLE, for ``batch.JobQueue(job_state_time_limit_actions=...)``.

    :param capacity_max_time: wait for Spot capacity this long (10 min to 24 h). Default: 4 hours (AWS Batch's example).
    :param misconfiguration_max_time: wait this long when no environment can ever run the job. Default: 10 minutes (the minimum).
    """
    actions = []
    for reasons, max_time, name in (
        (CAPACITY_REASONS, capacity_max_time or cdk.Duration.hours(4), "capacity_max_time"),
        (MISCONFIGURATION_REASONS, misconfiguration_max_time or cdk.Duration.minutes(10), "misconfiguration_max_time"),
    ):
        seconds = max_time.to_seconds()
        if not _MIN_TIME_LIMIT_S <= seconds <= _MAX_TIME_LIMIT_S:
            raise ValueError(f"{name} must be between 10 minutes and 24 hours (AWS Batch's limits), got {seconds:g} s")
        actions += [
            batch.JobStateTimeLimitAction(
                max_time=max_time,
                reason=reason,
                action=batch.JobStateTimeLimitActionsAction.CANCEL,
                state=batch.JobStateTimeLimitActionsState.RUNNABLE,
            )
            for reason in reasons
        ]
    return actions


def apply_runnable_time_limits(queue: batch.JobQueue, actions: Sequence[batch.JobStateTimeLimitAction]) -> None:
    """Set ``actions`` on a queue built without them (e.g. by :class:`BatchCompute`); prefer the L2 prop where you build the queue.

    CANCEL in RUNNABLE is the only action AWS Batch offers for ECS queues, so that is what is rendered.
    """
    for action in actions:
        if action.action not in (None, batch.JobStateTimeLimitActionsAction.CANCEL) or action.state not in (
            None, batch.JobStateTimeLimitActionsState.RUNNABLE
        ):
            raise ValueError("apply_runnable_time_limits: only CANCEL in RUNNABLE is supported (AWS Batch on ECS)")
    resource = queue.node.default_child
    assert isinstance(resource, batch.CfnJobQueue)
    resource.job_state_time_limit_actions = [
        batch.CfnJobQueue.JobStateTimeLimitActionProperty(
            action="CANCEL",
            max_time_seconds=int(action.max_time.to_seconds()),
            reason=REASON_STRINGS[action.reason],
            state="RUNNABLE",
        )
        for action in actions
    ]


class Monitoring(Construct):
    """An encrypted SNS topic, alarms that notify it, and one CloudWatch dashboard for a deployment.

    Alarms (each notifies :attr:`topic`; count alarms treat missing data as OK):

    - failed jobs: ``Batch Job State Change`` events with status FAILED on ``job_queues``, which an
      EventBridge rule publishes to :attr:`event_topic`, counted by the rule's ``AWS/Events Invocations``
      (Sum per 5 min);
    - jobs the queues' jobStateTimeLimitActions cancelled in RUNNABLE (same mechanism, matching the
      cancel's status reason);
    - events the rules could not deliver to :attr:`event_topic` (their ``FailedInvocations``);
    - Spot interruption warnings: EventBridge cannot filter by tag, so this counts every
      ``EC2 Spot Instance Interruption Warning`` of the account and region (Sum per hour);
    - node boot failures: a metric filter counts ``mmbatch: FATAL`` lines in ``node_boot_log_group``;
    - the management server's ``StatusCheckFailed_System`` (2 of 2 minutes; also EC2 automatic recovery)
      and ``StatusCheckFailed_Instance`` (3 of 3 minutes);
    - EFS ``PercentIOLimit`` (General Purpose mode with Bursting or Provisioned throughput; Elastic has
      a far higher I/O ceiling) and ``BurstCreditBalance`` (Bursting only);
    - MemoryDB ``CPUUtilization``, ``EngineCPUUtilization`` and ``DatabaseMemoryUsagePercentage``: the
      busiest node of the clusters, through a Metrics Insights query (MemoryDB publishes per node).

    The dashboard shows every alarm's state and graphs of the job, Spot and boot counts.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        job_queues: Sequence[batch.IJobQueue],
        management_server_instance_id: Optional[str] = None,
        node_boot_log_group: Optional[logs.ILogGroup] = None,
        server_log_group: Optional[logs.ILogGroup] = None,
        efs_file_system: Optional[efs.IFileSystem] = None,
        efs_throughput_mode: efs.ThroughputMode = efs.ThroughputMode.ELASTIC,
        efs_performance_mode: efs.PerformanceMode = efs.PerformanceMode.GENERAL_PURPOSE,
        memorydb_cluster_names: Sequence[str] = (),
        alarm_email: Optional[str] = None,
        metric_namespace: Optional[str] = None,
        failed_jobs_threshold: int = 1,
        runnable_cancellations_threshold: int = 1,
        spot_interruptions_per_hour: int = 20,
        boot_failures_threshold: int = 1,
        efs_percent_io_limit: float = 90,
        efs_burst_credit_balance_gib: float = 360,
        memorydb_cpu_percent: float = 80,
        memorydb_engine_cpu_percent: float = 90,
        memorydb_memory_percent: float = 80,
    ) -> None:
        """
        :param job_queues: the deployment's job queues (failed and cancelled jobs are counted on these only).
        :param management_server_instance_id: the MMAB server, for status-check alarms and recovery. Default: none.
        :param node_boot_log_group: where nodes ship their boot log (LogShipping.node_boot_log_group). Default: no
            boot-failure alarm.
        :param server_log_group: where the management server ships ``/var/log/mmab`` (LogShipping.server_log_group);
            a ``mmbatch: FATAL`` line there (MMAB's API refused a setting or demands a login) raises
            ``ServerBootFailures``. Default: no such alarm.
        :param efs_file_system: EFS checkpoint storage to watch. Default: none.
        :param efs_throughput_mode: its throughput mode, which decides the alarms that apply. Default: ELASTIC.
        :param efs_performance_mode: its performance mode. Default: GENERAL_PURPOSE.
        :param memorydb_cluster_names: MemoryDB clusters to watch (JuiceFS metadata). Default: none.
        :param alarm_email: address subscribed to the alarm topic (it must confirm the subscription). Default: none.
        :param metric_namespace: namespace of the boot-failure metric. Default: ``MMBatch/<stack name>``.
        :param failed_jobs_threshold: failed jobs in 5 minutes that raise the alarm. Default: 1.
        :param runnable_cancellations_threshold: jobs cancelled in RUNNABLE in 5 minutes that raise the alarm. Default: 1.
        :param spot_interruptions_per_hour: Spot interruption warnings in an hour (whole region) that raise the
            alarm; interruptions are expected, a storm is worth knowing. Default: 20.
        :param boot_failures_threshold: failed node boots in 5 minutes that raise the alarm. Default: 1.
        :param efs_percent_io_limit: EFS PercentIOLimit (average over 15 minutes) that raises the alarm. Default: 90.
        :param efs_burst_credit_balance_gib: EFS burst credits below which the alarm is raised; 360 GiB is an hour of
            bursting at 100 MiB/s. Default: 360.
        :param memorydb_cpu_percent: a node's CPUUtilization (15 minutes) that raises the alarm. Default: 80.
        :param memorydb_engine_cpu_percent: a node's EngineCPUUtilization (15 minutes) that raises the alarm. Default: 90.
        :param memorydb_memory_percent: a node's DatabaseMemoryUsagePercentage that raises the alarm. Default: 80.
        """
        super().__init__(scope, id)
        if not job_queues:
            raise ValueError("Monitoring: job_queues must name at least one job queue")
        if alarm_email is not None and not _EMAIL.match(alarm_email):
            raise ValueError(f"Monitoring: alarm_email {alarm_email!r} is not an email address")
        for name, value in (("failed_jobs_threshold", failed_jobs_threshold),
                            ("runnable_cancellations_threshold", runnable_cancellations_threshold),
                            ("spot_interruptions_per_hour", spot_interruptions_per_hour),
                            ("boot_failures_threshold", boot_failures_threshold)):
            if value < MIN_COUNT_THRESHOLD:
                raise ValueError(f"Monitoring: {name} must be at least {MIN_COUNT_THRESHOLD}, got {value}")
        for name, percent in (("efs_percent_io_limit", efs_percent_io_limit), ("memorydb_cpu_percent", memorydb_cpu_percent),
                              ("memorydb_engine_cpu_percent", memorydb_engine_cpu_percent),
                              ("memorydb_memory_percent", memorydb_memory_percent)):
            if not PERCENT_RANGE[0] < percent <= PERCENT_RANGE[1]:
                raise ValueError(f"Monitoring: {name} must be a percentage above {PERCENT_RANGE[0]} and at most "
                                 f"{PERCENT_RANGE[1]}, got {percent}")
        if not EFS_BURST_CREDIT_GIB_RANGE[0] < efs_burst_credit_balance_gib <= EFS_BURST_CREDIT_GIB_RANGE[1]:
            raise ValueError(f"Monitoring: efs_burst_credit_balance_gib must be above {EFS_BURST_CREDIT_GIB_RANGE[0]} and "
                             f"at most {EFS_BURST_CREDIT_GIB_RANGE[1]:g}, got {efs_burst_credit_balance_gib}")
        stack = cdk.Stack.of(self)

        key = kms.Key(
            self,
            "TopicKey",
            description="Encrypts the MMBatch alarm and event topics; CloudWatch alarms of this account may use it",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.DESTROY,
            pending_window=cdk.Duration.days(7),
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": stack.format_arn(service="cloudwatch", resource="alarm", resource_name="*",
                                                                  arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)},
                },
            )
        )
        self.topic = sns.Topic(self, "AlarmTopic", display_name="MMBatch alarms", master_key=key, enforce_ssl=True)
        """The topic every alarm notifies."""
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        self.event_topic = sns.Topic(self, "EventTopic", display_name="MMBatch job and Spot events", master_key=key,
                                     enforce_ssl=True)
        """Each failed job, RUNNABLE cancellation and Spot interruption warning the alarms count, as the EventBridge
        event; subscribe to it to see them one by one. Nothing is subscribed by default."""
        # EventBridge publishes with a role of this stack (a rule elsewhere cannot pass it). Execution roles work for
        # every target since March 2025 (aws.amazon.com/about-aws/whats-new/2025/03/amazon-eventbridge-iam-execution-role-all-targets,
        # which aws/aws-cdk#34259 cites for SnsTopic(role=...)), but some AWS pages still say SNS targets use the
        # topic's resource policy instead; so the topic also admits events.amazonaws.com, for this stack's rules only
        # (aws:SourceArn, added below once the rules exist), and the key lets EventBridge encrypt for it (AWS knowledge
        # center "sns-not-getting-eventbridge-notification": the topic policy must allow events.amazonaws.com
        # sns:Publish, and an encrypted topic's customer managed key must grant EventBridge its use).
        key.add_to_resource_policy(iam.PolicyStatement(
            sid="EventBridgePublishToEncryptedTopics",
            principals=[iam.ServicePrincipal("events.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],
        ))
        publisher = iam.Role(self, "EventPublisher", assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
                             description="EventBridge publishes job and Spot events to the MMBatch event topic")
        self._event_target = targets.SnsTopic(self.event_topic, role=publisher)
        self._event_rules: list[events.Rule] = []
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        """Every alarm, by name (``FailedJobs``, ``SpotInterruptions``, ``NodeBootFailures``, ...)."""
        notify = cloudwatch_actions.SnsAction(self.topic)

        def alarm(name: str, metric: cloudwatch.IMetric, threshold: float, description: str, *,
                  evaluation_periods: int = 1, comparison: cloudwatch.ComparisonOperator =
                  cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                  missing: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING) -> cloudwatch.Alarm:
            created = cloudwatch.Alarm(self, name, metric=metric, threshold=threshold, evaluation_periods=evaluation_periods,
                                       comparison_operator=comparison, treat_missing_data=missing, alarm_description=description)
            created.add_alarm_action(notify)
            self.alarms[name] = created
            return created

        # Durations are immutable: one object each (every Duration.minutes call is a jsii round trip).
        five_minutes = cdk.Duration.minutes(5)
        queue_arns = [queue.job_queue_arn for queue in job_queues]
        self.failed_jobs = self._event_count("FailedJobsRule", "Batch jobs that failed on this deployment's queues",
                                            events.EventPattern(source=["aws.batch"], detail_type=["Batch Job State Change"],
                                                                detail={"status": ["FAILED"], "jobQueue": queue_arns}),
                                            five_minutes)
        """Failed jobs on the queues (Sum per 5 minutes)."""
        alarm("FailedJobs", self.failed_jobs, failed_jobs_threshold, "Batch jobs failed on this deployment's job queues")
        self.runnable_cancellations = self._event_count(
            "RunnableCancellationsRule", "Batch jobs cancelled after waiting too long in RUNNABLE",
            events.EventPattern(source=["aws.batch"], detail_type=["Batch Job State Change"],
                                detail={"status": ["FAILED"], "jobQueue": queue_arns,
                                        "statusReason": [{"prefix": RUNNABLE_CANCEL_REASON_PREFIX}]}),
            five_minutes)
        """Jobs the queues' jobStateTimeLimitActions cancelled (Sum per 5 minutes)."""
        alarm("RunnableCancellations", self.runnable_cancellations, runnable_cancellations_threshold,
              "Jobs stuck in RUNNABLE were cancelled (no capacity, or no environment can run them)")
        self.spot_interruptions = self._event_count(
            "SpotInterruptionsRule", "Spot interruption warnings in this account and region (all instances)",
            events.EventPattern(source=["aws.ec2"], detail_type=["EC2 Spot Instance Interruption Warning"]),
            cdk.Duration.hours(1))
        """Spot interruption warnings of the whole account and region (Sum per hour)."""
        alarm("SpotInterruptions", self.spot_interruptions, spot_interruptions_per_hour,
              "Many Spot interruption warnings in this region (all instances, not only this deployment's)")
        self.event_topic.add_to_resource_policy(iam.PolicyStatement(
            sid="EventBridgeRulesOfThisStack",
            principals=[iam.ServicePrincipal("events.amazonaws.com")],
            actions=["sns:Publish"],
            resources=[self.event_topic.topic_arn],
            conditions={"ArnEquals": {"aws:SourceArn": [rule.rule_arn for rule in self._event_rules]}},
        ))
        publisher_policy = publisher.node.find_child("DefaultPolicy").node.default_child
        assert publisher_policy is not None  # the target's grant made it
        cdk.Validations.of(publisher_policy).acknowledge(cdk.Acknowledgment(
            id="AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
            reason="aws-cdk-lib's grant for publishing to an encrypted topic: GenerateDataKey and "
            "GenerateDataKeyWithoutPlaintext on the topic's own key only, which SNS needs to encrypt each event.",
        ))
        acknowledge_compliance(
            publisher, "IAMNoInlinePolicy",
            "aws-cdk-lib's per-role default policy: attached to this EventBridge role only, created and deleted with it; "
            "publish to the event topic and use of its key, nothing else.",
        )

        # Invocations count failed deliveries too, so the alarms above hold even if the topic cannot be reached; these
        # say when the event topic's subscribers miss events (EventBridge sends FailedInvocations only when not zero).
        for counted, rule in zip(("FailedJobs", "RunnableCancellations", "SpotInterruptions"), self._event_rules):
            alarm(f"{counted}Delivery",
                  cloudwatch.Metric(namespace="AWS/Events", metric_name="FailedInvocations", statistic="Sum",
                                    period=five_minutes, dimensions_map={"RuleName": rule.rule_name}),
                  1, f"EventBridge could not publish {counted} events to the event topic (its subscribers miss them)")

        namespace = metric_namespace or f"MMBatch/{stack.stack_name}"

        def fatal_lines(filter_id: str, group: logs.ILogGroup, metric_name: str) -> cloudwatch.Metric:
            """A count (Sum per 5 minutes) of the one FATAL line a failed boot writes to ``group``."""
            return logs.MetricFilter(
                self, filter_id, log_group=group, filter_pattern=logs.FilterPattern.literal(f'"{FATAL_MARKER}"'),
                metric_namespace=namespace, metric_name=metric_name, metric_value="1",
            ).metric(statistic="Sum", period=five_minutes)

        self.boot_failures: Optional[cloudwatch.Metric] = None
        """Nodes whose boot failed closed (Sum per 5 minutes), when a boot log group is given."""
        if node_boot_log_group is not None:
            self.boot_failures = fatal_lines("BootFailureFilter", node_boot_log_group, "NodeBootFailures")
            alarm("NodeBootFailures", self.boot_failures, boot_failures_threshold,
                  f"A compute node failed its boot ('{FATAL_MARKER}' in the node boot log group)")

        self.server_boot_failures: Optional[cloudwatch.Metric] = None
        """Management-server boots that could not configure MMAB (Sum per 5 minutes), when a server log group is given."""
        if server_log_group is not None:
            self.server_boot_failures = fatal_lines("ServerBootFailureFilter", server_log_group, "ServerBootFailures")
            alarm("ServerBootFailures", self.server_boot_failures, 1,
                  f"The management server could not configure MMAB ('{FATAL_MARKER}' in the server log group): MMAB runs "
                  "at its defaults; see /var/lib/mmbatch/boot-failed on the server")

        if management_server_instance_id is not None:
            one_minute = cdk.Duration.minutes(1)

            def status(metric_name: str) -> cloudwatch.Metric:
                return cloudwatch.Metric(namespace="AWS/EC2", metric_name=metric_name, statistic="Maximum",
                                         period=one_minute, dimensions_map={"InstanceId": management_server_instance_id})
            system = alarm("ServerSystemCheck", status("StatusCheckFailed_System"), 1,
                           "Management server: AWS system status check failed; EC2 recovers the instance",
                           evaluation_periods=2, missing=cloudwatch.TreatMissingData.MISSING)
            system.add_alarm_action(cloudwatch_actions.Ec2Action(cloudwatch_actions.Ec2InstanceAction.RECOVER))
            alarm("ServerInstanceCheck", status("StatusCheckFailed_Instance"), 1,
                  "Management server: instance status check failed (OS or network inside the instance)",
                  evaluation_periods=3, missing=cloudwatch.TreatMissingData.MISSING)

        if efs_file_system is not None:
            def efs_metric(metric_name: str, statistic: str) -> cloudwatch.Metric:
                return cloudwatch.Metric(namespace="AWS/EFS", metric_name=metric_name, statistic=statistic,
                                         period=five_minutes, dimensions_map={"FileSystemId": efs_file_system.file_system_id})
            if (efs_performance_mode == efs.PerformanceMode.GENERAL_PURPOSE
                    and efs_throughput_mode != efs.ThroughputMode.ELASTIC):
                alarm("EfsIoLimit", efs_metric("PercentIOLimit", "Average"), efs_percent_io_limit,
                      "EFS checkpoint storage near the General Purpose I/O limit", evaluation_periods=3,
                      missing=cloudwatch.TreatMissingData.MISSING)
            if efs_throughput_mode == efs.ThroughputMode.BURSTING:
                alarm("EfsBurstCredits", efs_metric("BurstCreditBalance", "Minimum"), efs_burst_credit_balance_gib * 2**30,
                      "EFS checkpoint storage running out of burst credits (throughput falls to its baseline)",
                      evaluation_periods=3, comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                      missing=cloudwatch.TreatMissingData.MISSING)

        if memorydb_cluster_names:
            clusters = " OR ".join(f"ClusterName = '{name}'" for name in memorydb_cluster_names)
            for metric_name, threshold in (("CPUUtilization", memorydb_cpu_percent),
                                           ("EngineCPUUtilization", memorydb_engine_cpu_percent),
                                           ("DatabaseMemoryUsagePercentage", memorydb_memory_percent)):
                query = cloudwatch.MathExpression(
                    expression=f"SELECT MAX({metric_name}) FROM \"AWS/MemoryDB\" WHERE {clusters}",
                    period=five_minutes, label=f"{metric_name}, busiest MemoryDB node",
                )
                alarm(f"MemoryDb{metric_name}", query, threshold,
                      f"MemoryDB {metric_name} high on a node of {', '.join(memorydb_cluster_names)}",
                      evaluation_periods=3, missing=cloudwatch.TreatMissingData.MISSING)

        self.dashboard = self._dashboard()
        """The deployment's CloudWatch dashboard."""
        self._dashboard_url: Optional[str] = None

    @property
    def dashboard_url(self) -> str:
        """The dashboard in the CloudWatch console of the stack's partition and region (for a stack output).

        The first use adds the partition-to-console-host mapping it reads, so an unused URL leaves none behind.
        """
        if self._dashboard_url is None:
            console = cdk.CfnMapping(self, "ConsoleHost", mapping={p: {"Host": h} for p, h in _CONSOLE_HOSTS.items()})
            self._dashboard_url = (
                f"https://{console.find_in_map(cdk.Aws.PARTITION, 'Host')}/cloudwatch/home?region={cdk.Aws.REGION}"
                f"#dashboards:name={self.dashboard.dashboard_name}"
            )
        return self._dashboard_url

    def _event_count(self, id: str, description: str, pattern: events.EventPattern, period: cdk.Duration) -> cloudwatch.Metric:
        # The rule's one target is the event topic, so its Invocations count the events it matched.
        rule = events.Rule(self, id, description=description, event_pattern=pattern, targets=[self._event_target])
        self._event_rules.append(rule)
        return cloudwatch.Metric(namespace="AWS/Events", metric_name="Invocations", statistic="Sum", period=period,
                                 dimensions_map={"RuleName": rule.rule_name})

    def _dashboard(self) -> cloudwatch.Dashboard:
        dashboard = cloudwatch.Dashboard(self, "Dashboard", default_interval=cdk.Duration.days(1))
        dashboard.add_widgets(cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms.values()), width=24))
        jobs = [self.failed_jobs.with_(label="Failed"), self.runnable_cancellations.with_(label="Cancelled in RUNNABLE")]
        dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Failed and cancelled jobs", left=jobs, width=8),
            cloudwatch.GraphWidget(title="Spot interruption warnings (region)", left=[self.spot_interruptions], width=8),
            cloudwatch.GraphWidget(title="Node boot failures", left=[self.boot_failures] if self.boot_failures else [], width=8),
        )
        return dashboard
