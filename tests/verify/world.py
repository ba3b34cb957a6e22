"""A deployed stack for ``mmbatch-cdk verify`` to check: moto where it implements the API (CloudFormation, EC2,
CloudWatch Logs), botocore's Stubber where it does not or cannot say what a real deployment says (SSM Run Command
output, FIS, ECS container instances, and Batch jobs with the attempts and status reasons of a Spot loss).

Stubber checks each response against the service's model, so every stubbed answer has the real API's shape.
The fake clock advances on ``sleep``; log events are stamped on it (it starts at the real time, since CloudWatch
Logs, and moto, refuse events more than 14 days old).
"""

from __future__ import annotations

import base64
import datetime
import json
import time
from dataclasses import dataclass, field
from typing import Any, Optional

import boto3
from botocore.stub import ANY, Stubber

from mmbatch_cdk.verify.aws import Aws

REGION = "us-east-1"
ACCOUNT = "123456789012"
QUEUE_ARN = f"arn:aws:batch:{REGION}:{ACCOUNT}:job-queue/JobQueueEE3AD499-abc"
CE_ARN = f"arn:aws:batch:{REGION}:{ACCOUNT}:compute-environment/ComputeEnvironment-abc"
CLUSTER_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/AWSBatch-ComputeEnvironment-abc-1234"
DEFINITION_ARN = f"arn:aws:batch:{REGION}:{ACCOUNT}:job-definition/SmokeTestDefinition-abc:1"
TEMPLATE_ID = "EXT1a2b3c4d5e6f7"
JOB_ID = "4f1c9a0e-5d1b-4b7e-9a57-0c2f3e8d1a11"
NODE_1, NODE_2 = "i-0aaaaaaaaaaaaaaa1", "i-0bbbbbbbbbbbbbbb2"
SMOKE_COMMAND = ["python3", "-u", "-c", "<SMOKE_TEST_SCRIPT>", "1024", "30", "120"]
"""The smoke test definition's command (mmbatch_cdk/smoke_test.py); the script itself does not matter here."""


_CLIENTS: dict[str, Any] = {}


def shared_client(service: str) -> Any:
    """One client per service for the whole session: making one (EC2's model especially) takes longer than a test.

    moto answers any client's calls while a mock is active, and a test's Stubber is added to and removed from
    the shared client (``World.stub``, the ``world`` fixture), so tests stay independent.
    """
    if service not in _CLIENTS:
        _CLIENTS[service] = boto3.client(service, region_name=REGION, aws_access_key_id="testing",
                                         aws_secret_access_key="testing", aws_session_token="testing")
    return _CLIENTS[service]


class FakeClock:
    """Seconds that pass only when someone sleeps; ``interrupt_after`` sleeps, it raises KeyboardInterrupt (Ctrl-C)."""

    def __init__(self, interrupt_after: Optional[int] = None) -> None:
        self.t = float(int(time.time()) - 3600)
        self.sleeps = 0
        self.interrupt_after = interrupt_after

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        if self.interrupt_after is not None and self.sleeps > self.interrupt_after:
            raise KeyboardInterrupt
        self.t += seconds

    def ms(self, offset_s: float = 0) -> int:
        return int((self.t + offset_s) * 1000)


@dataclass
class World:
    """The moto resources of a deployed stack and the stubbed clients; ``aws`` is what verify gets."""

    clock: FakeClock
    server_id: str
    stubs: dict[str, Stubber] = field(default_factory=dict)
    clients: dict[str, Any] = field(default_factory=dict)
    progress: list[str] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    moto_batch: bool = False
    """Batch from moto (queue and compute environment reads only) instead of the Stubber."""

    @property
    def aws(self) -> Aws:
        return Aws(factory=self.client, clock=self.clock, progress=self.progress.append)

    def client(self, service: str) -> Any:
        if service not in self.clients:
            self.clients[service] = shared_client(service)
            if service in ("ssm", "fis", "ecs") or (service == "batch" and not self.moto_batch):
                self.stubs[service] = Stubber(self.clients[service])
                self.stubs[service].activate()
        return self.clients[service]

    def stub(self, service: str) -> Stubber:
        self.client(service)
        return self.stubs[service]

    def deploy(self, *, drill: bool = False, checkpointing: str = "on", interval: str = "5m", moto_batch: bool = False,
               head_queue: bool = False) -> None:
        """The stack, with the outputs an mmbatch-cdk stack has (keys as in the synthesized template).

        ``moto_batch``: the queue and its compute environment are moto's (verify then only reads them).
        """
        self.moto_batch = moto_batch
        queue_arn = self.moto_queue() if moto_batch else QUEUE_ARN
        self.outputs = {
            "ManagementServerUrl": "https://mmab.mmbatch.internal:8080",
            "ManagementServerInstanceId": self.server_id,
            "JobQueueArn": queue_arn,
            "SmokeTestSubmitCommand": f"aws batch submit-job --region {REGION} --job-name mmbatch-smoke-test "
                                      f"--job-queue {queue_arn} --job-definition {DEFINITION_ARN}",
            "JobLogGroupName": "/aws/batch/mmbatch-jobs",
            "NodeBootLogGroupName": "mmbatch-NodeBootLogs",
            "NodeLogGroupName": "mmbatch-NodeLogs",
            "Checkpointing": checkpointing,
            "CheckpointInterval": interval,
            **({"SpotDrillTemplateId": TEMPLATE_ID} if drill else {}),
            **({"HeadJobQueueArn": self.moto_queue("HeadQueue")} if head_queue else {}),
        }
        groups = {"JobLogs": "/aws/batch/mmbatch-jobs", "NodeBootLogs": "mmbatch-NodeBootLogs"}
        template = {
            "Resources": {key: {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": name}} for key, name in groups.items()},
            "Outputs": {k: {"Value": v} for k, v in self.outputs.items()},
        }
        shared_client("cloudformation").create_stack(StackName="mmbatch", TemplateBody=json.dumps(template))

    def moto_queue(self, prefix: str = "") -> str:
        """A Spot compute environment and its queue in moto, as the stack's BatchCompute makes them; the queue's ARN.
        ``prefix`` names another pair (verify reads only their state, whatever their type)."""
        ec2, iam, batch = shared_client("ec2"), shared_client("iam"), shared_client("batch")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
        group = ec2.create_security_group(GroupName=f"{prefix}nodes", Description="nodes", VpcId=vpc)["GroupId"]
        role = iam.create_role(RoleName=f"{prefix}batch-service", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        profile = iam.create_instance_profile(InstanceProfileName=f"{prefix}nodes")["InstanceProfile"]["Arn"]
        environment = batch.create_compute_environment(
            computeEnvironmentName=f"{prefix}ComputeEnvironment-abc", type="MANAGED", state="ENABLED", serviceRole=role,
            computeResources={"type": "SPOT", "allocationStrategy": "SPOT_PRICE_CAPACITY_OPTIMIZED", "minvCpus": 0,
                              "maxvCpus": 16, "instanceTypes": ["c7i.large"], "subnets": [subnet],
                              "securityGroupIds": [group], "instanceRole": profile})
        return str(batch.create_job_queue(jobQueueName=f"{prefix}JobQueue-abc", state="ENABLED", priority=10, computeEnvironmentOrder=[
            {"order": 1, "computeEnvironment": environment["computeEnvironmentArn"]}])["jobQueueArn"])

    def log(self, group: str, stream: str, lines: list[str], *, at_s: float = 0, every_s: float = 30) -> None:
        """``lines`` in ``group``/``stream``, the first at the clock's now + ``at_s``."""
        logs = shared_client("logs")
        try:
            logs.create_log_stream(logGroupName=group, logStreamName=stream)
        except logs.exceptions.ResourceAlreadyExistsException:
            pass
        events = [{"timestamp": self.clock.ms(at_s + n * every_s), "message": line} for n, line in enumerate(lines)]
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)

    def boot_log(self, instance_id: str, lines: list[str]) -> None:
        self.log("mmbatch-NodeBootLogs", instance_id, lines, every_s=1)

    # SSM: the server is managed, and answers the check script.
    def server_answers(self, *, http: str = "200", body: Any = None, markers: str = "mmab-1.4.0-release.installed ckptConfig.done",
                       mounted: str = "no", online: str = "Online") -> None:
        ssm = self.stub("ssm")
        ssm.add_response("describe_instance_information",
                         {"InstanceInformationList": [{"InstanceId": self.server_id, "PingStatus": online}]})
        if online == "Online":
            self.run_command(f"http={http}\nbody={_b64(body)}\nmarkers={markers}\nmounted={mounted}\n")

    def run_command(self, stdout: str) -> None:
        ssm = self.stub("ssm")
        ssm.add_response("send_command", {"Command": {"CommandId": "c0ffee00-0000-4000-8000-000000000001"}},
                         {"InstanceIds": [self.server_id], "DocumentName": "AWS-RunShellScript", "Parameters": ANY,
                          "Comment": ANY, "TimeoutSeconds": ANY})
        ssm.add_response("get_command_invocation", {"Status": "Success", "StandardOutputContent": stdout, "StandardErrorContent": ""})

    def mmab_jobs(self, events: list[str]) -> None:
        """MMAB's GET /api/v1/job answer listing ``events`` for the job (assumed shape: see verify/drill.py)."""
        body = {"jobs": [{"jobId": "mmab-7", "batchJobIds": [JOB_ID], "events": [{"type": e} for e in events]}]}
        self.run_command(f"http=200\nbody={_b64(body)}\nmarkers=\nmounted=no\n")

    # Batch: the queue and its compute environment.
    def queues_valid(self, *, ce_status: str = "VALID", ce_reason: str = "ComputeEnvironment Healthy") -> None:
        batch = self.stub("batch")
        batch.add_response("describe_job_queues", {"jobQueues": [{
            "jobQueueName": "JobQueueEE3AD499-abc", "jobQueueArn": QUEUE_ARN, "state": "ENABLED", "status": "VALID",
            "priority": 10, "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": CE_ARN}]}]},
            {"jobQueues": [QUEUE_ARN]})
        batch.add_response("describe_compute_environments", {"computeEnvironments": [{
            "computeEnvironmentName": "ComputeEnvironment-abc", "computeEnvironmentArn": CE_ARN, "ecsClusterArn": CLUSTER_ARN,
            "state": "ENABLED", "status": ce_status, "statusReason": ce_reason}]}, {"computeEnvironments": [CE_ARN]})

    def submit(self, *, shortened: bool) -> None:
        batch = self.stub("batch")
        if shortened:
            batch.add_response("describe_job_definitions", {"jobDefinitions": [{
                "jobDefinitionName": "SmokeTestDefinition-abc", "jobDefinitionArn": DEFINITION_ARN, "revision": 1,
                "type": "container", "containerProperties": {"image": "public.ecr.aws/docker/library/python:3.12-slim",
                                                             "command": SMOKE_COMMAND}}]})
        batch.add_response("submit_job", {"jobName": "mmbatch-verify-smoke", "jobId": JOB_ID},
                           {"jobName": "mmbatch-verify-smoke", "jobQueue": QUEUE_ARN, "jobDefinition": DEFINITION_ARN,
                            **({"containerOverrides": {"command": SMOKE_COMMAND[:-1] + ["6"]}} if shortened else {})})

    def job(self, status: str, *, stream: Optional[str] = None, instance: Optional[str] = None,
            attempts: Optional[list[dict[str, Any]]] = None, reason: Optional[str] = None) -> None:
        """One ``DescribeJobs`` answer for the smoke job."""
        job: dict[str, Any] = {"jobName": "mmbatch-verify-smoke", "jobId": JOB_ID, "jobQueue": QUEUE_ARN, "status": status,
                               "startedAt": self.clock.ms(), "jobDefinition": DEFINITION_ARN, "attempts": attempts or []}
        if reason:
            job["statusReason"] = reason
        if stream or instance:
            job["container"] = {**({"logStreamName": stream} if stream else {}),
                                **({"containerInstanceArn": _container_instance(instance)} if instance else {})}
        self.stub("batch").add_response("describe_jobs", {"jobs": [job]})

    def nodes(self, *instances: str) -> None:
        """ECS maps the job's container instances to EC2 instance ids."""
        self.stub("ecs").add_response("describe_container_instances", {"containerInstances": [
            {"containerInstanceArn": _container_instance(i), "ec2InstanceId": i} for i in instances], "failures": []})

    def terminated(self) -> None:
        self.stub("batch").add_response("terminate_job", {}, {"jobId": JOB_ID, "reason": ANY})


def attempt(instance: str, stream: str, reason: str) -> dict[str, Any]:
    """A finished attempt as DescribeJobs lists it."""
    return {"container": {"containerInstanceArn": _container_instance(instance), "logStreamName": stream, "exitCode": 137},
            "startedAt": 1, "stoppedAt": 2, "statusReason": reason}


def _container_instance(instance: str) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:container-instance/AWSBatch-ComputeEnvironment-abc-1234/{instance[-8:]}"


def _b64(body: Any) -> str:
    return base64.b64encode(json.dumps(body).encode()).decode() if body is not None else ""


def experiment(status: str, *, started: Optional[datetime.datetime] = None, reason: str = "") -> dict[str, Any]:
    """A FIS experiment as StartExperiment/GetExperiment return it."""
    actions = {"InterruptSpot": {"actionId": "aws:ec2:send-spot-instance-interruptions", "state": {"status": status},
                                 **({"startTime": started} if started else {})}}
    return {"experiment": {"id": "EXP5Zk8s1Xh2b3c4", "experimentTemplateId": TEMPLATE_ID,
                           "state": {"status": status, **({"reason": reason} if reason else {})}, "actions": actions}}

