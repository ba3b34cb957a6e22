"""HeadJobQueue: an AWS Fargate (On-Demand) queue for workflow engines' head jobs, their role and job definitions.

A head job (``nextflow run``, miniwdl-aws's workflow job, Cromwell in run mode) orchestrates a workflow for hours
and must not be reclaimed, so it runs on On-Demand capacity, never on the Spot queues. Fargate rather than an EC2
On-Demand environment because miniwdl-aws-submit registers its workflow job definition with
``platformCapabilities=["FARGATE"]`` (miniwdl-ext/miniwdl-aws miniwdl_aws/cli_submit.py), so its
``--workflow-queue`` must be a Fargate queue; and because a Fargate environment costs nothing idle and needs no
launch template, AMI or instance role (fewer resources and a shorter synth). Fargate, not Fargate Spot.

The head role may submit jobs only to the queues it is given (:meth:`allow_submit_to`) and to this queue,
register and deregister job definitions (the engines register one per task image), describe and terminate jobs,
pass only the task role to AWS Batch, and use the workspace.
"""

from __future__ import annotations

import re
from typing import Optional, Sequence

import aws_cdk as cdk
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from .container_image import container_image_problem
from .engines import cromwell_options
from .nag import acknowledge_compliance, compliance_acknowledgments
from .smoke_test import SMOKE_TEST_IMAGE, submit_job_command
from .workspace import Workspace, ecs_tasks_principal

__all__ = ["CROMWELL_ENTRY_POINT", "CROMWELL_HEAD_IMAGE", "CROMWELL_HELLO", "HEAD_QUEUE_MAX_VCPUS_RANGE", "HeadJobQueue",
           "NEXTFLOW_HEAD_IMAGE", "NEXTFLOW_HELLO"]

NEXTFLOW_HEAD_IMAGE = "public.ecr.aws/seqera-labs/nextflow:25.10.2"
"""Nextflow's own image on Amazon ECR Public: nextflow-io/nextflow docker/Makefile pushes every release as
``public.ecr.aws/seqera-labs/nextflow:<version>`` (and ``nextflow/nextflow:<version>`` on Docker Hub); its entry
point runs the command with bash (docker/entry.sh: ``exec bash -c`` of the single-quoted arguments). 25.10 is a
stable line (YY.04/YY.10); that the 25.10.2 tag is published was not checked against the registry here
(docs/real-deploy-claims.md): override with ``nextflowHeadImage``."""

HEAD_QUEUE_MAX_VCPUS_RANGE = (1, 4096)
"""Bounds of the head queue's vCPUs (``headQueueMaxvCpus`` and ``HeadJobQueue(max_vcpus=)``): a ceiling of ours for
orchestrators (one vCPU each by default), not AWS's; AWS Batch takes any 32-bit integer."""

NEXTFLOW_HELLO = "nextflow-io/hello"
"""Nextflow's hello-world pipeline (github.com/nextflow-io/hello), the head job's default ``pipeline`` parameter."""

CROMWELL_HEAD_IMAGE = "broadinstitute/cromwell:92"
"""Cromwell's own image, published on Docker Hub only as ``broadinstitute/cromwell:<release>`` (broadinstitute/cromwell
project/Publishing.scala, ``dockerTags``); 92 (January 2026) is the first release that reads ``tagResources`` from the
backend config (:func:`~mmbatch_cdk.engines.cromwell_config`). That the tag is published was not checked against the
registry here (docs/real-deploy-claims.md): override with ``cromwellHeadImage``."""

CROMWELL_ENTRY_POINT = ("/bin/bash", "-c", "java ${JAVA_OPTS} --add-opens=java.base/sun.security.util=ALL-UNNAMED "
                        "-jar /app/cromwell.jar ${CROMWELL_ARGS} ${*}", "--")
"""The entry point of :data:`CROMWELL_HEAD_IMAGE` (broadinstitute/cromwell project/Publishing.scala, ``entryPoint``,
the same at tags 88 to 92): the job's command follows as ``$1``...; ``${JAVA_OPTS}`` and ``${*}`` are unquoted, so
they split at spaces. AWS Batch cannot replace an entry point, so the head job writes its files through ``BASH_ENV``,
which this non-interactive bash reads first."""

_CROMWELL_CONFIG_FILE = "/tmp/cromwell.conf"
_CROMWELL_OPTIONS_FILE = "/tmp/cromwell-options.json"
_CROMWELL_INPUTS_FILE = "/tmp/cromwell-inputs.json"
_CROMWELL_HELLO_FILE = "/tmp/hello.wdl"
_CROMWELL_CONFIG_ENV = "MMBATCH_CROMWELL_CONFIG"
_CROMWELL_OPTIONS_ENV = "MMBATCH_CROMWELL_OPTIONS"
_CROMWELL_INPUTS_ENV = "MMBATCH_CROMWELL_INPUTS"
_CROMWELL_HELLO_ENV = "MMBATCH_CROMWELL_HELLO"

CROMWELL_HELLO = f"""\
version 1.0

workflow hello {{
  call say_hello
  output {{
    String greeting = say_hello.greeting
  }}
}}

task say_hello {{
  command <<<
    echo "hello from MMBatch"
  >>>
  runtime {{
    docker: "{SMOKE_TEST_IMAGE}"
  }}
  output {{
    String greeting = read_string(stdout())
  }}
}}
"""
"""The Cromwell head job's hello world (WDL 1.0): one task on the Spot queue, in the smoke test's image (it has the
bash, coreutils and glibc that Cromwell's fetch_and_run needs, docs/engines.md)."""


def _write(variable: str, path: str) -> str:
    return f'printf %s "${variable}" > {path}'


_CROMWELL_UNSET_FILE = "/tmp/mmbatch-unset-bash-env"

# Bash expands BASH_ENV's value, command substitution included, and reads the file it names before running the
# entry point's command (bash(1), INVOCATION; bminor/bash shell.c execute_env_file). The substitution writes the
# files and prints the name of one that unsets BASH_ENV, so that java, and any bash it starts, does not inherit it
# (and write the files again). Fail closed: without both the configuration and the options no configuration file is
# written, and java stops on the missing -Dconfig.file instead of running Cromwell with its Local backend here.
_CROMWELL_BASH_ENV = (
    f'$([ -n "${_CROMWELL_CONFIG_ENV}" ] && [ -n "${_CROMWELL_OPTIONS_ENV}" ] '
    f"&& {_write(_CROMWELL_OPTIONS_ENV, _CROMWELL_OPTIONS_FILE)} && {_write(_CROMWELL_CONFIG_ENV, _CROMWELL_CONFIG_FILE)}; "
    f'[ -z "${_CROMWELL_INPUTS_ENV}" ] || {_write(_CROMWELL_INPUTS_ENV, _CROMWELL_INPUTS_FILE)}; '
    f'[ -z "${_CROMWELL_HELLO_ENV}" ] || {_write(_CROMWELL_HELLO_ENV, _CROMWELL_HELLO_FILE)}; '
    f"echo unset BASH_ENV > {_CROMWELL_UNSET_FILE} && echo {_CROMWELL_UNSET_FILE})"
)
# Split at spaces by the entry point: no value may hold one. MaxRAMPercentage: the heap as a share of the container's
# memory (a HotSpot option since JDK 10; the image's JRE is 17, Publishing.scala ``from``).
_CROMWELL_JAVA_OPTS = f"-Dconfig.file={_CROMWELL_CONFIG_FILE} -XX:MaxRAMPercentage=75"

_NEXTFLOW_CONFIG_ENV = "MMBATCH_NEXTFLOW_CONFIG"
# No single quotes: the image's entry.sh quotes each argument with them before `bash -c`.
_NEXTFLOW_HEAD_SCRIPT = (
    f'printf "%s" "${_NEXTFLOW_CONFIG_ENV}" > /tmp/mmbatch.config && exec nextflow run "$0" -c /tmp/mmbatch.config'
)


_PRIVATE_ECR_IMAGE = re.compile(
    r"^(?P<account>[0-9]{12})\.(dkr\.ecr(-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?"
    r"|dkr-ecr(-fips)?\.(?P<dual_stack_region>[a-z0-9-]+)\.on\.aws)/(?P<repository>[^:@]+)")
"""An image in a private Amazon ECR repository, through any of its registry endpoints (``<account>.dkr.ecr.<region>.
amazonaws.com``, ``dkr.ecr-fips``, the dual-stack ``<account>.dkr-ecr.<region>.on.aws``; Amazon ECR User Guide,
"Making requests to Amazon ECR registries"): its account, region and repository name."""


class HeadJobQueue(Construct):
    """A Fargate On-Demand job queue for engines' head jobs, the head role, and Nextflow and Cromwell head job definitions.

    Submit ``nextflow run`` with :meth:`nextflow_submit_command`, ``cromwell run`` with :meth:`cromwell_submit_command`;
    point ``miniwdl-aws-submit --workflow-queue`` at :attr:`job_queue` with ``--workflow-role`` :attr:`role` (it
    registers its own Fargate job definition).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        workspace: Workspace,
        vpc_subnets: Optional[ec2.SubnetSelection] = None,
        security_groups: Sequence[ec2.ISecurityGroup] = (),
        max_vcpus: int = 16,
        assign_public_ip: bool = False,
        log_group: Optional[logs.ILogGroup] = None,
        nextflow_config: Optional[ssm.IStringParameter] = None,
        nextflow_image: str = NEXTFLOW_HEAD_IMAGE,
        cromwell_config: Optional[ssm.IStringParameter] = None,
        cromwell_image: str = CROMWELL_HEAD_IMAGE,
    ) -> None:
        """
        :param vpc: the VPC of the head jobs.
        :param workspace: the work bucket, inputs and task role the head jobs use and pass.
        :param vpc_subnets: subnets of the head jobs (they need a route to AWS APIs and the engines' images).
            Default: the VPC's private subnets.
        :param security_groups: extra security groups. Default: none (a new group with no ingress).
        :param max_vcpus: vCPUs of all head jobs together. Default: 16.
        :param assign_public_ip: give the Nextflow and Cromwell head jobs a public IP, needed in public subnets without
            a NAT gateway to reach AWS APIs and the image registry. Default: False (private subnets with a route out).
        :param log_group: where head jobs log. Default: AWS Batch's ``/aws/batch/job``.
        :param nextflow_config: the SSM parameter holding the Nextflow configuration the head job runs with.
            Default: none (no Nextflow head job definition).
        :param nextflow_image: the Nextflow head image; one in private ECR (``<account>.dkr.ecr.<region>.amazonaws.com/
            ...``, a pull through cache's too) is pulled with the job definition's execution role, which gets the
            rights for that repository. Default: :data:`NEXTFLOW_HEAD_IMAGE`.
        :param cromwell_config: the SSM parameter holding the Cromwell configuration (``cromwell_config``) the head job
            runs with; its tasks get the workspace's task role (``cromwell_options``). Default: none (no Cromwell head
            job definition).
        :param cromwell_image: the Cromwell head image, one with :data:`CROMWELL_ENTRY_POINT`; in private ECR as
            ``nextflow_image``. Default: :data:`CROMWELL_HEAD_IMAGE`.
        """
        low, high = HEAD_QUEUE_MAX_VCPUS_RANGE
        if isinstance(max_vcpus, bool) or not isinstance(max_vcpus, int) or not low <= max_vcpus <= high:
            raise ValueError(f"HeadJobQueue {id}: max_vcpus {max_vcpus!r} is not accepted; expected whole vCPUs from {low} "
                             f"to {high}")
        for prop, image in (("nextflow_image", nextflow_image), ("cromwell_image", cromwell_image)):
            problem = container_image_problem(image)
            if problem:
                raise ValueError(f"HeadJobQueue {id}: {prop} {problem}")
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        self.security_group = ec2.SecurityGroup(self, "SecurityGroup", vpc=vpc, allow_all_outbound=True,
                                                description="MMBatch head jobs (no ingress)")
        """The head jobs' security group; it admits nothing."""
        self.compute_environment = batch.FargateComputeEnvironment(
            self, "ComputeEnvironment", vpc=vpc, vpc_subnets=vpc_subnets, spot=False, maxv_cpus=max_vcpus,
            security_groups=[self.security_group, *security_groups], replace_compute_environment=False,
        )
        """The Fargate (On-Demand) compute environment, 0 vCPUs while idle."""
        self.job_queue = batch.JobQueue(self, "JobQueue", priority=1, compute_environments=[
            batch.OrderedComputeEnvironment(compute_environment=self.compute_environment, order=1)])
        """The head-job queue."""
        self.role = iam.Role(self, "Role", assumed_by=ecs_tasks_principal(stack),
                             description="MMBatch workflow head jobs: submit to this stack's queues, pass the task role")
        """The head jobs' job role (also their execution role for miniwdl-aws-submit, which uses one role for both)."""
        workspace.grant_read_write(self.role)
        workspace.grant_read_inputs(self.role)

        job_definitions = stack.format_arn(service="batch", resource="job-definition", resource_name="*",
                                           arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME)
        jobs = stack.format_arn(service="batch", resource="job", resource_name="*", arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME)

        self._submit = iam.PolicyStatement(
            sid="SubmitToThisStacksQueues", actions=["batch:SubmitJob"],
            # SubmitJob is authorized on the new job, the queue and the job definition (Service Authorization Reference,
            # AWS Batch); the engines register their own definitions, so those are any of this account and region.
            resources=[self.job_queue.job_queue_arn, job_definitions, jobs],
        )
        self.role.add_to_policy(self._submit)
        self.role.add_to_policy(iam.PolicyStatement(
            sid="RegisterTaskJobDefinitions", actions=["batch:RegisterJobDefinition", "batch:DeregisterJobDefinition",
                                                        "batch:TagResource"],
            resources=[job_definitions]))
        self.role.add_to_policy(iam.PolicyStatement(
            # TagResource: miniwdl-aws tags each task job with its parent job at SubmitJob (batch_job.py).
            sid="StopAndTagOwnJobs", actions=["batch:TerminateJob", "batch:CancelJob", "batch:TagResource"],
            resources=[jobs]))
        self.role.add_to_policy(iam.PolicyStatement(
            # These Describe/List actions support no resource-level permissions (Service Authorization Reference).
            sid="DescribeBatch", actions=["batch:DescribeJobs", "batch:ListJobs", "batch:DescribeJobQueues",
                                          "batch:DescribeJobDefinitions", "batch:DescribeComputeEnvironments"],
            resources=["*"]))
        # What Nextflow's AWS page (nextflow-io/nextflow docs/aws.md, minimal permissions, "to view EC2 instances")
        # lists for the instance and task details it records per task: read-only.
        self.role.add_to_policy(iam.PolicyStatement(
            sid="DescribeTaskHosts", actions=["ecs:DescribeTasks", "ecs:DescribeContainerInstances"],
            resources=[stack.format_arn(service="ecs", resource=r, resource_name="*") for r in ("task", "container-instance")]))
        self.role.add_to_policy(iam.PolicyStatement(
            sid="DescribeInstances", actions=["ec2:DescribeInstances", "ec2:DescribeInstanceAttribute",
                                              "ec2:DescribeInstanceStatus", "ec2:DescribeInstanceTypes"],
            resources=["*"]))
        self.role.add_to_policy(iam.PolicyStatement(
            # Passing the job role to AWS Batch as Seqera Platform's Batch Forge policy scopes it (docs.seqera.io,
            # "AWS Batch" IAM: iam:PassRole with iam:PassedToService batch.amazonaws.com).
            sid="PassTheTaskRoleOnly", actions=["iam:PassRole"], resources=[workspace.task_role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": "batch.amazonaws.com"}}))
        # miniwdl-aws-submit uses the workflow role as the execution role too, logging to /aws/batch/job.
        default_logs = stack.format_arn(service="logs", resource="log-group", resource_name="/aws/batch/job:*",
                                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)
        self.role.add_to_policy(iam.PolicyStatement(
            sid="WriteAndReadJobLogs", actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:GetLogEvents"],
            resources=[default_logs]))
        policy = self.role.node.find_child("DefaultPolicy")
        region_account = "<AWS::Region>:<AWS::AccountId>"
        cdk.Validations.of(policy).acknowledge(*(cdk.Acknowledgment(
            id=f"AwsSolutions::AwsSolutions-IAM5[Resource::{resource}]", reason=reason) for resource, reason in (
            ("*", "Batch DescribeJobs, ListJobs, DescribeJobQueues, DescribeJobDefinitions and DescribeComputeEnvironments "
                  "and EC2 DescribeInstances, DescribeInstanceAttribute, DescribeInstanceStatus and DescribeInstanceTypes "
                  "support no resource-level permissions (Service Authorization Reference); all read-only."),
            (f"arn:<AWS::Partition>:ecs:{region_account}:task/*", "Describing the ECS tasks of the head job's task jobs "
             "(read-only; their ids are known only at run time)."),
            (f"arn:<AWS::Partition>:ecs:{region_account}:container-instance/*", "Describing the container instances the "
             "task jobs run on (read-only; Nextflow records them per task)."),
            (f"arn:<AWS::Partition>:batch:{region_account}:job-definition/*",
             "The engines register a job definition per task image at run time, under names they choose; SubmitJob is "
             "also limited to this stack's queues, and PassRole to the task role."),
            (f"arn:<AWS::Partition>:batch:{region_account}:job/*",
             "Terminating and tagging the head job's own task jobs, whose ids are known only at run time."),
            (f"arn:<AWS::Partition>:logs:{region_account}:log-group:/aws/batch/job:*",
             "AWS Batch's default log group, where miniwdl-aws-submit's workflow job logs (its role is also the "
             "execution role); streams are named per job at run time."),
        )))
        acknowledge_compliance(
            self.role, "IAMNoInlinePolicy",
            "aws-cdk-lib's per-role default policy: attached to this head role only, created and deleted with it.",
        )
        self.nextflow_job_definition: Optional[batch.EcsJobDefinition] = None
        """The Nextflow head job definition, with a Nextflow configuration."""
        if nextflow_config is not None:
            self.nextflow_job_definition = self._head_job_definition(
                "Nextflow", image=nextflow_image, command=["bash", "-c", _NEXTFLOW_HEAD_SCRIPT, "Ref::pipeline"],
                parameters={"pipeline": NEXTFLOW_HELLO}, secrets={_NEXTFLOW_CONFIG_ENV: nextflow_config},
                assign_public_ip=assign_public_ip, log_group=log_group)
        self.cromwell_job_definition: Optional[batch.EcsJobDefinition] = None
        """The Cromwell head job definition (``cromwell run``), with a Cromwell configuration and the tasks' job role."""
        if cromwell_config is not None:
            self.cromwell_job_definition = self._head_job_definition(
                "Cromwell", image=cromwell_image,
                # After the image's entry point: `cromwell run <workflow> --inputs ... --options ...`.
                command=["run", "Ref::workflow", "--inputs", _CROMWELL_INPUTS_FILE, "--options", _CROMWELL_OPTIONS_FILE],
                parameters={"workflow": _CROMWELL_HELLO_FILE}, secrets={_CROMWELL_CONFIG_ENV: cromwell_config},
                environment={
                    _CROMWELL_OPTIONS_ENV: cromwell_options(job_role=workspace.task_role.role_arn),
                    _CROMWELL_INPUTS_ENV: "{}",  # a submit-job --container-overrides environment replaces it
                    _CROMWELL_HELLO_ENV: CROMWELL_HELLO,
                    "BASH_ENV": _CROMWELL_BASH_ENV,
                    "JAVA_OPTS": _CROMWELL_JAVA_OPTS,
                }, assign_public_ip=assign_public_ip, log_group=log_group)

    def _head_job_definition(self, engine: str, *, image: str, command: Sequence[str], parameters: dict[str, str],
                             secrets: dict[str, ssm.IStringParameter], environment: Optional[dict[str, str]] = None,
                             assign_public_ip: bool, log_group: Optional[logs.ILogGroup]) -> batch.EcsJobDefinition:
        """A Fargate head job definition running ``image`` with the head role, its configuration from SSM."""
        container = batch.EcsFargateContainerDefinition(
            self, f"{engine}Container", image=ecs.ContainerImage.from_registry(image), cpu=1,
            memory=cdk.Size.gibibytes(4), job_role=self.role, assign_public_ip=assign_public_ip,
            command=list(command), environment=environment,
            # ECS puts the parameter's value in the variable before the container starts (the execution role
            # reads it; Amazon ECS Developer Guide, "Pass Systems Manager parameters as environment variables").
            secrets={name: batch.Secret.from_ssm_parameter(parameter) for name, parameter in secrets.items()},
            logging=ecs.LogDrivers.aws_logs(stream_prefix=f"{engine.lower()}-head", log_group=log_group)
            if log_group else None,
        )
        self._grant_private_ecr_pull(engine, image, container)
        execution_role = container.node.try_find_child("ExecutionRole")
        if execution_role is not None:
            cdk.Validations.of(execution_role).acknowledge(*compliance_acknowledgments(
                "IAMNoInlinePolicy",
                "aws-cdk-lib's execution-role default policy: this head job definition's role only; it reads the "
                f"{engine} configuration parameter, writes the head job's log streams and, for an image in private "
                "ECR, pulls it.",
            ), *(() if log_group is not None else (cdk.Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>"
                   ":log-group:/aws/batch/job:*]",
                reason="aws-cdk-lib's execution role writes the head job's streams in AWS Batch's default log group, "
                "named per job at run time."),)))
        return batch.EcsJobDefinition(self, f"{engine}Head", container=container, parameters=parameters,
                                      propagate_tags=True)

    def _grant_private_ecr_pull(self, engine: str, image: str, container: batch.EcsFargateContainerDefinition) -> None:
        """Let the execution role pull ``image`` when it is in private ECR (say a pull through cache of Docker Hub's,
        against its anonymous pull limits). The image stays as given, endpoint included (a FIPS or dual-stack one,
        which ``ContainerImage.from_ecr_repository`` would rewrite), so the grant is made here rather than by it."""
        found = _PRIVATE_ECR_IMAGE.match(image)
        if found is None:
            return
        region = found["region"] or found["dual_stack_region"]
        arn = cdk.Stack.of(self).format_arn(service="ecr", account=found["account"], region=region,
                                            resource="repository", resource_name=found["repository"])
        repository = ecr.Repository.from_repository_attributes(self, f"{engine}Repository", repository_arn=arn,
                                                              repository_name=found["repository"])
        repository.grant_pull(container.execution_role)  # the pull on the repository, GetAuthorizationToken on *
        # A pull through cache's repository is created and filled on the first pull, by the puller: these two on this
        # one repository (Amazon ECR User Guide, "IAM permissions required to sync an upstream registry").
        repository.grant(container.execution_role, "ecr:BatchImportUpstreamImage", "ecr:CreateRepository")
        cdk.Annotations.of(container).acknowledge_warning(
            "@aws-cdk/aws-ecs:ecrImageRequiresPolicy", "the execution role is granted the pull of this repository here")
        cdk.Validations.of(container.execution_role.node.find_child("DefaultPolicy")).acknowledge(cdk.Acknowledgment(
            id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            reason=f"ecr:GetAuthorizationToken, to pull the {engine} head image from private ECR, supports no "
                   "resource-level permissions (Service Authorization Reference); the pull itself is limited to the "
                   "image's repository."))

    def allow_submit_to(self, job_queues: Sequence[batch.IJobQueue]) -> None:
        """Let head jobs submit task jobs to ``job_queues`` (the Spot queues) as well as to this queue."""
        self._submit.add_resources(*(q.job_queue_arn for q in job_queues))

    def nextflow_submit_command(self) -> Optional[str]:
        """``aws batch submit-job`` running Nextflow's hello world on this queue (None without a Nextflow config)."""
        if self.nextflow_job_definition is None:
            return None
        return (submit_job_command(self.job_queue, self.nextflow_job_definition.job_definition_arn, "nextflow-hello")
                + f" --parameters pipeline={NEXTFLOW_HELLO}")

    def cromwell_submit_command(self) -> Optional[str]:
        """``aws batch submit-job`` running :data:`CROMWELL_HELLO` on this queue (None without a Cromwell config)."""
        if self.cromwell_job_definition is None:
            return None
        return (submit_job_command(self.job_queue, self.cromwell_job_definition.job_definition_arn, "cromwell-hello")
                + f" --parameters workflow={_CROMWELL_HELLO_FILE}")

    def miniwdl_submit_command(self, task_queue: batch.IJobQueue, *, fsap: str = "fsap-...") -> str:
        """``miniwdl-aws-submit`` running miniwdl's self test with its workflow job on this queue."""
        return (f"miniwdl-aws-submit --self-test --follow --workflow-queue {self.job_queue.job_queue_arn} "
                f"--workflow-role {self.role.role_arn} --task-queue {task_queue.job_queue_arn} --fsap {fsap}")

    @property
    def outputs(self) -> dict[str, tuple[str, str]]:
        """Stack outputs: the queue, the role and the head job definitions with their submit commands."""
        found = {
            "HeadJobQueueArn": (self.job_queue.job_queue_arn, "Fargate On-Demand queue for workflow head jobs"),
            "HeadJobQueueName": (self.job_queue.job_queue_name, "Name of the head-job queue (miniwdl-aws-submit --workflow-queue)"),
            "HeadRoleArn": (self.role.role_arn, "Role of head jobs (miniwdl-aws-submit --workflow-role)"),
        }
        if self.nextflow_job_definition is not None:
            found["NextflowHeadJobDefinitionArn"] = (self.nextflow_job_definition.job_definition_arn,
                                                     "Job definition running nextflow run <pipeline> with the generated config")
            found["NextflowHelloSubmitCommand"] = (self.nextflow_submit_command() or "", "Run Nextflow's hello world through the head queue")
        if self.cromwell_job_definition is not None:
            found["CromwellHeadJobDefinitionArn"] = (self.cromwell_job_definition.job_definition_arn,
                                                     "Job definition running cromwell run <workflow> with the generated config")
            found["CromwellHelloSubmitCommand"] = (self.cromwell_submit_command() or "", "Run Cromwell's hello world through the head queue")
        return found
