"""Engine configurations: rendered with deploy-time values and read by each engine's own parser where one runs here.

miniwdl reads its .cfg with WDL.runtime.config.Loader (configparser); Cromwell's HOCON is read with pyhocon
(which cannot resolve Cromwell's classpath include, so the body is parsed and the include checked as text);
Nextflow's config is Groovy: here its assignments are checked with a small tokenizer of nested ``scope {`` blocks
and ``name = value`` lines, and tests/real/test_nextflow_config.py reads it with Groovy's ConfigSlurper.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Union

import aws_cdk as cdk
import pytest
from pyhocon import ConfigFactory
from pyhocon.exceptions import ConfigException
from WDL.runtime.config import Loader
from constructs import Construct

from mmbatch_cdk import BatchCompute
from mmbatch_cdk.engines import (
    CROMWELL_INCLUDE,
    cromwell_config,
    cromwell_options,
    engine_configs,
    miniwdl_config,
    nextflow_config,
)
from mmbatch_cdk.job_definition import checkpoint_environment

from .jobs_fixture import build_parts

QUEUE = "arn:aws:batch:eu-west-1:123456789012:job-queue/JobQueueEE3AD499-4kXWbTnLaEF2bSxY"
REGION = "eu-west-1"
LOG_GROUP = "MmBatch-ComputeJobLogs5B4A9D04-Xb7Qf1ZfhK3e"
MMC = checkpoint_environment(mode="iterative", interval="20m", image_subpath="nextflow")


# ---------------------------------------------------------------- Nextflow (tokenized)

_ASSIGN = re.compile(r"^([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.+)$")
_OPEN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*\{$")


def _groovy_value(text: str) -> Union[str, int]:
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    match = re.fullmatch(r"'((?:[^'\\]|\\.)*)'", text)
    assert match, f"not a single-quoted string or an integer: {text}"
    return re.sub(r"\\(.)", r"\1", match.group(1))


def nextflow_assignments(text: str) -> dict[str, Union[str, int]]:
    """Dotted name -> value for every assignment, following ``scope { ... }`` nesting; fails on anything else."""
    scopes: list[str] = []
    found: dict[str, Union[str, int]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("//"):
            continue
        if line == "}":
            assert scopes, "unbalanced }"
            scopes.pop()
        elif _OPEN.match(line):
            scopes.append(_OPEN.match(line).group(1))  # type: ignore[union-attr]
        else:
            match = _ASSIGN.match(line)
            assert match, f"unexpected line: {line}"
            name = ".".join([*scopes, match.group(1)])
            assert name not in found, f"{name} assigned twice"
            found[name] = _groovy_value(match.group(2))
    assert scopes == [], f"unclosed scopes {scopes}"
    return found


def test_nextflow_config_names_the_queue_and_retries_spot_reclaims() -> None:
    text = nextflow_config(queue=QUEUE, region=REGION, log_group=LOG_GROUP, spot_attempts=5, environment=MMC,
                           work_dir="s3://my-bucket/nextflow-work")
    assert nextflow_assignments(text) == {
        "process.executor": "awsbatch",
        "process.queue": QUEUE,
        "process.containerOptions": "--env MMC_CHECKPOINT_MODE=iterative --env MMC_CHECKPOINT_INTERVAL=20m "
        "--env MMC_CHECKPOINT_IMAGE_PATH=/mmc-checkpoint --env MMC_CHECKPOINT_IMAGE_SUBPATH=nextflow",
        "aws.region": REGION,
        "aws.batch.cliPath": "/usr/local/aws-cli/bin/aws",
        "aws.batch.maxSpotAttempts": 5,
        "aws.batch.logsGroup": LOG_GROUP,
        "workDir": "s3://my-bucket/nextflow-work",
    }


def test_nextflow_config_without_overrides_sets_no_container_options() -> None:
    found = nextflow_assignments(nextflow_config(queue=QUEUE, region=REGION, log_group=LOG_GROUP, spot_attempts=3))
    assert "process.containerOptions" not in found and "workDir" not in found
    assert found["aws.batch.maxSpotAttempts"] == 3


def test_the_tokenizer_rejects_what_it_does_not_understand() -> None:
    with pytest.raises(AssertionError):
        nextflow_assignments("process {\n    executor = awsbatch\n}\n")  # unquoted
    with pytest.raises(AssertionError):
        nextflow_assignments("process {\n    executor = 'awsbatch'\n")  # unclosed


def test_nextflow_quotes_values_as_groovy_strings() -> None:
    text = nextflow_config(queue="it's", region=REGION, log_group="a\\b", spot_attempts=2)
    found = nextflow_assignments(text)
    assert found["process.queue"] == "it's" and found["aws.batch.logsGroup"] == "a\\b"


# ---------------------------------------------------------------- miniwdl (its own loader)


def load_miniwdl(text: str, tmp_path: Path) -> Loader:
    path = tmp_path / "miniwdl.cfg"
    path.write_text(text)
    return Loader(logging.getLogger("test"), filenames=[str(path)])


def test_miniwdl_config_loads_with_miniwdls_own_loader(tmp_path: Path) -> None:
    text = miniwdl_config(queue=QUEUE, region=REGION, spot_attempts=5, environment=MMC,
                          efs_access_point_id="fsap-0123456789abcdef0", efs_file_system_id="fs-0123456789abcdef0")
    cfg = load_miniwdl(text, tmp_path)
    assert cfg.get("scheduler", "container_backend") == "aws_batch_job"
    assert cfg.get("file_io", "root") == "/mnt/efs"
    assert cfg.get_dict("task_runtime", "defaults") == {"docker": "ubuntu:22.04", "preemptible": 4}
    assert cfg.get_dict("task_runtime", "env") == MMC
    assert cfg.get("aws", "task_queue") == QUEUE and cfg.get("aws", "region") == REGION
    assert cfg.get("aws", "fsap") == "fsap-0123456789abcdef0" and cfg.get("aws", "fs") == "fs-0123456789abcdef0"


def test_miniwdl_config_without_efs_leaves_the_access_point_to_the_user(tmp_path: Path) -> None:
    cfg = load_miniwdl(miniwdl_config(queue=QUEUE, region=REGION, spot_attempts=2), tmp_path)
    assert not cfg.has_option("aws", "fsap") and not cfg.has_option("aws", "fs")
    assert cfg.get_dict("task_runtime", "env") == {}  # miniwdl's own default: nothing overridden
    assert cfg.get_dict("task_runtime", "defaults")["preemptible"] == 1


# ---------------------------------------------------------------- Cromwell (pyhocon)


def test_cromwell_config_parses_with_pyhocon_and_retries_spot_reclaims_only() -> None:
    text = cromwell_config(queue_arn=QUEUE, region=REGION, log_group=LOG_GROUP, spot_attempts=5, bucket="my-bucket",
                           include_application=False)
    config = ConfigFactory.parse_string(text)
    assert config["aws.region"] == REGION
    assert config["backend.default"] == "AWSBatch"
    provider = config["backend.providers.AWSBatch"]
    assert provider["actor-factory"] == "cromwell.backend.impl.aws.AwsBatchBackendLifecycleActorFactory"
    assert provider["config.root"] == "s3://my-bucket/cromwell-execution"
    # Cromwell 92 reads tagResources from the backend config (AwsBatchAttributes.scala); no Cromwell 90-92 reads
    # a propagateTags key (none in backend.scala, AwsBatchAttributes.scala or AwsBatchRuntimeAttributes.scala).
    assert provider["config.tagResources"] is True
    attributes = provider["config.default-runtime-attributes"]
    assert "propagateTags" not in attributes and "tagResources" not in attributes
    assert attributes["queueArn"] == QUEUE and attributes["scriptBucketName"] == "my-bucket"
    assert attributes["logGroupName"] == LOG_GROUP
    assert attributes["awsBatchRetryAttempts"] == 5
    assert [dict(e) for e in attributes["awsBatchEvaluateOnExit"]] == [
        {"action": "RETRY", "onStatusReason": "Host EC2*"},
        {"action": "EXIT", "onReason": "*"},
    ]


def test_cromwell_config_starts_by_including_cromwells_defaults() -> None:
    kwargs: dict[str, Any] = {"queue_arn": QUEUE, "region": REGION, "log_group": LOG_GROUP, "spot_attempts": 5}
    full, body = cromwell_config(**kwargs), cromwell_config(**kwargs, include_application=False)
    first, rest = body.split("\n", 1)
    assert full == f"{first}\n{CROMWELL_INCLUDE}\n{rest}"


def test_cromwell_without_a_bucket_takes_it_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    text = cromwell_config(queue_arn=QUEUE, region=REGION, log_group=LOG_GROUP, spot_attempts=5, include_application=False)
    monkeypatch.setenv("CROMWELL_BUCKET", "team-bucket")
    config = ConfigFactory.parse_string(text)
    assert config["backend.providers.AWSBatch.config.root"] == "s3://team-bucket/cromwell-execution"
    assert config["backend.providers.AWSBatch.config.default-runtime-attributes.scriptBucketName"] == "team-bucket"
    monkeypatch.delenv("CROMWELL_BUCKET")
    with pytest.raises(ConfigException, match="CROMWELL_BUCKET"):
        ConfigFactory.parse_string(text)


@pytest.mark.parametrize("generator", [nextflow_config, miniwdl_config, cromwell_config])
def test_each_generator_checks_spot_attempts(generator: Any) -> None:
    kwargs = {"queue_arn" if generator is cromwell_config else "queue": QUEUE, "region": REGION, "spot_attempts": 1}
    if generator is not miniwdl_config:
        kwargs["log_group"] = LOG_GROUP
    with pytest.raises(ValueError, match=f"{generator.__name__}: spot_attempts 1 is not accepted"):
        generator(**kwargs)


# ---------------------------------------------------------------- with CDK tokens, per queue


def test_each_queue_gets_configs_naming_its_own_queue() -> None:
    parts = build_parts()
    arm = BatchCompute(parts.stack, "Arm", vpc=parts.vpc, storage=parts.stack.node.find_child("Storage"),  # type: ignore[arg-type]
                            agent=parts.stack.node.find_child("Server").agent_installer,  # type: ignore[attr-defined]
                            instance_types=["m7g.large"])
    for name, compute in (("Default", parts.compute), ("Arm", arm)):
        configs = engine_configs(compute, environment=MMC, work_bucket="my-bucket")
        cdk.CfnOutput(parts.stack, f"{name}Nextflow", value=configs.nextflow)
        cdk.CfnOutput(parts.stack, f"{name}Miniwdl", value=configs.miniwdl)
        cdk.CfnOutput(parts.stack, f"{name}Cromwell", value=configs.cromwell)
    outputs = parts.template().to_json()["Outputs"]
    for name, compute in (("Default", parts.compute), ("Arm", arm)):
        queue_ref = {"Fn::GetAtt": [parts.stack.get_logical_id(compute.job_queue.node.default_child), "JobQueueArn"]}
        log_ref = {"Ref": parts.stack.get_logical_id(compute.job_log_group.node.default_child)}
        for engine in ("Nextflow", "Miniwdl", "Cromwell"):
            pieces = outputs[f"{name}{engine}"]["Value"]["Fn::Join"][1]
            assert queue_ref in pieces, f"{name}{engine} does not name its own queue"
            assert {"Ref": "AWS::Region"} in pieces
            other = "Arm" if name == "Default" else "Default"
            other_compute = arm if other == "Arm" else parts.compute
            assert {"Fn::GetAtt": [parts.stack.get_logical_id(other_compute.job_queue.node.default_child), "JobQueueArn"]} not in pieces
        assert log_ref in outputs[f"{name}Nextflow"]["Value"]["Fn::Join"][1]


def test_configs_fit_an_ssm_standard_parameter_with_long_names() -> None:
    long_queue = "arn:aws:batch:ap-southeast-2:123456789012:job-queue/" + "Q" * 128
    texts = [
        nextflow_config(queue=long_queue, region="ap-southeast-2", log_group="L" * 512, spot_attempts=10, environment=MMC,
                        work_dir="s3://" + "b" * 63 + "/nextflow-work"),
        miniwdl_config(queue=long_queue, region="ap-southeast-2", spot_attempts=10, environment=MMC,
                       efs_access_point_id="fsap-0123456789abcdef0", efs_file_system_id="fs-0123456789abcdef0"),
        cromwell_config(queue_arn=long_queue, region="ap-southeast-2", log_group="L" * 512, spot_attempts=10, bucket="b" * 63),
    ]
    assert max(len(t.encode()) for t in texts) < 4096



# ---------------------------------------------------------------- task credentials (issue 21)

ROLE = "arn:aws:iam::123456789012:role/MmBatch-WorkspaceTaskRoleF89600ED-AbCdEf"


def test_nextflow_names_the_job_role_and_the_work_dir_with_documented_keys() -> None:
    text = nextflow_config(queue=QUEUE, region=REGION, log_group=LOG_GROUP, spot_attempts=5, job_role=ROLE,
                           work_dir="s3://team-work/nextflow-work")
    found = nextflow_assignments(text)
    # aws.batch.jobRole: the only source of a task job definition's jobRoleArn (AwsBatchTaskHandler).
    assert found["aws.batch.jobRole"] == ROLE and found["workDir"] == "s3://team-work/nextflow-work"
    without = nextflow_assignments(nextflow_config(queue=QUEUE, region=REGION, log_group=LOG_GROUP, spot_attempts=5))
    assert "aws.batch.jobRole" not in without
    assert "// jobRole: none; tasks have no AWS credentials" in nextflow_config(
        queue=QUEUE, region=REGION, log_group=LOG_GROUP, spot_attempts=5)


def test_cromwell_options_carry_the_job_role_under_cromwells_option_key() -> None:
    # AwsBatchWorkflowOptionKeys.JobRoleArn = "aws_batch_job_role_arn" (broadinstitute/cromwell).
    assert json.loads(cromwell_options(job_role=ROLE)) == {"aws_batch_job_role_arn": ROLE}
    assert json.loads(cromwell_options(job_role=None)) == {}


def test_cromwell_config_with_a_bucket_roots_executions_under_its_prefix() -> None:
    config = ConfigFactory.parse_string(cromwell_config(queue_arn=QUEUE, region=REGION, log_group=LOG_GROUP,
                                                        spot_attempts=5, bucket="team-work", include_application=False))
    backend = config.get_config("backend.providers.AWSBatch.config")
    assert backend.get_string("root") == "s3://team-work/cromwell-execution"
    assert backend.get_string("default-runtime-attributes.scriptBucketName") == "team-work"


def test_miniwdl_config_still_loads_and_says_its_tasks_have_no_credentials(tmp_path: Path) -> None:
    text = miniwdl_config(queue=QUEUE, region=REGION, spot_attempts=5)
    cfg = load_miniwdl(text, tmp_path)
    assert cfg.get("aws", "task_queue") == QUEUE
    assert "# Tasks run without AWS credentials" in text


# ---------------------------------------------------------------- engine_configs: what reaches each engine


class _Queue(Construct):
    """What :func:`engine_configs` reads of a :class:`BatchCompute` (its queue, log group and stack), without one."""

    def __init__(self, scope: Construct) -> None:
        super().__init__(scope, "Queue")
        self.job_queue = SimpleNamespace(job_queue_arn=QUEUE)
        self.job_log_group = SimpleNamespace(log_group_name=LOG_GROUP)


def test_engine_configs_pass_the_defaults_and_every_override_to_each_engine(tmp_path: Path) -> None:
    compute: Any = _Queue(cdk.Stack(cdk.App(), "Engines", env=cdk.Environment(region=REGION)))
    defaults = engine_configs(compute)
    assert nextflow_assignments(defaults.nextflow)["aws.batch.maxSpotAttempts"] == 5, "documented default: 5 attempts"
    assert load_miniwdl(defaults.miniwdl, tmp_path).get_dict("task_runtime", "defaults")["preemptible"] == 4
    assert defaults.cromwell == cromwell_config(queue_arn=QUEUE, region=REGION, log_group=LOG_GROUP, spot_attempts=5)
    given = engine_configs(compute, spot_attempts=3, environment=MMC, efs_access_point_id="fsap-0123456789abcdef0",
                           efs_file_system_id="fs-0123456789abcdef0")
    cfg = load_miniwdl(given.miniwdl, tmp_path)
    # miniwdl tasks get the same MMC_* overrides as Nextflow's, and both EFS ids reach [aws].
    assert cfg.get_dict("task_runtime", "env") == MMC
    assert (cfg.get("aws", "fsap"), cfg.get("aws", "fs")) == ("fsap-0123456789abcdef0", "fs-0123456789abcdef0")
    assert cfg.get_dict("task_runtime", "defaults")["preemptible"] == 2
    assert nextflow_assignments(given.nextflow)["aws.batch.maxSpotAttempts"] == 3
