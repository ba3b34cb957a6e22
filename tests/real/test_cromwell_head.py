"""The Cromwell head job definition run the way its image runs it, and what it writes read by real parsers.

The synthesized job definition's environment (its SSM secret filled with the parameter's generated value) and command
(``Ref::workflow`` filled with its default) go through the image's entry point (:data:`CROMWELL_ENTRY_POINT`) with
bash, a stand-in ``java`` first on PATH recording its arguments; ``/tmp/`` becomes a directory of the test. The files
``BASH_ENV`` writes are read back: the configuration by Typesafe Config (the library Cromwell loads it with), the
hello-world WDL by miniwdl. Cromwell itself does not run here (docs/real-deploy-claims.md).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import pytest
import WDL

from mmbatch_cdk.head_queue import CROMWELL_ENTRY_POINT, CROMWELL_HELLO
from mmbatch_cdk.smoke_test import SMOKE_TEST_IMAGE

from ..debian import TYPESAFE_CONFIG_JAR, java_home
from ..templates import EXAMPLE_REGION, Synth, resolve_example

_STAND_IN_JAVA = f"""#!{sys.executable}
import json, os, sys
print(json.dumps({{"argv": sys.argv[1:], "BASH_ENV": os.environ.get("BASH_ENV")}}))
"""


@dataclass(frozen=True)
class HeadJob:
    """The Cromwell head job definition of a template, its CloudFormation values resolved to examples."""

    environment: dict[str, str]
    """The container's environment, secrets filled with their SSM parameters' values."""
    command: list[str]
    """The container's command with its ``Ref::`` parameters filled with their defaults."""
    task_role_arn: str
    head_role_arn: str
    config_parameter: str
    """The SSM parameter value the secret names (the generated Cromwell configuration)."""


def _logical_id(s: Synth, prefix: str, type_: str) -> str:
    [found] = [k for k, v in s.template["Resources"].items() if k.startswith(prefix) and v["Type"] == type_]
    return found


def head_job(s: Synth) -> HeadJob:
    resources = s.template["Resources"]
    definition = resources[_logical_id(s, "HeadQueueCromwellHead", "AWS::Batch::JobDefinition")]["Properties"]
    container = resolve_example(definition["ContainerProperties"], resources)
    environment = {e["Name"]: e["Value"] for e in container["Environment"]}
    parameters = {r["Properties"]["Name"]: r["Properties"]["Value"] for r in resources.values() if r["Type"] == "AWS::SSM::Parameter"}
    [secret] = container["Secrets"]
    value = resolve_example(parameters[secret["ValueFrom"].split(":parameter", 1)[1]], resources)
    environment[secret["Name"]] = value
    # AWS Batch replaces a Ref::<name> argument of the command with the parameter's value (here, its default).
    command = [definition["Parameters"][a[5:]] if a.startswith("Ref::") else a for a in container["Command"]]
    role = {"Fn::GetAtt": [_logical_id(s, "WorkspaceTaskRole", "AWS::IAM::Role"), "Arn"]}
    head_role = {"Fn::GetAtt": [_logical_id(s, "HeadQueueRole", "AWS::IAM::Role"), "Arn"]}
    return HeadJob(environment, command, resolve_example(role, resources), resolve_example(head_role, resources), value)


@dataclass(frozen=True)
class Run:
    """One run of the entry point: what java was given and the directory that stood for /tmp."""

    java_argv: list[str]
    java_bash_env: Optional[str]
    """``BASH_ENV`` in java's environment (None: not set)."""
    directory: Path
    stderr: str


def run_entry_point(job: HeadJob, directory: Path, **overrides: str) -> Run:
    """Run :data:`CROMWELL_ENTRY_POINT` with ``job``'s command and environment (``overrides`` replacing variables),
    ``/tmp/`` standing for ``directory`` and a stand-in java that prints its arguments as JSON."""
    assert " " not in str(directory), "the entry point splits JAVA_OPTS at spaces"
    tmp = f"{directory}/"
    bin_dir = directory / "bin"
    bin_dir.mkdir()
    java = bin_dir / "java"
    java.write_text(_STAND_IN_JAVA)
    java.chmod(java.stat().st_mode | stat.S_IXUSR)
    environment = {name: value.replace("/tmp/", tmp) for name, value in {**job.environment, **overrides}.items()}
    command = [a.replace("/tmp/", tmp) for a in job.command]
    result = subprocess.run([*CROMWELL_ENTRY_POINT, *command], env={"PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin", **environment},
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, cwd=directory)
    assert result.returncode == 0, result.stderr
    java = json.loads(result.stdout)
    return Run(java["argv"], java["BASH_ENV"], directory, result.stderr)


@pytest.fixture(scope="module")
def job(synth: Callable[[str], Synth]) -> HeadJob:
    return head_job(synth("efs"))


@pytest.fixture(scope="module")
def ran(job: HeadJob, tmp_path_factory: pytest.TempPathFactory) -> Run:
    return run_entry_point(job, tmp_path_factory.mktemp("cromwell-head"))


def test_the_entry_point_runs_cromwell_with_the_written_config_options_and_hello_world(job: HeadJob, ran: Run) -> None:
    d = ran.directory
    assert ran.stderr == ""
    assert ran.java_argv[0] == f"-Dconfig.file={d}/cromwell.conf"
    jar = ran.java_argv.index("-jar")
    assert ran.java_argv[jar:] == ["-jar", "/app/cromwell.jar", "run", f"{d}/hello.wdl", "--inputs", f"{d}/cromwell-inputs.json",
                                   "--options", f"{d}/cromwell-options.json"]
    assert (d / "cromwell.conf").read_text() == job.config_parameter
    assert json.loads((d / "cromwell-options.json").read_text()) == {"aws_batch_job_role_arn": job.task_role_arn}
    assert job.task_role_arn != job.head_role_arn
    assert json.loads((d / "cromwell-inputs.json").read_text()) == {}
    assert (d / "hello.wdl").read_text() == CROMWELL_HELLO


def test_java_does_not_inherit_bash_env(job: HeadJob, ran: Run) -> None:
    """A bash that java (Cromwell) starts would expand BASH_ENV again and write the files anew."""
    assert "BASH_ENV" in job.environment
    assert ran.java_bash_env is None


def test_java_sizes_cromwells_heap_to_three_quarters_of_the_container(ran: Run) -> None:
    """Without MaxRAMPercentage the JVM takes a quarter of the container's 4 GiB as its heap (HotSpot's default), which
    a long workflow's call cache and metadata outgrow."""
    assert "-XX:MaxRAMPercentage=75" in ran.java_argv[:ran.java_argv.index("-jar")]


@pytest.mark.parametrize("emptied", ["MMBATCH_CROMWELL_CONFIG", "MMBATCH_CROMWELL_OPTIONS"])
def test_without_config_or_options_no_config_file_is_written_so_cromwell_cannot_start(
        job: HeadJob, tmp_path: Path, emptied: str) -> None:
    ran = run_entry_point(job, tmp_path, **{emptied: ""})
    assert ran.java_argv[0] == f"-Dconfig.file={tmp_path}/cromwell.conf", "java still runs, and stops on the missing file"
    assert not (tmp_path / "cromwell.conf").exists()
    assert not (tmp_path / "cromwell-options.json").exists()
    assert (tmp_path / "hello.wdl").read_text() == CROMWELL_HELLO


@pytest.mark.parametrize(("emptied", "file"), [("MMBATCH_CROMWELL_INPUTS", "cromwell-inputs.json"),
                                               ("MMBATCH_CROMWELL_HELLO", "hello.wdl")])
def test_empty_inputs_or_hello_world_write_no_file(job: HeadJob, tmp_path: Path, emptied: str, file: str) -> None:
    run_entry_point(job, tmp_path, **{emptied: ""})
    assert not (tmp_path / file).exists()
    assert (tmp_path / "cromwell.conf").read_text() == job.config_parameter


def test_inputs_given_at_submit_job_replace_the_default(job: HeadJob, tmp_path: Path) -> None:
    inputs = json.dumps({"wf.name": "it's \"quoted\" $HOME `x`"})
    run_entry_point(job, tmp_path, MMBATCH_CROMWELL_INPUTS=inputs)
    assert (tmp_path / "cromwell-inputs.json").read_text() == inputs


def test_the_hello_world_is_wdl_1_0_that_type_checks_and_runs_in_the_smoke_test_image() -> None:
    document = WDL.parse_document(CROMWELL_HELLO)
    document.typecheck()
    assert document.wdl_version == "1.0"
    assert document.workflow is not None
    assert [(o.name, str(o.type)) for o in document.workflow.outputs or []] == [("greeting", "String")]
    [task] = document.tasks
    docker = task.runtime["docker"]
    assert isinstance(docker, WDL.Expr.String) and docker.literal is not None and docker.literal.value == SMOKE_TEST_IMAGE


_ADD_OPENS = "--add-opens=java.base/sun.security.util=ALL-UNNAMED"


def _java_opts(run: Run) -> str:
    """What the entry point's java got from JAVA_OPTS: every argument before the entry point's own ``--add-opens``."""
    assert f"java ${{JAVA_OPTS}} {_ADD_OPENS} " in CROMWELL_ENTRY_POINT[2]
    return " ".join(run.java_argv[:run.java_argv.index(_ADD_OPENS)])


def _typesafe(run: Run, classpath_dir: Path) -> subprocess.CompletedProcess[str]:
    """The groovy script loading the configuration with the JVM options ``run``'s java got, in ``classpath_dir``
    (groovy puts its working directory on the classpath, where ``include required(classpath("application"))`` looks)."""
    script = Path(__file__).with_name("cromwell_config.groovy")
    return subprocess.run(["groovy", "-cp", TYPESAFE_CONFIG_JAR, str(script)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "JAVA_HOME": str(java_home()), "JAVA_OPTS": _java_opts(run)},
                          cwd=classpath_dir, stdin=subprocess.DEVNULL)


NEEDS_TYPESAFE = pytest.mark.needs_deb("groovy", "default-jre-headless", "libtypesafe-config-java")


@NEEDS_TYPESAFE
def test_typesafe_config_loads_the_written_config_as_cromwells_aws_batch_backend_reads_it(
        synth: Callable[[str], Synth], ran: Run, tmp_path: Path) -> None:
    s = synth("efs")
    resources = s.template["Resources"]
    queue = resolve_example({"Fn::GetAtt": [_logical_id(s, "ComputeJobQueue", "AWS::Batch::JobQueue"), "JobQueueArn"]}, resources)
    bucket = resolve_example({"Ref": _logical_id(s, "WorkspaceBucket", "AWS::S3::Bucket")}, resources)
    log_group = resolve_example({"Ref": _logical_id(s, "ComputeJobLogs", "AWS::Logs::LogGroup")}, resources)
    (tmp_path / "application.conf").write_text("")  # stands in for the application.conf inside cromwell.jar
    result = _typesafe(ran, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "aws.region": EXAMPLE_REGION,
        "aws.auths": [{"name": "default", "scheme": "default"}],
        "backend.default": "AWSBatch",
        "actor-factory": "cromwell.backend.impl.aws.AwsBatchBackendLifecycleActorFactory",
        "root": f"s3://{bucket}/cromwell-execution",
        "tagResources": True,
        "queueArn": queue,
        "scriptBucketName": bucket,
        "logGroupName": log_group,
        "awsBatchRetryAttempts": 5,
        "awsBatchEvaluateOnExit": [{"action": "RETRY", "onStatusReason": "Host EC2*"}, {"action": "EXIT", "onReason": "*"}],
        "default-runtime-attributes": ["awsBatchEvaluateOnExit", "awsBatchRetryAttempts", "logGroupName", "queueArn",
                                       "scriptBucketName"],
    }


@NEEDS_TYPESAFE
def test_typesafe_config_refuses_the_config_without_cromwells_application_conf(ran: Run, tmp_path: Path) -> None:
    result = _typesafe(ran, tmp_path)
    assert result.returncode != 0 and "application" in result.stderr, "the required classpath include was not read"


@NEEDS_TYPESAFE
def test_without_a_written_config_typesafe_config_stops_on_the_missing_file(job: HeadJob, tmp_path: Path) -> None:
    run = run_entry_point(job, tmp_path, MMBATCH_CROMWELL_CONFIG="")
    (tmp_path / "application.conf").write_text("")
    result = _typesafe(run, tmp_path)
    assert result.returncode != 0
    assert f"ConfigException$IO: {tmp_path}/cromwell.conf" in result.stderr, result.stderr[-3000:]


# Cromwell's run mode takes a workflow source that is not a local path as a URL, validated with java.net.URL
# (broadinstitute/cromwell server/src/main/scala/cromwell/CommandLineArguments.scala, validateSubmission, and
# PartialWorkflowSources.validateWorkflowUrl): a scheme the JVM has no handler for is refused there.
_URL_CHECK = """
for (source in args) {
    try { new URL(source); println "accepted" } catch (MalformedURLException e) { println "refused: " + e.message }
}
"""


@pytest.mark.needs_deb("groovy", "default-jre-headless")
def test_the_jvm_takes_an_https_workflow_url_and_refuses_an_s3_one() -> None:
    """docs/engines.md: the Cromwell head job's ``workflow`` is an https:// URL or a path in the image, not s3://."""
    result = subprocess.run(["groovy", "-e", _URL_CHECK, "https://example.org/main.wdl", "s3://bucket/main.wdl"],
                            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
                            env={**os.environ, "JAVA_HOME": str(java_home())})
    assert result.stdout.splitlines() == ["accepted", "refused: unknown protocol: s3"], result.stderr[-2000:]
