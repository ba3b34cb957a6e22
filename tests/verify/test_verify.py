"""Every verdict of ``mmbatch-cdk verify`` from realistic API answers (tests/verify/world.py), on a fake clock."""

from __future__ import annotations

import datetime
import io
import json
from typing import Any, Optional

import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import ANY

from mmbatch_cdk.verify.checks import NodeLogs, judge_nodes
from mmbatch_cdk.verify.cli import _ask, main
from mmbatch_cdk.verify.drill import _stop_if_running
from mmbatch_cdk.verify.smoke import SmokeJob, job_log, run_smoke
from mmbatch_cdk.verify.stack import read_stack

from .world import JOB_ID, NODE_1, NODE_2, TEMPLATE_ID, World, _container_instance, attempt, experiment, shared_client

JOBS = "/aws/batch/mmbatch-jobs"
STREAM_1 = "SmokeTestDefinition-abc/default/0a1b2c3d4e5f"
STREAM_2 = "SmokeTestDefinition-abc/default/9f8e7d6c5b4a"
MOUNTED = "2026-12-04T17:00:04Z mmbatch[efs-mount]: mounted fs-0123456789abcdef0 (access point fsap-0123456789abcdef0) at /mmc-checkpoint"
GATE_OPEN = "2026-12-04T17:01:10Z mmbatch[agent-install]: pagent installed for MMAB 1.4.0-release; the ECS gate opens"
FATAL = ("2026-12-04T17:06:12Z mmbatch: FATAL agent-install: management server 10.0.1.17:8080 did not serve the agent installer "
         "within 600s; shutting down so AWS Batch replaces this node")
CONFIG = {"ckpt": {"ckptMode": "iterative", "ckptInterval": "5m0s"}}
"""GET /api/v1/config's answer: its shape is not documented; verify looks for ckptInterval at any depth."""
SPOT_LOSS = f"Host EC2 (instance {NODE_1}) terminated."


def run(world: World, *args: str, ask: Any = None) -> int:
    """Run the command with --json (read it with ``out``); its exit status."""
    return main(["verify", "--stack", "mmbatch", "--json", "--poll", "15", *args], aws=world.aws,
                ask=ask or (lambda question: pytest.fail(f"asked without need: {question}")))


@pytest.fixture
def out(capsys: pytest.CaptureFixture[str]) -> Any:
    """Reads the JSON report: each step's verdict by step id."""
    def read() -> dict[str, dict[str, Any]]:
        report = json.loads(capsys.readouterr().out)
        return {s["step"]: s for s in report["steps"]}
    return read


def smoke_log(world: World, stream: str, counts: range, *, started: bool = True, finished: bool = False, at_s: float = 0) -> None:
    lines = (["smoke-test started: 1024 MiB resident, one line every 30 s, 120 lines"] if started else [])
    lines += [f"2026-12-04T17:{10 + n // 2:02d}:{(n % 2) * 30:02d}Z count={n}/120 elapsed={30 * n}s" for n in counts]
    world.log(JOBS, stream, lines + (["smoke-test finished"] if finished else []), at_s=at_s)


def healthy_until_smoke(world: World, *, drill: bool = False) -> None:
    world.deploy(drill=drill)
    world.server_answers(body=CONFIG)
    world.queues_valid()
    world.submit(shortened=not drill)


def test_healthy_stack_passes_every_step(world: World, out: Any) -> None:
    healthy_until_smoke(world)
    world.job("RUNNING", stream=STREAM_1, instance=NODE_1)
    world.job("SUCCEEDED", stream=STREAM_1, instance=NODE_1, attempts=[attempt(NODE_1, STREAM_1, "Essential container in task exited")])
    smoke_log(world, STREAM_1, range(1, 7), finished=True)
    world.nodes(NODE_1)
    world.boot_log(NODE_1, [MOUNTED, GATE_OPEN])
    status = run(world, "--yes")
    steps = out()
    assert {k: v["outcome"] for k, v in steps.items()} == {
        "stack": "passed", "server": "passed", "storage": "passed", "compute": "passed", "smoke": "passed", "drill": "skipped"}
    assert status == 0
    assert steps["server"]["summary"] == "MMAB answers; checkpoint interval 5m0s as configured"
    assert MOUNTED in steps["storage"]["details"]
    assert any(f"submitted {JOB_ID}" in line for line in world.progress)


def test_server_down_fails_server_and_starts_nothing(world: World, out: Any) -> None:
    world.deploy(moto_batch=True)
    shared_client("ec2").stop_instances(InstanceIds=[world.server_id])
    status = run(world, "--yes")
    steps = out()
    assert status == 1
    assert steps["server"]["outcome"] == "failed"
    assert steps["server"]["summary"] == f"management server {world.server_id} is stopped, not running"
    assert steps["smoke"]["outcome"] == "skipped"  # no submit_job stubbed: the Stubber would fail a submit


def test_mmab_not_answering_fails_server(world: World, out: Any) -> None:
    world.deploy(moto_batch=True)
    world.server_answers(http="000")
    assert run(world, "--yes") == 1
    assert out()["server"]["summary"] == "MMAB does not answer on https://localhost:8080/api/v1/config: HTTP 000"


def test_interval_other_than_configured_fails_server(world: World, out: Any) -> None:
    world.deploy(interval="15m", moto_batch=True)
    world.server_answers(body=CONFIG)
    assert run(world, "--yes") == 1
    assert out()["server"]["summary"] == "checkpoint interval is 5m0s on the server; the stack configured 15m"


def test_boot_gate_failure_is_quoted_and_the_job_terminated(world: World, out: Any) -> None:
    healthy_until_smoke(world)
    world.boot_log(NODE_1, [MOUNTED, FATAL])
    for _ in range(3):  # 30 s bound, 15 s polls: three reads, then the job is terminated
        world.job("RUNNABLE", reason="")
    world.terminated()
    status = run(world, "--yes", "--smoke-timeout", "0.5")
    steps = out()
    assert status == 1
    assert steps["smoke"]["summary"] == f"queue default: {JOB_ID} not SUCCEEDED within 0 min (status RUNNABLE); terminated"
    assert steps["compute"]["summary"] == "no node ran the smoke job: nodes failed the boot gate"
    assert steps["compute"]["details"] == [f"{NODE_1}: {FATAL}"]
    assert steps["storage"]["outcome"] == "skipped"


def test_a_disabled_compute_environment_fails_compute_and_starts_nothing(world: World, out: Any) -> None:
    world.deploy(moto_batch=True)
    world.server_answers(body=CONFIG)
    shared_client("batch").update_compute_environment(computeEnvironment="ComputeEnvironment-abc", state="DISABLED")
    assert run(world, "--yes") == 1
    steps = out()
    assert steps["compute"]["summary"] == "a queue or compute environment is not VALID and ENABLED"
    assert steps["compute"]["details"] == ["compute environment ComputeEnvironment-abc: DISABLED/VALID: Compute environment is available"]
    assert steps["smoke"]["summary"] == "not started: the server or compute check failed"


def test_no_stdin_and_no_yes_refuses_costly_steps(world: World, out: Any) -> None:
    world.deploy()
    world.server_answers(body=CONFIG)
    world.queues_valid()
    status = run(world, ask=lambda question: None)
    steps = out()
    assert status == 2
    assert steps["smoke"] == {"step": "smoke", "outcome": "could-not-run", "summary": "not started: no terminal to ask on and no --yes",
                              "details": []}


def test_question_names_what_it_starts(world: World, out: Any) -> None:
    world.deploy(drill=True)
    world.server_answers(body=CONFIG)
    world.queues_valid()
    asked: list[str] = []
    assert run(world, "--drill", ask=lambda q: asked.append(q) or False) == 2
    assert "1 smoke job(s), one per queue (default)" in asked[0]
    assert "1 AWS FIS experiment(s)" in asked[0]
    assert out()["drill"]["summary"] == "not started: declined"


def test_stack_not_found_could_not_run(world: World, out: Any) -> None:
    status = run(world)
    assert status == 2
    assert out()["stack"]["summary"] == "stack mmbatch: Stack with id mmbatch does not exist"


def test_ctrl_c_terminates_the_smoke_job(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    healthy_until_smoke(world)
    world.clock.interrupt_after = 1  # the SSM poll's sleep passes; the first smoke poll's is interrupted
    world.job("RUNNABLE")
    world.terminated()
    assert run(world, "--yes") == 130
    assert capsys.readouterr().err.strip() == f"mmbatch-cdk verify: interrupted; terminate smoke job {JOB_ID}"


# The drill: the smoke job runs, MMAB checkpoints it, FIS interrupts its node, Batch retries it.


def until_interrupted(world: World) -> datetime.datetime:
    """Smoke job RUNNING on NODE_1, checkpointed, the experiment started; returns the notice's time."""
    healthy_until_smoke(world, drill=True)
    world.job("RUNNING", stream=STREAM_1, instance=NODE_1)
    smoke_log(world, STREAM_1, range(1, 13))
    world.nodes(NODE_1)
    world.boot_log(NODE_1, [MOUNTED, GATE_OPEN])
    world.mmab_jobs(["Checkpointing"])
    world.mmab_jobs(["Checkpointing", "CheckpointSucceeded"])
    notice = datetime.datetime.fromtimestamp(world.clock.t + 400, tz=datetime.timezone.utc)
    fis = world.stub("fis")
    fis.add_response("start_experiment", experiment("initiating"),
                     {"experimentTemplateId": TEMPLATE_ID, "tags": {"mmbatch:verify": JOB_ID}})
    fis.add_response("get_experiment", experiment("running", started=notice))
    return notice


def after_interruption(world: World, second: Optional[list[str]], *, reason: str = SPOT_LOSS, status: str = "RUNNING") -> None:
    first = attempt(NODE_1, STREAM_1, reason)
    world.job("RUNNABLE", stream=STREAM_1, instance=NODE_1, attempts=[first])
    if second is not None:
        world.job(status, stream=STREAM_2, instance=NODE_2, attempts=[first])
        world.log(JOBS, STREAM_2, second, at_s=600)


def test_drill_restored_reports_the_restore_time(world: World, out: Any) -> None:
    until_interrupted(world)
    after_interruption(world, ["2026-12-04T17:25:30Z count=12/120 elapsed=1130s", "2026-12-04T17:26:00Z count=13/120 elapsed=1160s"])
    world.mmab_jobs(["CheckpointSucceeded", "Restoring", "RestoreSucceeded"])
    world.terminated()
    status = run(world, "--drill", "--yes")
    steps = out()
    assert steps["drill"]["outcome"] == "passed", steps["drill"]
    # The notice at t0 + 400 s (FIS's action start), the second attempt's first line at t0 + 600 s.
    assert steps["drill"]["summary"] == "restored: the count went on at 12; restore time 200 s (notice to first restored log line)"
    assert "first attempt's last count 12; second attempt's first count 12" in steps["drill"]["details"]
    assert "MMAB lists RestoreSucceeded for the job: yes" in steps["drill"]["details"]
    assert steps["smoke"]["outcome"] == "passed" and status == 0


def test_drill_retried_not_restored(world: World, out: Any) -> None:
    until_interrupted(world)
    after_interruption(world, ["smoke-test started: 1024 MiB resident, one line every 30 s, 120 lines",
                               "2026-12-04T17:26:00Z count=1/120 elapsed=30s"])
    world.terminated()
    assert run(world, "--drill", "--yes") == 1
    assert out()["drill"]["summary"] == "retried, not restored: the second attempt started over ('smoke-test started')"


def test_drill_failed_with_another_reason_quotes_it(world: World, out: Any) -> None:
    until_interrupted(world)
    reason = "Task failed to start"
    world.job("FAILED", stream=STREAM_1, instance=NODE_1, attempts=[attempt(NODE_1, STREAM_1, reason)], reason=reason)
    assert run(world, "--drill", "--yes") == 1
    drill = out()["drill"]
    assert drill["summary"] == f"failed with another reason: the first attempt ended {reason!r}"
    assert "the retry rule needs an entry for it" in drill["details"][0]


def test_drill_experiment_finding_no_node_could_not_run(world: World, out: Any) -> None:
    healthy_until_smoke(world, drill=True)
    world.job("RUNNING", stream=STREAM_1, instance=NODE_1)
    smoke_log(world, STREAM_1, range(1, 3))
    world.nodes(NODE_1)
    world.boot_log(NODE_1, [MOUNTED, GATE_OPEN])
    world.mmab_jobs(["CheckpointSucceeded"])
    fis = world.stub("fis")
    fis.add_response("start_experiment", experiment("initiating"))
    fis.add_response("get_experiment", experiment("failed", reason="Target resolution returned empty set"))
    world.terminated()
    assert run(world, "--drill", "--yes") == 2
    assert out()["drill"]["summary"] == "FIS experiment EXP5Zk8s1Xh2b3c4 failed: Target resolution returned empty set"


def running_and_logged(world: World) -> None:
    """Smoke job RUNNING on NODE_1 with its started line, its node through the boot gate (the drill's preamble)."""
    healthy_until_smoke(world, drill=True)
    world.job("RUNNING", stream=STREAM_1, instance=NODE_1)
    smoke_log(world, STREAM_1, range(1, 3))
    world.nodes(NODE_1)
    world.boot_log(NODE_1, [MOUNTED, GATE_OPEN])


def test_drill_without_a_checkpoint_fails_at_its_bound_and_starts_no_experiment(world: World, out: Any) -> None:
    """--checkpoint-timeout bounds the wait for MMAB's first checkpoint: 1 min at 15 s polls is five reads."""
    running_and_logged(world)
    for _ in range(5):
        world.mmab_jobs(["Checkpointing"])
    world.terminated()  # the job is still RUNNING: it is terminated, and no FIS call is stubbed (one would fail)
    assert run(world, "--drill", "--yes", "--checkpoint-timeout", "1") == 1
    drill = out()["drill"]
    assert drill["summary"] == f"MMAB listed no CheckpointSucceeded for {JOB_ID} within 1 min"
    # The world fixture checks that all five answers were read: no fewer reads, and a sixth would find no answer.


def test_drill_without_a_judgement_fails_at_its_bound_and_stops_the_experiment(world: World, out: Any) -> None:
    """--drill-timeout bounds the wait after the interruption; an experiment not seen to end is stopped."""
    until_interrupted(world)
    for _ in range(4):  # 1 min at 15 s polls: four reads, the job never interrupted
        world.job("RUNNING", stream=STREAM_1, instance=NODE_1)
    fis = world.stub("fis")
    fis.add_response("get_experiment", experiment("running"), {"id": "EXP5Zk8s1Xh2b3c4"})
    fis.add_response("stop_experiment", experiment("stopping"), {"id": "EXP5Zk8s1Xh2b3c4"})
    world.terminated()
    assert run(world, "--drill", "--yes", "--drill-timeout", "1") == 1
    drill = out()["drill"]
    assert drill["summary"] == "no judgement within 1 min of the experiment: job RUNNING, 0 attempt(s) ended"
    assert drill["details"] == ["stopped FIS experiment EXP5Zk8s1Xh2b3c4 (running)"]


@pytest.mark.parametrize(("state", "stop_error", "details"), [
    ("completed", None, []),  # its two-minute action long over: nothing to stop, nothing said
    ("running", "ResourceNotFoundException",
     ["FIS experiment EXP5Zk8s1Xh2b3c4 may still be running, not stopped: gone: stop it by hand"]),
])
def test_a_drill_without_a_judgement_stops_only_a_running_experiment_and_says_when_it_could_not(
        world: World, out: Any, state: str, stop_error: Optional[str], details: list[str]) -> None:
    until_interrupted(world)
    for _ in range(4):
        world.job("RUNNING", stream=STREAM_1, instance=NODE_1)
    fis = world.stub("fis")
    fis.add_response("get_experiment", experiment(state))
    if stop_error:
        fis.add_client_error("stop_experiment", stop_error, "gone")
    world.terminated()
    assert run(world, "--drill", "--yes", "--drill-timeout", "1") == 1  # the verdict stands: failed, not could-not-run
    assert out()["drill"]["details"] == details


def test_drill_interrupted_and_not_retried_says_so(world: World, out: Any) -> None:
    """A Spot loss on the only attempt that ended the job FAILED: the retry rule did not retry it."""
    until_interrupted(world)
    world.job("FAILED", stream=STREAM_1, instance=NODE_1, attempts=[attempt(NODE_1, STREAM_1, SPOT_LOSS)],
              reason="Essential container in task exited")
    assert run(world, "--drill", "--yes") == 1
    assert out()["drill"]["summary"] == f"interrupted ({SPOT_LOSS}) but not retried: Essential container in task exited"


def test_drill_is_skipped_on_a_queue_whose_smoke_job_failed(world: World, out: Any) -> None:
    """No MMAB read and no experiment (neither is stubbed: a call would fail the run) after a failed smoke job."""
    healthy_until_smoke(world, drill=True)
    world.job("FAILED", stream=STREAM_1, instance=NODE_1, reason="Essential container in task exited")
    smoke_log(world, STREAM_1, range(1, 3))
    world.nodes(NODE_1)
    world.boot_log(NODE_1, [MOUNTED, GATE_OPEN])
    assert run(world, "--drill", "--yes") == 1
    steps = out()
    assert steps["smoke"]["outcome"] == "failed"
    assert steps["drill"] == {"step": "drill", "outcome": "skipped", "summary": "queue default: its smoke job did not run",
                              "details": []}


def test_a_smoke_job_that_succeeded_without_its_finished_line_fails(world: World, out: Any) -> None:
    """SUCCEEDED is not enough: the job must have logged that it ran to the end."""
    healthy_until_smoke(world)
    world.job("SUCCEEDED", stream=STREAM_1, instance=NODE_1)
    smoke_log(world, STREAM_1, range(1, 7), finished=False)
    world.nodes(NODE_1)
    world.boot_log(NODE_1, [MOUNTED, GATE_OPEN])
    assert run(world, "--yes") == 1
    smoke = out()["smoke"]
    assert (smoke["outcome"], smoke["summary"]) == ("failed", f"queue default: {JOB_ID} SUCCEEDED without a 'smoke-test finished' line")


def test_an_enabled_queue_that_is_not_valid_fails_compute(world: World, out: Any) -> None:
    """State and status both count: ENABLED/INVALID is not a queue jobs can run on."""
    world.deploy()
    world.server_answers(body=CONFIG)
    world.stub("batch").add_response("describe_job_queues", {"jobQueues": [{
        "jobQueueName": "JobQueueEE3AD499-abc", "jobQueueArn": world.outputs["JobQueueArn"], "state": "ENABLED",
        "status": "INVALID", "statusReason": "CLIENT_ERROR - compute environment missing", "priority": 10,
        "computeEnvironmentOrder": []}]})
    assert run(world, "--yes") == 1
    steps = out()
    assert steps["compute"]["details"] == ["queue default: ENABLED/INVALID: CLIENT_ERROR - compute environment missing",
                                           "queue default: no compute environment"]
    assert steps["smoke"]["summary"] == "not started: the server or compute check failed"


def test_without_a_terminal_nothing_is_asked_and_nothing_started(world: World, out: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    world.deploy()
    world.server_answers(body=CONFIG)
    world.queues_valid()
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))  # piped input is no answer: only a terminal's is
    assert main(["verify", "--stack", "mmbatch", "--json"], aws=world.aws) == 2
    assert out()["smoke"]["summary"] == "not started: no terminal to ask on and no --yes"


def test_a_fatal_line_on_a_node_that_ran_the_job_fails_compute() -> None:
    """A retry's node that failed its boot, beside the one that ran the job."""
    compute, storage = judge_nodes(NodeLogs({NODE_1: [MOUNTED, GATE_OPEN], NODE_2: [MOUNTED, FATAL]}))
    assert (compute.outcome, compute.summary, compute.details) == ("failed", "a node failed the boot gate", [f"{NODE_2}: {FATAL}"])
    assert storage.outcome == "passed"
    compute, storage = judge_nodes(NodeLogs({NODE_1: ["2026-12-04T17:00:04Z mmbatch[efs-mount]: installing amazon-efs-utils"]}))
    assert storage.summary == f"no /mmc-checkpoint mount line in the boot log of {NODE_1}"
    assert compute.summary == f"no gate-open line in the boot log of {NODE_1}"


def test_an_aws_error_mid_run_could_not_run_and_terminates_the_job(world: World, out: Any) -> None:
    healthy_until_smoke(world)
    world.stub("batch").add_client_error("describe_jobs", "AccessDeniedException", "not authorized to perform: batch:DescribeJobs")
    world.terminated()
    assert run(world, "--yes") == 2
    smoke = out()["smoke"]
    assert smoke["outcome"] == "could-not-run"
    assert smoke["summary"].endswith(f"not authorized to perform: batch:DescribeJobs; terminate smoke job {JOB_ID}")


def test_a_disabled_head_queue_fails_compute_too(world: World, out: Any) -> None:
    # The head-job queue (output HeadJobQueueArn) is checked with the node queues: a pipeline's head job needs it.
    world.deploy(moto_batch=True, head_queue=True)
    world.server_answers(body=CONFIG)
    batch = shared_client("batch")
    head = world.outputs["HeadJobQueueArn"]
    batch.update_job_queue(jobQueue=head, state="DISABLED")
    assert run(world, "--yes") == 1
    steps = out()
    assert steps["compute"]["summary"] == "a queue or compute environment is not VALID and ENABLED"
    assert [d for d in steps["compute"]["details"] if d.startswith("queue head: DISABLED/")] != []


def test_a_node_that_shipped_no_boot_log_fails_compute_and_storage(world: World, out: Any) -> None:
    """The node ran the job but has no boot log stream (its CloudWatch agent never started): silence is no pass."""
    healthy_until_smoke(world)
    world.job("SUCCEEDED", stream=STREAM_1, instance=NODE_1, attempts=[attempt(NODE_1, STREAM_1, "Essential container in task exited")])
    smoke_log(world, STREAM_1, range(1, 7), finished=True)
    world.nodes(NODE_1)  # and no stream NODE_1 in the boot log group
    assert run(world, "--yes") == 1
    steps = out()
    assert (steps["compute"]["outcome"], steps["compute"]["summary"]) == ("failed", f"no boot log shipped from {NODE_1}")
    assert (steps["storage"]["outcome"], steps["storage"]["summary"]) == (
        "failed", "no node boot log to read the checkpoint mount from")


def test_a_fatal_line_logged_before_the_run_is_not_blamed_for_a_job_no_node_ran(world: World, out: Any) -> None:
    """Only FATAL lines since verify started count: an old node's failed boot says nothing about this run."""
    healthy_until_smoke(world)
    world.log("mmbatch-NodeBootLogs", "i-0ccccccccccccccc3", [FATAL], at_s=-1800)
    for _ in range(3):
        world.job("RUNNABLE", reason="")
    world.terminated()
    assert run(world, "--yes", "--smoke-timeout", "0.5") == 1
    compute = out()["compute"]
    assert compute["summary"] == "no node ran the smoke job"
    assert compute["details"] == ["no FATAL line in the node boot logs: see the queue's RUNNABLE reason and Spot capacity"]


def test_a_failed_smoke_job_quotes_the_last_ten_lines_of_its_log(world: World, out: Any) -> None:
    healthy_until_smoke(world)
    world.job("FAILED", stream=STREAM_1, instance=NODE_1, reason="Essential container in task exited")
    smoke_log(world, STREAM_1, range(1, 15))  # the started line and counts 1 to 14
    world.nodes(NODE_1)
    world.boot_log(NODE_1, [MOUNTED, GATE_OPEN])
    assert run(world, "--yes") == 1
    details = out()["smoke"]["details"]
    assert details[0] == f"log {STREAM_1}: last lines:"
    assert [d.split()[1] for d in details[1:]] == [f"count={n}/120" for n in range(5, 15)]


def test_a_failed_smoke_job_is_not_terminated_again_when_a_later_step_cannot_run(world: World, out: Any) -> None:
    """A job that ended FAILED costs nothing more: an AWS error after it undoes only what still runs, and the report
    does not claim a terminate (nor make one) for it."""
    healthy_until_smoke(world)
    world.job("FAILED", stream=STREAM_1, instance=NODE_1, reason="Essential container in task exited")
    smoke_log(world, STREAM_1, range(1, 3))
    world.stub("ecs").add_client_error("describe_container_instances", "AccessDeniedException",
                                       "not authorized to perform: ecs:DescribeContainerInstances")
    assert run(world, "--yes") == 2
    compute = out()["compute"]
    assert compute["outcome"] == "could-not-run"
    assert compute["summary"].endswith("not authorized to perform: ecs:DescribeContainerInstances")


def test_a_log_stream_not_created_yet_is_no_lines_not_an_error(world: World) -> None:
    """Batch names an attempt's stream before the container's log driver has created it (at container start; never,
    if the container did not start): reading it meanwhile is "nothing logged yet", not an AWS error that ends the run
    could-not-run."""
    world.deploy()
    stack = read_stack(world.aws, "mmbatch")
    assert job_log(world.aws, stack, STREAM_1) == []


def test_a_drill_smoke_job_that_already_succeeded_has_run(world: World) -> None:
    """With --drill the smoke step asks only that the job ran (its started line, or its end); whether it was
    interrupted is the drill's to judge, so a full-length job found SUCCEEDED passes even before its finished line
    is readable, and its drill is not skipped as "did not run"."""
    world.deploy(drill=True)
    stack = read_stack(world.aws, "mmbatch")
    smoke = SmokeJob(stack.queues[0], JOB_ID, {"status": "RUNNABLE"})
    world.job("SUCCEEDED", stream=STREAM_1, instance=NODE_1)
    smoke_log(world, STREAM_1, range(1, 3))  # no finished line (yet)
    run_smoke(world.aws, stack, [smoke], until_running=True, timeout_s=60, poll_s=15)
    assert smoke.verdict is not None and (smoke.verdict.outcome, smoke.verdict.summary) == (
        "passed", f"queue default: {JOB_ID} SUCCEEDED")


def test_a_running_job_whose_log_lacks_the_started_line_is_not_a_running_smoke_test(world: World, out: Any) -> None:
    """--drill needs the smoke test itself running (its started line), not any output of the job's container."""
    healthy_until_smoke(world, drill=True)
    for _ in range(3):  # 30 s bound, 15 s polls
        world.job("RUNNING", stream=STREAM_1, instance=NODE_1)
    world.log(JOBS, STREAM_1, ["entrypoint: waiting for /mmc-checkpoint"])
    world.terminated()
    world.nodes(NODE_1)
    world.boot_log(NODE_1, [MOUNTED, GATE_OPEN])
    assert run(world, "--drill", "--yes", "--smoke-timeout", "0.5") == 1  # no MMAB read or FIS call is stubbed
    steps = out()
    assert steps["smoke"]["summary"] == f"queue default: {JOB_ID} not RUNNING within 0 min (status RUNNING); terminated"
    assert steps["drill"]["summary"] == "queue default: its smoke job did not run"


@pytest.mark.parametrize(("status", "reason"), [("stopped", "Experiment stopped by user."),
                                               ("cancelled", "Experiment cancelled.")])
def test_drill_experiment_ended_before_it_acted_could_not_run(world: World, out: Any, status: str, reason: str) -> None:
    """Someone stopped the experiment (console, or a stop condition), or FIS cancelled it (both ended states of its
    ExperimentStatus): no interruption is coming, so no wait for one, and no "failed" verdict for a drill that never
    interrupted anything."""
    running_and_logged(world)
    world.mmab_jobs(["CheckpointSucceeded"])
    fis = world.stub("fis")
    fis.add_response("start_experiment", experiment("initiating"))
    fis.add_response("get_experiment", experiment(status, reason=reason))
    world.terminated()
    assert run(world, "--drill", "--yes") == 2
    assert out()["drill"]["summary"] == f"FIS experiment EXP5Zk8s1Xh2b3c4 {status}: {reason}"


def test_a_drill_without_a_judgement_leaves_alone_an_experiment_seen_to_complete(world: World, out: Any) -> None:
    """An experiment seen completed has done its interruption: nothing to stop at the bound, nor on Ctrl-C, and no
    FIS call (the Stubber has none left, so a read would end in a "may still be running" line)."""
    healthy_until_smoke(world, drill=True)
    world.job("RUNNING", stream=STREAM_1, instance=NODE_1)
    smoke_log(world, STREAM_1, range(1, 13))
    world.nodes(NODE_1)
    world.boot_log(NODE_1, [MOUNTED, GATE_OPEN])
    world.mmab_jobs(["CheckpointSucceeded"])
    notice = datetime.datetime.fromtimestamp(world.clock.t + 400, tz=datetime.timezone.utc)
    fis = world.stub("fis")
    fis.add_response("start_experiment", experiment("initiating"))
    fis.add_response("get_experiment", experiment("completed", started=notice))
    for _ in range(4):  # 1 min at 15 s polls: four reads, the job never seen interrupted
        world.job("RUNNING", stream=STREAM_1, instance=NODE_1)
    world.terminated()
    assert run(world, "--drill", "--yes", "--drill-timeout", "1") == 1
    drill = out()["drill"]
    assert drill["summary"] == "no judgement within 1 min of the experiment: job RUNNING, 0 attempt(s) ended"
    assert drill["details"] == []


@pytest.mark.parametrize("state", ["pending", "initiating"])
def test_an_experiment_not_yet_running_when_the_drill_gives_up_is_stopped_too(world: World, state: str) -> None:
    """It can still act: left alone, it would interrupt a node after verify has reported."""
    fis = world.stub("fis")
    fis.add_response("get_experiment", experiment(state), {"id": "EXP5Zk8s1Xh2b3c4"})
    fis.add_response("stop_experiment", experiment("stopping"), {"id": "EXP5Zk8s1Xh2b3c4"})
    assert _stop_if_running(world.client("fis"), "EXP5Zk8s1Xh2b3c4") == f"stopped FIS experiment EXP5Zk8s1Xh2b3c4 ({state})"


def test_a_connection_error_stopping_the_experiment_is_said_not_raised(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's own errors (no route to FIS) as well as the API's: the drill's verdict stands, with a line asking
    for the experiment to be stopped by hand, rather than the whole run ending could-not-run."""
    def unreachable(**request: Any) -> Any:
        raise EndpointConnectionError(endpoint_url="https://fis.us-east-1.amazonaws.com/experiments/EXP5Zk8s1Xh2b3c4")

    fis = world.client("fis")
    monkeypatch.setattr(fis, "get_experiment", unreachable)
    assert _stop_if_running(fis, "EXP5Zk8s1Xh2b3c4") == (
        'FIS experiment EXP5Zk8s1Xh2b3c4 may still be running, not stopped: Could not connect to the endpoint URL: '
        '"https://fis.us-east-1.amazonaws.com/experiments/EXP5Zk8s1Xh2b3c4": stop it by hand')


def test_mmab_requiring_a_login_passes_server_on_the_boot_scripts_marker(world: World, out: Any) -> None:
    """HTTP 401 is MMAB answering: its settings are then judged by ckptConfig.done, the boot script's applied PUT."""
    world.deploy(moto_batch=True)
    world.server_answers(http="401")
    status = run(world, ask=lambda question: False)  # declined: nothing started
    server = out()["server"]
    assert (server["outcome"], server["summary"]) == ("passed", "MMAB answers; checkpoint settings applied at boot")
    assert "the API requires a login, so its settings were not read" in server["details"]
    assert status == 2


def test_settings_neither_read_nor_applied_at_boot_fail_server(world: World, out: Any) -> None:
    """MMAB installed and answering, its answer naming no interval, and no ckptConfig.done: the settings were never set."""
    world.deploy(moto_batch=True)
    world.server_answers(body={"version": "1.4.0"}, markers="mmab-1.4.0-release.installed")
    status = run(world, ask=lambda question: False)  # a server that passed would be asked about, then declined
    server = out()["server"]
    assert (server["outcome"], server["summary"]) == (
        "failed", "the checkpoint settings were never applied (PUT /api/v1/ckptConfig did not succeed)")
    assert server["details"][-1] == ("see /var/log/mmab/bootstrap.log: the ServerLogGroupName output's stream "
                                     f"{world.server_id}/mmab__var_log_mmab_bootstrap.log; set them in the dashboard")
    assert status == 1


def test_declining_the_smoke_job_could_not_run_and_does_not_pass(world: World, out: Any) -> None:
    """Without --drill too: a declined smoke job leaves storage and the nodes unchecked, so verify cannot say all passed."""
    world.deploy(moto_batch=True)
    world.server_answers(body=CONFIG)
    assert run(world, ask=lambda question: False) == 2
    assert out()["smoke"] == {"step": "smoke", "outcome": "could-not-run", "summary": "not started: declined", "details": []}


def test_a_retried_smoke_job_has_every_node_it_ran_on_judged(world: World, out: Any) -> None:
    """The first attempt's node (lost to Spot) and the retry's: each one's boot log is read."""
    healthy_until_smoke(world)
    attempts = [attempt(NODE_1, STREAM_1, SPOT_LOSS), attempt(NODE_2, STREAM_2, "Essential container in task exited")]
    world.job("SUCCEEDED", stream=STREAM_2, instance=NODE_2, attempts=attempts)
    smoke_log(world, STREAM_2, range(1, 7), finished=True)
    world.stub("ecs").add_response("describe_container_instances", {"containerInstances": [
        {"containerInstanceArn": _container_instance(i), "ec2InstanceId": i} for i in (NODE_1, NODE_2)], "failures": []},
        {"cluster": ANY, "containerInstances": [_container_instance(NODE_1), _container_instance(NODE_2)]})
    world.boot_log(NODE_1, [MOUNTED, GATE_OPEN])
    world.boot_log(NODE_2, [MOUNTED, GATE_OPEN])
    assert run(world, "--yes") == 0
    steps = out()
    assert steps["compute"]["summary"] == f"queues VALID and ENABLED; node(s) {NODE_1}, {NODE_2} passed the boot gate"
    assert steps["storage"]["summary"] == f"checkpoint storage mounted on node(s) {NODE_1}, {NODE_2}"


@pytest.mark.parametrize(("ping", "registered"), [("ConnectionLost", True), ("Inactive", True), ("not registered", False)])
def test_a_server_session_manager_cannot_reach_fails_server_and_sends_no_command(world: World, out: Any, ping: str,
                                                                                registered: bool) -> None:
    """Only an Online SSM agent runs the check script: any other ping status, or none, fails the step before SendCommand."""
    world.deploy(moto_batch=True)
    world.stub("ssm").add_response("describe_instance_information", {"InstanceInformationList": [
        {"InstanceId": world.server_id, "PingStatus": ping}] if registered else []})
    assert run(world, "--yes") == 1  # no send_command is stubbed
    server = out()["server"]
    assert server["summary"] == f"management server {world.server_id} is not managed by Session Manager (SSM agent: {ping})"


def test_a_boot_script_run_again_on_a_node_passes_on_its_already_done_lines() -> None:
    """A node whose boot script ran again (a reboot) logs that the mount and the agent are there already."""
    rerun = ["2026-12-04T18:00:02Z mmbatch[efs-mount]: /mmc-checkpoint is already mounted",
             "2026-12-04T18:00:03Z mmbatch[agent-install]: pagent for MMAB 1.4.0-release already installed"]
    compute, storage = judge_nodes(NodeLogs({NODE_1: rerun}))
    assert (compute.outcome, storage.outcome) == ("passed", "passed")
    assert storage.details == [rerun[0]]


def test_ctrl_c_in_the_drill_stops_the_experiment_even_when_terminating_the_job_fails(
        world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """Each cleanup is tried whatever the one before did: a running experiment left behind could interrupt a node later."""
    running_and_logged(world)
    world.mmab_jobs(["CheckpointSucceeded"])
    fis = world.stub("fis")
    fis.add_response("start_experiment", experiment("initiating"))
    # Sleeps: the server check's poll, the smoke poll, the MMAB read's poll; the first wait for the notice is Ctrl-C.
    world.clock.interrupt_after = 3
    world.stub("batch").add_client_error("terminate_job", "ServerException", "Batch is unavailable")
    fis.add_response("stop_experiment", experiment("stopping"), {"id": "EXP5Zk8s1Xh2b3c4"})
    assert run(world, "--drill", "--yes") == 130
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"mmbatch-cdk verify: interrupted; terminate smoke job {JOB_ID} FAILED (")
    assert "Batch is unavailable): do it by hand" in err
    assert err.endswith("; stop experiment EXP5Zk8s1Xh2b3c4")


def test_a_connection_error_mid_run_could_not_run_and_terminates_the_job(world: World, out: Any,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Not only the API's errors: botocore's own (no route to the endpoint, a timeout) are AWS errors too, exit 2."""
    healthy_until_smoke(world)
    world.terminated()

    def unreachable(**request: Any) -> Any:
        raise EndpointConnectionError(endpoint_url="https://batch.us-east-1.amazonaws.com/v1/describejobs")

    monkeypatch.setattr(world.client("batch"), "describe_jobs", unreachable)
    assert run(world, "--yes") == 2
    smoke = out()["smoke"]
    assert smoke["outcome"] == "could-not-run"
    assert smoke["summary"] == ('Could not connect to the endpoint URL: "https://batch.us-east-1.amazonaws.com/v1/describejobs"'
                                f"; terminate smoke job {JOB_ID}")


def test_a_drill_asked_of_a_stack_deployed_without_it_could_not_run_and_starts_nothing(world: World, out: Any) -> None:
    """--drill on a stack without SpotDrillTemplateId: the proof asked for cannot be given, so no exit 0 (nor a smoke job)."""
    world.deploy(moto_batch=True)
    world.server_answers(body=CONFIG)
    assert run(world, "--drill", "--yes") == 2  # no submit_job is stubbed
    steps = out()
    assert steps["drill"] == {"step": "drill", "outcome": "could-not-run", "details": [],
                              "summary": "queue(s) default have no SpotDrillTemplateId output: deploy with -c drill=true"}
    assert (steps["smoke"]["outcome"], steps["smoke"]["summary"]) == ("skipped", "not started: no drill to run")


def test_the_json_report_has_each_step_once_in_order(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """compute is judged twice (queues, then the nodes' boot logs): only the last judgement is reported."""
    healthy_until_smoke(world)
    world.job("SUCCEEDED", stream=STREAM_1, instance=NODE_1, attempts=[attempt(NODE_1, STREAM_1, "Essential container in task exited")])
    smoke_log(world, STREAM_1, range(1, 7), finished=True)
    world.nodes(NODE_1)
    world.boot_log(NODE_1, [MOUNTED, GATE_OPEN])
    assert run(world, "--yes") == 0
    steps = json.loads(capsys.readouterr().out)["steps"]
    assert [s["step"] for s in steps] == ["stack", "server", "storage", "compute", "smoke", "drill"]
    assert steps[3]["summary"] == f"queues VALID and ENABLED; node(s) {NODE_1} passed the boot gate"


def test_an_aws_error_reading_the_queues_is_the_compute_steps(world: World, out: Any) -> None:
    """The verdict names the step whose AWS call failed, so the missing permission is looked for in the right place."""
    world.deploy()
    world.server_answers(body=CONFIG)
    world.stub("batch").add_client_error("describe_job_queues", "AccessDeniedException",
                                         "not authorized to perform: batch:DescribeJobQueues")
    assert run(world, "--yes") == 2
    steps = out()
    assert steps["compute"]["outcome"] == "could-not-run"
    assert steps["compute"]["summary"].endswith("not authorized to perform: batch:DescribeJobQueues")
    assert steps["server"]["outcome"] == "passed", "the server's verdict, known before the error, stays in the report"


@pytest.mark.parametrize(("typed", "answer"), [("y\n", True), ("yes\n", True), ("YES\n", True), ("\n", False), ("no\n", False)])
def test_a_terminal_answer_of_y_or_yes_in_any_case_starts_and_anything_else_declines(
        monkeypatch: pytest.MonkeyPatch, typed: str, answer: bool) -> None:
    """The question says [y/N]: a user typing the whole word (or in capitals) means yes too."""
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Terminal(typed))
    assert _ask("Go ahead?") is answer


def test_the_progress_lines_name_each_status_the_smoke_job_reaches(world: World, out: Any) -> None:
    """While verify waits (minutes, with a node's boot), stderr shows where the job is, each change once."""
    healthy_until_smoke(world)
    world.job("RUNNABLE")
    world.job("RUNNABLE")
    world.job("RUNNING", stream=STREAM_1, instance=NODE_1)
    world.job("SUCCEEDED", stream=STREAM_1, instance=NODE_1, attempts=[attempt(NODE_1, STREAM_1, "Essential container in task exited")])
    smoke_log(world, STREAM_1, range(1, 7), finished=True)
    world.nodes(NODE_1)
    world.boot_log(NODE_1, [MOUNTED, GATE_OPEN])
    assert run(world, "--yes") == 0
    assert [line for line in world.progress if line.startswith(f"smoke: {JOB_ID}")] == [
        f"smoke: {JOB_ID} on default: {status}" for status in ("RUNNABLE", "RUNNING", "SUCCEEDED")]


def test_a_stack_deployed_without_mmab_fails_server_saying_so(world: World, out: Any) -> None:
    """The stack's Checkpointing output (mmbatch_cdk/stacks.py) says OFF: the cause, not a never-finished install."""
    world.deploy(checkpointing="OFF: no mmabSource, so nodes run jobs without the MMBatch agent", moto_batch=True)
    world.server_answers(http="000", markers="")
    assert run(world, "--yes") == 1
    server = out()["server"]
    assert server["summary"] == "MMAB is not installed: the stack has no mmabSource, so nothing is checkpointed"


def test_mmab_answering_403_is_answering_and_passes_server_on_the_boot_scripts_marker(world: World, out: Any) -> None:
    """Forbidden, like 401, is MMAB's API refusing an anonymous read: the server is up (as the boot script also takes it)."""
    world.deploy(moto_batch=True)
    world.server_answers(http="403")
    assert run(world, ask=lambda question: False) == 2
    server = out()["server"]
    assert (server["outcome"], server["summary"]) == ("passed", "MMAB answers; checkpoint settings applied at boot")


@pytest.mark.parametrize(("mounted", "said"), [
    ("yes", "server: /mmc-checkpoint mounted"),
    ("no", "server: /mmc-checkpoint not mounted (the stack mounts checkpoint storage on nodes)")])
def test_storage_evidence_says_whether_the_server_mounts_checkpoint_storage(world: World, out: Any, mounted: str,
                                                                             said: str) -> None:
    world.deploy(moto_batch=True)
    world.server_answers(body=CONFIG, mounted=mounted)
    assert run(world, ask=lambda question: False) == 2
    assert out()["storage"]["details"] == [said]
