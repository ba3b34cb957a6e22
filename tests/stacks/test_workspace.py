"""The workspace and the head-job queue (issue 21): every job runs with a job role, the task role reaches the work
bucket (read/write) and the input locations (read) and nothing else, head jobs submit only to this stack's queues
and pass only the task role.

Policies are checked twice: by a small evaluator over the synthesized statements with their CloudFormation tokens
resolved to example values (Allow only, conditions ignored, so it over-approximates what a role may do), and by
parliament (PyPI ``parliament``, Duo Labs' IAM linter, pinned in requirements-dev.txt).
"""

from __future__ import annotations

import fnmatch
import importlib.resources
import json
import subprocess
import sys
import types
from typing import Any

import pytest

from mmbatch_cdk.config import ConfigError, MmBatchConfig
from mmbatch_cdk.head_queue import CROMWELL_HEAD_IMAGE, NEXTFLOW_HEAD_IMAGE, NEXTFLOW_HELLO

from ..conftest import CONFIGS, synthesize
from ..templates import Synth
from ..templates import EXAMPLE_ACCOUNT as ACCOUNT
from ..templates import EXAMPLE_REGION as REGION
from ..templates import resolve_example as resolve

OTHER_QUEUE = f"arn:aws:batch:{REGION}:{ACCOUNT}:job-queue/someone-elses-queue"


def policies_of(s: Synth, role_prefix: str) -> list[dict[str, Any]]:
    """The resolved statements of every policy attached to the role whose logical id starts with ``role_prefix``."""
    resources = s.template["Resources"]
    return [resolve(st, resources) for p in s.resources("AWS::IAM::Policy").values()
            if any(r["Ref"].startswith(role_prefix) for r in p["Properties"]["Roles"])
            for st in p["Properties"]["PolicyDocument"]["Statement"]]


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def allows(statements: list[dict[str, Any]], action: str, resource: str) -> bool:
    """True when an Allow statement names ``action`` and ``resource`` (wildcards as IAM matches them)."""
    return any(st["Effect"] == "Allow"
               and any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in _listed(st["Action"]))
               and any(fnmatch.fnmatchcase(resource, r) for r in _listed(st["Resource"]))
               for st in statements)


def role_arn(s: Synth, prefix: str) -> str:
    (name,) = [k for k in s.resources("AWS::IAM::Role") if k.startswith(prefix)]
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def work_bucket(s: Synth) -> str:
    buckets = [k for k in s.resources("AWS::S3::Bucket") if k.startswith("WorkspaceBucket")]
    return buckets[0].lower() if buckets else s.stack.config.work_bucket


TASK_ACTIONS = {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListBucket",
                "s3:GetBucketLocation", "kms:Decrypt", "kms:GenerateDataKey"}


@pytest.mark.parametrize("name", ["efs", "efs-multiqueue", "juicefs-compliance"])
def test_the_task_role_reaches_the_work_bucket_and_nothing_else(synth, name: str) -> None:
    s = synth(name)
    task = policies_of(s, "WorkspaceTaskRole")
    bucket = work_bucket(s)
    for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
        assert allows(task, action, f"arn:aws:s3:::{bucket}/nextflow-work/ab/cdef/.command.run")
    assert allows(task, "s3:ListBucket", f"arn:aws:s3:::{bucket}")
    for action, resource in (("s3:GetObject", "arn:aws:s3:::another-bucket/key"), ("s3:DeleteBucket", f"arn:aws:s3:::{bucket}"),
                             ("s3:PutBucketPolicy", f"arn:aws:s3:::{bucket}"), ("batch:SubmitJob", OTHER_QUEUE),
                             ("iam:PassRole", role_arn(s, "WorkspaceTaskRole")), ("ec2:DescribeInstances", "*")):
        assert not allows(task, action, resource), (action, resource)
    assert {a for st in task for a in _listed(st["Action"])} <= TASK_ACTIONS
    kms = [st for st in task if any(a.startswith("kms:") for a in _listed(st["Action"]))]
    if s.stack.compliance:  # SSE-KMS with the profile's key: only through S3
        assert kms and all(st["Condition"]["StringEquals"]["kms:ViaService"] == f"s3.{REGION}.amazonaws.com" for st in kms)
    else:
        assert not kms


def test_the_task_role_reads_the_input_locations_only(synth) -> None:
    task = policies_of(synth("efs-multiqueue"), "WorkspaceTaskRole")
    assert allows(task, "s3:GetObject", "arn:aws:s3:::ref-genomes/hg38/chr1.fa")
    assert allows(task, "s3:GetObject", "arn:aws:s3:::team-inputs/any/key.bam")
    assert not allows(task, "s3:GetObject", "arn:aws:s3:::ref-genomes/hg19/chr1.fa"), "outside the prefix"
    for resource in ("arn:aws:s3:::ref-genomes/hg38/x", "arn:aws:s3:::team-inputs/x"):
        for action in ("s3:PutObject", "s3:DeleteObject"):
            assert not allows(task, action, resource), (action, resource)
    [listing] = [st for st in task if st["Resource"] == "arn:aws:s3:::ref-genomes"]
    assert listing["Action"] == "s3:ListBucket"
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["hg38", "hg38/*"]}}


def test_head_jobs_read_and_filter_the_task_logs_of_every_queue(synth) -> None:
    # Nextflow and Cromwell fetch a failed task's log from its queue's log group to report it.
    s = synth("efs-multiqueue")
    head = policies_of(s, "HeadQueueRole")
    groups = {k for k in s.resources("AWS::Logs::LogGroup") if k.startswith("QueuesJobLogs")}
    assert groups
    for group in groups:
        stream = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}:log-stream:mmbatch/default/abc"
        for action in ("logs:GetLogEvents", "logs:FilterLogEvents"):
            assert allows(head, action, stream), (action, group)
    assert not allows(head, "logs:GetLogEvents", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:other:log-stream:x")


@pytest.mark.parametrize("name", ["efs", "efs-multiqueue"])
def test_head_jobs_submit_only_to_this_stacks_queues_and_pass_only_the_task_role(synth, name: str) -> None:
    s = synth(name)
    head = policies_of(s, "HeadQueueRole")
    queues = [f"arn:aws:batch:{REGION}:{ACCOUNT}:job-queue/{k}" for k in s.resources("AWS::Batch::JobQueue")]
    assert len(queues) == len(s.stack.queues) + 1
    for queue in queues:
        assert allows(head, "batch:SubmitJob", queue)
    assert not allows(head, "batch:SubmitJob", OTHER_QUEUE)
    task_role = role_arn(s, "WorkspaceTaskRole")
    assert allows(head, "iam:PassRole", task_role)
    others = [f"arn:aws:iam::{ACCOUNT}:role/{k}" for k in s.resources("AWS::IAM::Role") if not k.startswith("WorkspaceTaskRole")]
    assert others and not any(allows(head, "iam:PassRole", arn) for arn in others + ["*"])
    [passing] = [st for st in head if "iam:PassRole" in _listed(st["Action"])]
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "batch.amazonaws.com"}}
    bucket = work_bucket(s)
    assert allows(head, "s3:PutObject", f"arn:aws:s3:::{bucket}/cromwell-execution/x")
    assert not allows(head, "s3:PutObject", "arn:aws:s3:::another-bucket/x")


DATA_PREFIXES = ("s3:", "kms:decrypt", "kms:generatedatakey", "secretsmanager:getsecretvalue", "ssm:getparameter",
                 "elasticfilesystem:client", "dynamodb:")



@pytest.mark.parametrize("name", ["efs", "juicefs-compliance"])
def test_only_this_accounts_ecs_tasks_in_this_region_may_take_the_task_and_head_roles(synth, name: str) -> None:
    """The confused-deputy pair the ECS guide gives for task roles: aws:SourceAccount and an ECS aws:SourceArn."""
    s = synth(name)
    roles = {k: r for k, r in s.resources("AWS::IAM::Role").items() if k.startswith(("WorkspaceTaskRole", "HeadQueueRole"))}
    assert len(roles) == 2, sorted(roles)
    for logical_id, role in roles.items():
        (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert (statement["Principal"], statement["Action"]) == ({"Service": "ecs-tasks.amazonaws.com"}, "sts:AssumeRole")
        condition = resolve(statement["Condition"], s.template["Resources"])
        assert condition == {"StringEquals": {"aws:SourceAccount": ACCOUNT},
                             "ArnLike": {"aws:SourceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:*"}}, logical_id


@pytest.mark.parametrize("name", list(CONFIGS))
def test_no_policy_grants_all_of_s3_or_data_on_every_resource(synth, name: str) -> None:
    s = synth(name)
    for policy_id, policy in s.resources("AWS::IAM::Policy").items():
        for st in policy["Properties"]["PolicyDocument"]["Statement"]:
            if st["Effect"] != "Allow":
                continue
            actions = [a.lower() for a in _listed(st["Action"])]
            assert not {"*", "s3:*"} & set(actions), (policy_id, st)
            if st["Resource"] == "*" or "*" in _listed(st["Resource"]):
                assert not [a for a in actions if a.startswith(DATA_PREFIXES)], (policy_id, st)


def _parliament() -> Any:
    # parliament 1.6.4 finds its data files with pkg_resources, which setuptools >= 81 (pinned here) no longer ships;
    # the same lookup through importlib.resources.
    if "pkg_resources" not in sys.modules:
        shim = types.ModuleType("pkg_resources")
        shim.resource_filename = lambda package, name: str(importlib.resources.files(package) / name)  # type: ignore[attr-defined]
        sys.modules["pkg_resources"] = shim
    import parliament

    return parliament


DESCRIBE_ONLY = {"batch:DescribeComputeEnvironments", "batch:DescribeJobDefinitions", "batch:DescribeJobQueues",
                 "batch:DescribeJobs", "batch:ListJobs", "ec2:DescribeInstances", "ec2:DescribeInstanceAttribute",
                 "ec2:DescribeInstanceStatus", "ec2:DescribeInstanceTypes"}


# aws-cdk-lib's StringParameter.grant_read adds ssm:DescribeParameters on the parameter, which IAM matches only on
# "*": an action that grants nothing there, not a wider grant.
INEFFECTIVE = {f"HeadQueue{engine}ContainerExecutionRole": [{"action": "ssm:DescribeParameters", "required_format": "*"}]
               for engine in ("Nextflow", "Cromwell")}


@pytest.mark.parametrize("role", ["WorkspaceTaskRole", "HeadQueueRole", "HeadQueueNextflowContainerExecutionRole",
                                  "HeadQueueCromwellContainerExecutionRole"])
def test_parliament_finds_nothing_but_the_describe_calls_on_resource_star(synth, role: str) -> None:
    parliament = _parliament()
    s = synth("efs-multiqueue")
    document = {"Version": "2012-10-17", "Statement": policies_of(s, role)}
    findings = parliament.analyze_policy_string(json.dumps(document)).findings
    issues = [(f.issue, f.detail) for f in findings]
    star = [detail for issue, detail in issues if issue == "RESOURCE_STAR"]
    assert all({a for a in detail} <= DESCRIBE_ONLY for detail in star), issues
    mismatched = [d for issue, detail in issues if issue == "RESOURCE_MISMATCH" for d in detail]
    assert mismatched == INEFFECTIVE.get(role, []), issues
    assert [issue for issue, _ in issues if issue not in ("RESOURCE_STAR", "RESOURCE_MISMATCH")] == [], issues


def test_parliament_would_report_a_wildcard_data_grant() -> None:
    parliament = _parliament()
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}]}
    assert [f.issue for f in parliament.analyze_policy_string(json.dumps(document)).findings] == ["RESOURCE_STAR"]


@pytest.mark.parametrize("name", [n for n, context in CONFIGS.items() if context.get("workspace") != "false"])
def test_every_job_definition_names_a_job_role(synth, name: str) -> None:
    s = synth(name)
    definitions = s.resources("AWS::Batch::JobDefinition")
    assert definitions
    for logical_id, definition in definitions.items():
        role = definition["Properties"]["ContainerProperties"].get("JobRoleArn")
        assert role and role["Fn::GetAtt"][0].startswith(("WorkspaceTaskRole", "HeadQueueRole")), logical_id


def test_engine_configurations_name_the_task_role_and_the_work_bucket(synth) -> None:
    s = synth("efs")
    resources = s.template["Resources"]
    values = {p["Properties"]["Name"].rsplit("/", 1)[1]: resolve(p["Properties"]["Value"], resources)
              for p in s.resources("AWS::SSM::Parameter").values() if p["Properties"]["Name"].startswith("/mmbatch-efs/")}
    task_role, bucket = role_arn(s, "WorkspaceTaskRole"), work_bucket(s)
    assert f"        jobRole = '{task_role}'\n" in values["nextflow.config"]
    assert f"workDir = 's3://{bucket}/nextflow-work'\n" in values["nextflow.config"]
    assert json.loads(values["cromwell-options.json"]) == {"aws_batch_job_role_arn": task_role}
    assert f'root = "s3://{bucket}/cromwell-execution"' in values["cromwell.conf"]
    assert "Tasks run without AWS credentials" in values["miniwdl.cfg"]


def test_the_work_bucket_is_private_encrypted_tls_only_expiring_and_retained(synth) -> None:
    s = synth("efs")
    [(bucket_id, bucket)] = [(k, v) for k, v in s.resources("AWS::S3::Bucket").items() if k.startswith("WorkspaceBucket")]
    props = bucket["Properties"]
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
    assert all(props["PublicAccessBlockConfiguration"].values()) and len(props["PublicAccessBlockConfiguration"]) == 4
    assert bucket["DeletionPolicy"] == "RetainExceptOnCreate"
    expiring = {r["Prefix"]: r["ExpirationInDays"] for r in props["LifecycleConfiguration"]["Rules"] if "Prefix" in r}
    assert expiring == {"nextflow-work/": 30, "cromwell-execution/": 30}
    [policy] = [p for p in s.resources("AWS::S3::BucketPolicy").values() if p["Properties"]["Bucket"] == {"Ref": bucket_id}]
    [deny] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_with_the_profile_the_work_bucket_uses_its_key_and_access_logs(synth) -> None:
    s = synth("juicefs-compliance")
    [bucket] = [v for k, v in s.resources("AWS::S3::Bucket").items() if k.startswith("WorkspaceBucket")]
    [rule] = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]["Fn::GetAtt"][0].startswith("ComplianceKey")
    assert bucket["Properties"]["LoggingConfiguration"]["DestinationBucketName"]["Ref"].startswith("ComplianceAccessLogs")


def test_the_work_bucket_aborts_unfinished_uploads_after_a_day_and_takes_no_acls(synth) -> None:
    # The parts of an upload an engine never completes are billed until aborted; ACLs disabled, so every object is the
    # bucket owner's and only the roles' policies decide who reads it.
    [bucket] = [v["Properties"] for k, v in synth("efs").resources("AWS::S3::Bucket").items() if k.startswith("WorkspaceBucket")]
    assert {"Id": "AbortIncompleteUploads", "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
            "Status": "Enabled"} in bucket["LifecycleConfiguration"]["Rules"]
    assert bucket["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}


def test_with_the_profile_the_work_bucket_uses_a_bucket_key_and_logs_under_its_own_prefix(synth) -> None:
    # The bucket key cuts the KMS requests (and their cost) of every object read and write; the prefix keeps the work
    # bucket's access logs apart from the checkpoint buckets' in the shared access-log bucket.
    s = synth("juicefs-compliance")
    [bucket] = [v["Properties"] for k, v in s.resources("AWS::S3::Bucket").items() if k.startswith("WorkspaceBucket")]
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["BucketKeyEnabled"] is True
    assert bucket["LoggingConfiguration"]["LogFilePrefix"] == "work/"
    others = [v["Properties"]["LoggingConfiguration"]["LogFilePrefix"] for k, v in s.resources("AWS::S3::Bucket").items()
              if k.startswith("CheckpointStorage")]
    assert others and "work/" not in others


def test_an_existing_work_bucket_is_used_not_created(synth) -> None:
    s = synth("efs-multiqueue")
    assert not [k for k in s.resources("AWS::S3::Bucket") if k.startswith("Workspace")]
    assert s.template["Outputs"]["WorkBucketName"]["Value"] == "team-pipelines"


def test_head_jobs_run_on_fargate_on_demand_with_the_generated_nextflow_config(synth) -> None:
    s = synth("efs")
    [environment] = [v for k, v in s.resources("AWS::Batch::ComputeEnvironment").items() if k.startswith("HeadQueue")]
    assert environment["Properties"]["ComputeResources"]["Type"] == "FARGATE"
    [definition] = [v for k, v in s.resources("AWS::Batch::JobDefinition").items() if k.startswith("HeadQueueNextflowHead")]
    props = definition["Properties"]
    assert props["PlatformCapabilities"] == ["FARGATE"] and props["Parameters"] == {"pipeline": "nextflow-io/hello"}
    container = props["ContainerProperties"]
    assert container["Image"] == NEXTFLOW_HEAD_IMAGE
    assert container["Command"][-1] == "Ref::pipeline" and "nextflow run" in container["Command"][2]
    assert "'" not in container["Command"][2], "the image's entry.sh quotes each argument with single quotes"
    [secret] = container["Secrets"]
    value = json.dumps(secret["ValueFrom"])
    [nextflow] = [k for k, v in s.resources("AWS::SSM::Parameter").items() if v["Properties"]["Name"].endswith("/nextflow.config")]
    assert nextflow in value
    for output in ("HeadJobQueueArn", "HeadRoleArn", "NextflowHeadJobDefinitionArn", "NextflowHelloSubmitCommand",
                   "MiniwdlSelfTestCommand", "TaskRoleArn", "WorkBucketName"):
        assert output in s.template["Outputs"], output


def test_the_head_queue_runs_at_most_sixteen_vcpus_of_head_jobs(synth) -> None:
    """headQueueMaxvCpus (16) bounds what the Fargate head jobs cost together, one vCPU each; without it aws-batch's
    own ceiling of 256 vCPUs applies."""
    s = synth("efs")
    [environment] = [v for k, v in s.resources("AWS::Batch::ComputeEnvironment").items() if k.startswith("HeadQueue")]
    assert environment["Properties"]["ComputeResources"]["MaxvCpus"] == 16


def test_the_cromwell_head_job_runs_on_fargate_with_the_head_role_and_the_first_queues_config(synth) -> None:
    s = synth("efs-multiqueue")
    [(logical_id, definition)] = [(k, v) for k, v in s.resources("AWS::Batch::JobDefinition").items()
                                  if k.startswith("HeadQueueCromwellHead")]
    props = definition["Properties"]
    assert props["PlatformCapabilities"] == ["FARGATE"] and props["Parameters"] == {"workflow": "/tmp/hello.wdl"}
    container = props["ContainerProperties"]
    assert container["Image"] == CROMWELL_HEAD_IMAGE
    assert container["JobRoleArn"]["Fn::GetAtt"][0].startswith("HeadQueueRole")
    assert {r["Type"]: r["Value"] for r in container["ResourceRequirements"]} == {"VCPU": "1", "MEMORY": "4096"}
    assert container["LogConfiguration"]["Options"]["awslogs-stream-prefix"] == "cromwell-head"
    [secret] = container["Secrets"]
    [parameter] = [k for k in s.resources("AWS::SSM::Parameter") if k in json.dumps(secret["ValueFrom"])]
    assert parameter.startswith("QuickstartJq1CromwellConfig"), "the first queue's Cromwell configuration"
    outputs = s.template["Outputs"]
    assert outputs["CromwellHeadJobDefinitionArn"]["Value"] == {"Ref": logical_id}
    command = outputs["CromwellHelloSubmitCommand"]["Value"]["Fn::Join"][1]
    assert {"Ref": logical_id} in command and {"Fn::GetAtt": [next(k for k in s.resources("AWS::Batch::JobQueue")
                                                                  if k.startswith("HeadQueue")), "JobQueueArn"]} in command


@pytest.mark.parametrize(("name", "assigned"), [("efs", "ENABLED"), ("juicefs-compliance", "DISABLED")])
def test_head_jobs_get_a_public_ip_only_without_private_subnets(synth, name: str, assigned: str) -> None:
    # efs: public subnets and no NAT gateway, where a Fargate task without a public IP reaches neither the image
    # registry nor AWS APIs and never starts; privateOnly: private subnets with a route out, no public IP.
    s = synth(name)
    heads = {k: v["Properties"] for k, v in s.resources("AWS::Batch::JobDefinition").items() if k.startswith("HeadQueue")}
    assert len(heads) == 2
    for logical_id, props in heads.items():
        assert props["ContainerProperties"]["NetworkConfiguration"] == {"AssignPublicIp": assigned}, logical_id


def test_head_job_definitions_propagate_their_tags_to_the_ecs_tasks(synth) -> None:
    # The stack's tags (cost allocation, the deployment tag) reach the Fargate tasks of the head jobs too.
    heads = [v["Properties"] for k, v in synth("efs").resources("AWS::Batch::JobDefinition").items() if k.startswith("HeadQueue")]
    assert len(heads) == 2 and all(props["PropagateTags"] is True for props in heads)


_STAND_IN_NEXTFLOW = f"""#!{sys.executable}
import json, sys
config = sys.argv[sys.argv.index("-c") + 1]
print(json.dumps({{"argv": sys.argv[1:], "config": open(config).read()}}))
"""


def test_the_nextflow_head_job_runs_the_pipeline_with_the_configuration_it_wrote(synth, tmp_path) -> None:
    # The head job's own command (its Ref::pipeline filled with the default), a stand-in nextflow first on PATH that
    # reads the file given with -c; /tmp/ becomes a directory of the test.
    s = synth("efs")
    [props] = [v["Properties"] for k, v in s.resources("AWS::Batch::JobDefinition").items() if k.startswith("HeadQueueNextflowHead")]
    command = [props["Parameters"][a[5:]] if a.startswith("Ref::") else a.replace("/tmp/", f"{tmp_path}/")
               for a in props["ContainerProperties"]["Command"]]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "nextflow").write_text(_STAND_IN_NEXTFLOW)
    (bin_dir / "nextflow").chmod(0o755)
    config = "process {\n    executor = 'awsbatch'\n}\n"
    result = subprocess.run(command, env={"PATH": f"{bin_dir}:/usr/bin:/bin", "MMBATCH_NEXTFLOW_CONFIG": config},
                            capture_output=True, text=True, timeout=60, cwd=tmp_path, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    ran = json.loads(result.stdout)
    assert ran["argv"][:2] == ["run", NEXTFLOW_HELLO]
    assert ran["config"] == config, "nextflow must read the configuration the job wrote"


@pytest.mark.parametrize(("engine", "file"), [("Nextflow", "nextflow.config"), ("Cromwell", "cromwell.conf")])
def test_each_head_execution_role_reads_its_own_engines_configuration_only(synth, engine: str, file: str) -> None:
    s = synth("efs-multiqueue")
    statements = policies_of(s, f"HeadQueue{engine}ContainerExecutionRole")
    names = [p["Properties"]["Name"] for p in s.resources("AWS::SSM::Parameter").values()]
    readable = [n for n in names if allows(statements, "ssm:GetParameters", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{n}")]
    assert readable == [f"/{s.stack.stack_name}/Jq1/{file}"]


@pytest.mark.parametrize(("context", "message"), [
    ({"inputBuckets": "My_Bucket"}, "inputBuckets: 'My_Bucket' not accepted"),
    ({"inputBuckets": "ok-bucket/data/*"}, "inputBuckets: 'ok-bucket/data/*' not accepted"),
    ({"workBucket": "192.168.1.1"}, "workBucket: '192.168.1.1' is not an S3 bucket name"),
    ({"workExpiryDays": 0}, "workExpiryDays: 0 is out of range"),
    ({"workBucket": "team-work", "workExpiryDays": 7}, "workExpiryDays: only applies to a work bucket the stack creates"),
    ({"workspace": "false", "inputBuckets": "refs"}, "inputBuckets: only used with workspace=true"),
    ({"workspace": "false", "headQueue": "true"}, "headQueue: head jobs pass the workspace's task role"),
    ({"headQueue": "false", "headQueueMaxvCpus": 8}, "headQueueMaxvCpus: only used with the head queue"),
    # workspace=false turns the head queue off with headQueue left at true: its settings have no effect there either.
    ({"workspace": "false", "headQueueMaxvCpus": 8}, "headQueueMaxvCpus: only used with the head queue"),
    ({"workspace": "false", "nextflowHeadImage": "nextflow/nextflow:24.10.0"}, "nextflowHeadImage: only used with the head queue"),
    ({"nextflowHeadImage": "nextflow:latest tag"}, "nextflowHeadImage: 'nextflow:latest tag' is not accepted"),
    ({"cromwellHeadImage": "Cromwell:92"}, "cromwellHeadImage: 'Cromwell:92' is not accepted"),
    ({"headQueue": "false", "cromwellHeadImage": "broadinstitute/cromwell:93"}, "cromwellHeadImage: only used with the head queue"),
])
def test_workspace_settings_say_what_is_wrong(context: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        MmBatchConfig.from_mapping(context)
    assert message in str(caught.value)


def test_workspace_off_turns_the_head_queue_off_too() -> None:
    config = MmBatchConfig.from_mapping({"workspace": "false"})
    assert not config.builds_head_queue
    assert MmBatchConfig.from_mapping({}).builds_head_queue


def test_workspace_off_builds_neither_and_says_so_in_the_configurations(synth) -> None:
    s = synth("juicefs-existing-vpc")  # workspace=false, workBucket=team-work
    assert not [k for k in s.template["Resources"] if k.startswith(("Workspace", "HeadQueue"))]
    assert not {"WorkBucketName", "TaskRoleArn", "HeadJobQueueArn"} & set(s.template["Outputs"])
    names = sorted(p["Properties"]["Name"].rsplit("/", 1)[1] for p in s.resources("AWS::SSM::Parameter").values()
                   if p["Properties"]["Name"].startswith("/mmbatch-juicefs/default/"))
    assert names == ["cromwell.conf", "miniwdl.cfg", "nextflow.config"], "no options file without a role to name"
    [nextflow] = [p["Properties"]["Value"] for p in s.resources("AWS::SSM::Parameter").values()
                  if p["Properties"]["Name"].endswith("/nextflow.config")]
    text = json.dumps(nextflow)
    assert "jobRole: none; tasks have no AWS credentials" in text and "s3://team-work/nextflow-work" in text
    findings = [v["ruleName"] for p in s.validation_report()["pluginReports"] for v in p["violations"]
                if not v["ruleName"].startswith("Annotation::")]
    assert findings == []


ECR_IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/docker-hub/broadinstitute/cromwell:92"
"""The Cromwell image through an ECR pull through cache of Docker Hub (prefix ``docker-hub``)."""


def test_a_private_ecr_head_image_is_pulled_with_the_execution_role_of_its_job_only(tmp_path) -> None:
    s = synthesize({"cromwellHeadImage": ECR_IMAGE}, tmp_path)
    [container] = [v["Properties"]["ContainerProperties"] for k, v in s.resources("AWS::Batch::JobDefinition").items()
                   if k.startswith("HeadQueueCromwellHead")]
    assert container["Image"] == ECR_IMAGE, "the image as given"
    cromwell = policies_of(s, "HeadQueueCromwellContainerExecutionRole")
    repository = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/docker-hub/broadinstitute/cromwell"
    for action in ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability",
                   "ecr:BatchImportUpstreamImage", "ecr:CreateRepository"):
        assert allows(cromwell, action, repository), action
        assert not allows(cromwell, action, f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/docker-hub/other"), action
    assert allows(cromwell, "ecr:GetAuthorizationToken", "*")
    nextflow = policies_of(s, "HeadQueueNextflowContainerExecutionRole")
    assert not any(a.startswith("ecr:") for st in nextflow for a in _listed(st["Action"])), "Nextflow's image is public"
    report = s.validation_report()
    assert [v["ruleName"] for p in report["pluginReports"] for v in p["violations"]
            if not v["ruleName"].startswith("Annotation::mmbatch:")] == []


def test_public_head_images_get_no_ecr_permissions(synth) -> None:
    s = synth("efs")
    for engine in ("Nextflow", "Cromwell"):
        assert not any(a.startswith("ecr:") for st in policies_of(s, f"HeadQueue{engine}ContainerExecutionRole")
                       for a in _listed(st["Action"])), engine


@pytest.mark.parametrize(("image", "region", "repository"), [
    (f"{ACCOUNT}.dkr.ecr-fips.us-gov-west-1.amazonaws.com/team/cromwell:92", "us-gov-west-1", "team/cromwell"),
    (f"{ACCOUNT}.dkr-ecr.eu-west-1.on.aws/docker-hub/broadinstitute/cromwell@sha256:{'a' * 64}", "eu-west-1",
     "docker-hub/broadinstitute/cromwell"),
    (f"{ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn/cromwell", "cn-north-1", "cromwell"),
])
def test_every_ecr_registry_endpoint_names_its_repository(image: str, region: str, repository: str) -> None:
    from mmbatch_cdk.head_queue import _PRIVATE_ECR_IMAGE

    found = _PRIVATE_ECR_IMAGE.match(image)
    assert found is not None
    assert (found["account"], found["region"] or found["dual_stack_region"], found["repository"]) == (ACCOUNT, region, repository)


@pytest.mark.parametrize("image", [CROMWELL_HEAD_IMAGE, NEXTFLOW_HEAD_IMAGE, "ghcr.io/org/cromwell:92",
                                   "public.ecr.aws/x/cromwell:92"])
def test_public_registries_are_not_taken_for_private_ecr(image: str) -> None:
    from mmbatch_cdk.head_queue import _PRIVATE_ECR_IMAGE

    assert _PRIVATE_ECR_IMAGE.match(image) is None
