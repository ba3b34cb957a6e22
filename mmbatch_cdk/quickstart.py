"""QueueQuickstart: per queue, what a user needs from ``cdk deploy`` to a first checkpointed run.

A smoke-test job definition and its submit command, the three engine configurations as SSM
parameters (each naming this queue), and optionally the Spot interruption drill, all with outputs
named after the queue like the stack's ``JobQueueArn<name>``.
"""

from __future__ import annotations

import re
from typing import Mapping, Optional

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from .aws_cli import AWS_CLI_PATH
from .compute import BatchCompute
from .multi_queue import QUEUE_TAG
from .drill import SpotInterruptionDrill
from .engines import engine_configs
from .management_server import DEPLOYMENT_TAG_KEY
from .smoke_test import SmokeTestJobDefinition

__all__ = ["DRILL_TAG_KEY", "QueueQuickstart"]

DRILL_TAG_KEY = QUEUE_TAG
"""Tag key the drill selects a queue's instances by (MultiQueue and MmBatchDeployment tag every queue's instances)."""

_NAME = re.compile(r"^[A-Za-z0-9]*$")


class QueueQuickstart(Construct):
    """Smoke test, engine configurations and (optionally) the drill for one queue, with outputs.

    Outputs (``<name>`` is the queue's name, empty for a single queue): ``SmokeTestSubmitCommand<name>``,
    ``NextflowConfigParameter<name>``, ``MiniwdlConfigParameter<name>``, ``CromwellConfigParameter<name>``,
    ``CromwellOptionsConfigParameter<name>`` (with a ``job_role``)
    and, with the drill, ``SpotDrillTemplateId<name>`` and ``SpotDrillStartCommand<name>``. The drill
    selects running Spot instances tagged ``mmbatch:queue=<name or "default">`` and ``mmbatch-stack=<the deployment>``,
    tags the compute environment must put on its instances (``ComputeResources.Tags``).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        compute: BatchCompute,
        name: str = "",
        spot_attempts: int = 5,
        environment: Optional[Mapping[str, str]] = None,
        cli_path: Optional[str] = AWS_CLI_PATH,
        work_bucket: Optional[str] = None,
        efs_access_point_id: Optional[str] = None,
        efs_file_system_id: Optional[str] = None,
        parameter_prefix: Optional[str] = None,
        drill: bool = False,
        job_role: Optional[iam.IRole] = None,
    ) -> None:
        """
        :param compute: the queue.
        :param name: the queue's name, as in the stack's ``JobQueueArn<name>`` output (letters and digits). Default: ``""``.
        :param spot_attempts: attempts per job for the smoke test and the engines, 2 to 10. Default: 5.
        :param environment: ``MMC_*`` overrides for the engines (see ``checkpoint_environment``). Default: none.
        :param cli_path: the AWS CLI on the nodes, for Nextflow; None when they carry none (``NodeSettings(aws_cli=None)``).
            Default: ``/usr/local/aws-cli/bin/aws``, where ``NodeSettings()`` installs it.
        :param work_bucket: S3 bucket for Nextflow's work directory and Cromwell's executions. Default: none.
        :param efs_access_point_id: EFS access point for miniwdl-aws. Default: none.
        :param efs_file_system_id: its file system. Default: none.
        :param parameter_prefix: SSM parameter path prefix. Default: ``/<stack name>/<name or "default">``.
        :param drill: add the FIS Spot interruption drill. Default: False.
        :param job_role: the tasks' job role, named by the smoke test and the engine configurations
            (``Workspace.task_role``). Default: none (jobs get no AWS credentials).
        """
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(f"QueueQuickstart {id}: name {name!r} is not accepted; expected letters and digits only")
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        queue_label = name or "default"
        prefix = parameter_prefix or f"/{stack.stack_name}/{queue_label}"

        self.smoke_test = SmokeTestJobDefinition(self, "SmokeTest", compute=compute, spot_attempts=spot_attempts,
                                                 job_role=job_role)
        """The smoke-test job definition."""
        self._output(stack, "SmokeTestSubmitCommand", name, self.smoke_test.submit_command(),
                     f"Submit the smoke-test job to queue {queue_label} (docs/verify.md)")

        configs = engine_configs(
            compute, spot_attempts=spot_attempts, environment=environment, cli_path=cli_path, work_bucket=work_bucket,
            efs_access_point_id=efs_access_point_id, efs_file_system_id=efs_file_system_id,
            job_role_arn=job_role.role_arn if job_role else None,
        )
        self.parameters: dict[str, ssm.StringParameter] = {}
        """The engine configuration parameters, by engine (``nextflow``, ``miniwdl``, ``cromwell``, ``cromwelloptions``)."""
        for engine, file_name, text in (("Nextflow", "nextflow.config", configs.nextflow),
                                        ("Miniwdl", "miniwdl.cfg", configs.miniwdl),
                                        ("Cromwell", "cromwell.conf", configs.cromwell),
                                        # Cromwell's job role is a workflow option: only with a role to name.
                                        *((("CromwellOptions", "cromwell-options.json", configs.cromwell_options),)
                                          if job_role else ())):
            parameter = ssm.StringParameter(
                self, f"{engine}Config",
                parameter_name=f"{prefix}/{file_name}",
                string_value=text,
                description=f"{engine} configuration for MMBatch queue {queue_label}",
                tier=ssm.ParameterTier.STANDARD,
            )
            self.parameters[engine.lower()] = parameter
            self._output(stack, f"{engine}ConfigParameter", name, parameter.parameter_name,
                         f"aws ssm get-parameter --name <this> --query Parameter.Value --output text > {file_name}")

        self.drill: Optional[SpotInterruptionDrill] = None
        """The drill, when enabled."""
        if drill:
            # The deployment's own tag on the nodes (serve_agent puts it there), so no other stack's queue is drilled.
            stack_tags = {k: v for k, v in compute.instance_tags.items() if k == DEPLOYMENT_TAG_KEY} or None
            self.drill = SpotInterruptionDrill(self, "SpotDrill", tag_key=DRILL_TAG_KEY, tag_value=queue_label,
                                               stack_tags=stack_tags)
            self._output(stack, "SpotDrillTemplateId", name, self.drill.experiment_template_id,
                         f"FIS template interrupting one running Spot node of queue {queue_label}")
            self._output(stack, "SpotDrillStartCommand", name, self.drill.start_command(), "Start the drill (docs/verify.md)")

    @staticmethod
    def _output(stack: cdk.Stack, key: str, name: str, value: str, description: str) -> None:
        # On the stack, whose children's logical ids are their ids: one round trip, not two with override_logical_id.
        cdk.CfnOutput(stack, f"{key}{name}", value=value, description=description)
