"""Without AWS calls: the text report, the exit status, the stack step, queue selection, flags, the drill judge."""

from __future__ import annotations

import json

import pytest

from mmbatch_cdk.verify.aws import CouldNotRun
from mmbatch_cdk.verify.checks import check_stack
from mmbatch_cdk.verify.cli import _estimate, _queues, main, parser
from mmbatch_cdk.verify.drill import judge
from mmbatch_cdk.verify.report import Verdict, exit_status, render_json, render_text
from mmbatch_cdk.verify.smoke import LogLine
from mmbatch_cdk.verify.stack import QueueOutputs, StackOutputs


def test_text_report_lists_steps_in_order_with_their_evidence() -> None:
    verdicts = [Verdict("smoke", "failed", "queue default: j-1 FAILED: Essential container in task exited",
                        ["log s/1: last lines:", "  count=3/6"]),
                Verdict("stack", "passed", "mmbatch is CREATE_COMPLETE"), Verdict("drill", "skipped", "not asked for (--drill)")]
    assert render_text(verdicts).splitlines() == [
        "PASSED         stack    mmbatch is CREATE_COMPLETE",
        "FAILED         smoke    queue default: j-1 FAILED: Essential container in task exited",
        "                        log s/1: last lines:",
        "                          count=3/6",
        "SKIPPED        drill    not asked for (--drill)",
        "verify: a check failed",
    ]
    assert json.loads(render_json(verdicts))["exitStatus"] == 1


def test_exit_status_could_not_run_outranks_failed_and_skipped_passes() -> None:
    passed, skipped = Verdict("stack", "passed", ""), Verdict("drill", "skipped", "")
    failed, unable = Verdict("server", "failed", ""), Verdict("smoke", "could-not-run", "")
    assert exit_status([passed, skipped]) == 0
    assert exit_status([passed, failed]) == 1
    assert exit_status([failed, unable]) == 2


def test_a_stack_not_in_a_complete_state_fails_the_stack_step() -> None:
    queue = QueueOutputs("", "arn:aws:batch:us-east-1:123456789012:job-queue/q", None, None)
    assert check_stack(StackOutputs("mmbatch", "UPDATE_COMPLETE", {}, [queue])).outcome == "passed"
    rolling = check_stack(StackOutputs("mmbatch", "UPDATE_ROLLBACK_IN_PROGRESS", {}, [queue]))
    assert (rolling.outcome, rolling.summary) == ("failed", "stack mmbatch is UPDATE_ROLLBACK_IN_PROGRESS, not in a complete state")
    assert check_stack(StackOutputs("other", "CREATE_COMPLETE", {}, [])).summary == \
        "stack other has no JobQueueArn output: not an mmbatch-cdk stack?"


def test_queue_names_select_queues_and_unknown_ones_could_not_run() -> None:
    jq1, jq2 = (QueueOutputs(n, f"arn:aws:batch:us-east-1:123456789012:job-queue/{n}", None, None) for n in ("Jq1", "Jq2"))
    stack = StackOutputs("mmbatch", "CREATE_COMPLETE", {}, [jq1, jq2])
    assert _queues(stack, None) == [jq1, jq2]
    assert _queues(stack, ["Jq2", "Jq2"]) == [jq2]
    with pytest.raises(CouldNotRun, match=r"--queue default: not a queue of mmbatch \(queues: Jq1, Jq2\)"):
        _queues(stack, ["default"])


def test_bounds_must_be_above_zero(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["verify", "--stack", "mmbatch", "--smoke-timeout", "0"])
    assert exit.value.code == 2
    assert "argument --smoke-timeout: '0' is not accepted; expected a number above 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["verify", "--stack", "mmbatch", "--smoke-lines", "two"])
    assert "argument --smoke-lines: 'two' is not accepted; expected a number above 0" in capsys.readouterr().err


def test_drill_judge_a_count_starting_over_without_its_started_line_is_not_a_restore() -> None:
    """The started line may fall outside what was read; a count back at 1 alone says the job started over."""
    job = {"status": "RUNNING", "attempts": [{"statusReason": "Host EC2 (instance i-0aaaaaaaaaaaaaaa1) terminated."}]}
    first = [LogLine(1_000, "2026-12-04T17:10:00Z count=9/120 elapsed=270s")]
    second = [LogLine(9_000, "2026-12-04T17:20:00Z count=1/120 elapsed=30s")]
    verdict = judge(job, first, second, notice_ms=5_000)
    assert verdict is not None
    assert (verdict.outcome, verdict.summary) == ("failed", "retried, not restored: the count started again at 1")
    assert judge(job, first, [], notice_ms=5_000) is None  # the second attempt has logged nothing yet: wait


def test_an_output_the_stack_lacks_could_not_run_naming_it() -> None:
    """A stack from another version of the app: verify stops on the missing output rather than read an empty one."""
    stack = StackOutputs("mmbatch", "CREATE_COMPLETE", {"JobQueueArn": "arn:aws:batch:us-east-1:111122223333:job-queue/q"}, [])
    assert stack.get("JobQueueArn").endswith("job-queue/q")
    with pytest.raises(CouldNotRun, match="^stack mmbatch has no output NodeBootLogGroupName: deployed from another version"):
        stack.get("NodeBootLogGroupName")


def test_a_rolled_back_update_passes_the_stack_step_and_a_rolled_back_create_fails_it() -> None:
    """UPDATE_ROLLBACK_COMPLETE keeps every resource of the last good deploy; ROLLBACK_COMPLETE, a failed create, has none."""
    queue = QueueOutputs("", "arn:aws:batch:us-east-1:123456789012:job-queue/q", None, None)
    assert check_stack(StackOutputs("mmbatch", "UPDATE_ROLLBACK_COMPLETE", {}, [queue])).outcome == "passed"
    failed = check_stack(StackOutputs("mmbatch", "ROLLBACK_COMPLETE", {}, [queue]))
    assert (failed.outcome, failed.summary) == ("failed", "stack mmbatch is ROLLBACK_COMPLETE, not in a complete state")


def test_the_question_gives_the_time_the_jobs_run_for() -> None:
    """--drill: the wait for a checkpoint then the drill's bound; without: the smoke lines at 30 s each."""
    queue = QueueOutputs("", "arn:aws:batch:us-east-1:123456789012:job-queue/q", None, None)
    drill = parser().parse_args(["verify", "--stack", "s", "--drill", "--checkpoint-timeout", "20", "--drill-timeout", "30"])
    assert "for about 50 min plus a node's boot" in _estimate([queue], drill)
    smoke = parser().parse_args(["verify", "--stack", "s", "--smoke-lines", "10"])
    assert "for about 5 min plus a node's boot" in _estimate([queue], smoke)


def test_the_last_line_says_whether_every_check_passed_or_some_could_not_run() -> None:
    """The line a user reads first when scrolling back: 'all checks passed' only when nothing failed or was left unrun."""
    passed, unable = Verdict("stack", "passed", "mmbatch is CREATE_COMPLETE"), Verdict("smoke", "could-not-run", "declined")
    assert render_text([passed]).splitlines()[-1] == "verify: all checks passed"
    assert render_text([passed, unable]).splitlines()[-1] == "verify: could not run every check"


def test_the_json_report_lists_the_steps_in_the_report_order_whatever_order_they_were_judged_in() -> None:
    """A script reading ``steps`` by position sees the same order as the text report and docs/verify.md."""
    verdicts = [Verdict("stack", "passed", ""), Verdict("smoke", "passed", ""), Verdict("compute", "passed", ""),
                Verdict("storage", "passed", ""), Verdict("server", "passed", ""), Verdict("drill", "skipped", "")]
    assert [s["step"] for s in json.loads(render_json(verdicts))["steps"]] == ["stack", "server", "storage", "compute", "smoke", "drill"]


@pytest.mark.parametrize("status", ["IMPORT_COMPLETE", "IMPORT_ROLLBACK_COMPLETE"])
def test_a_stack_after_a_resource_import_passes_the_stack_step(status: str) -> None:
    """A stable state with every resource in place, whether the import went through or was rolled back."""
    queue = QueueOutputs("", "arn:aws:batch:us-east-1:123456789012:job-queue/q", None, None)
    assert check_stack(StackOutputs("mmbatch", status, {}, [queue])).outcome == "passed"


@pytest.mark.parametrize("status", ["IMPORT_ROLLBACK_IN_PROGRESS", "IMPORT_ROLLBACK_FAILED", "UPDATE_ROLLBACK_FAILED"])
def test_a_stack_mid_rollback_or_stuck_in_one_stops_the_run(status: str) -> None:
    queue = QueueOutputs("", "arn:aws:batch:us-east-1:123456789012:job-queue/q", None, None)
    assert check_stack(StackOutputs("mmbatch", status, {}, [queue])).outcome == "failed"


def test_a_server_url_without_a_port_is_asked_on_the_https_port() -> None:
    """``ManagementServerUrl`` carries :8080 today; a URL without one means HTTPS's own port, where MMAB would listen."""
    assert StackOutputs("mmbatch", "CREATE_COMPLETE", {"ManagementServerUrl": "https://mmab.mmbatch.internal"}, []).server_port == 443
    assert StackOutputs("mmbatch", "CREATE_COMPLETE", {"ManagementServerUrl": "https://mmab.mmbatch.internal:8080"}, []).server_port == 8080


def test_smoke_lines_must_be_a_whole_number(capsys: pytest.CaptureFixture[str]) -> None:
    """The count replaces the smoke job's last argument, which its script reads with int(): 2.5 would fail the job itself."""
    with pytest.raises(SystemExit) as exit:
        main(["verify", "--stack", "mmbatch", "--smoke-lines", "2.5"])
    assert exit.value.code == 2
    assert "argument --smoke-lines: '2.5' is not accepted; expected a number above 0" in capsys.readouterr().err


def test_queue_is_repeatable_and_each_flag_names_one_whole_queue() -> None:
    """``--queue Jq2 --queue Jq1`` runs on both queues (docs/verify.md: repeatable), each name taken whole."""
    jq1, jq2 = (QueueOutputs(n, f"arn:aws:batch:us-east-1:123456789012:job-queue/{n}", None, None) for n in ("Jq1", "Jq2"))
    stack = StackOutputs("mmbatch", "CREATE_COMPLETE", {}, [jq1, jq2])
    args = parser().parse_args(["verify", "--stack", "mmbatch", "--queue", "Jq2", "--queue", "Jq1"])
    assert args.queue == ["Jq2", "Jq1"]
    assert _queues(stack, args.queue) == [jq2, jq1]
    assert _queues(stack, parser().parse_args(["verify", "--stack", "mmbatch", "--queue", "Jq1"]).queue) == [jq1]


def test_the_drill_notes_a_retry_on_the_same_container_instance_and_only_then() -> None:
    """A retry on the very node that was interrupted would mean the interruption did not take the node away."""
    first = [LogLine(1_000, "2026-12-04T17:10:00Z count=9/120 elapsed=270s")]
    second = [LogLine(9_000, "2026-12-04T17:20:00Z count=9/120 elapsed=270s")]
    spot = "Host EC2 (instance i-0aaaaaaaaaaaaaaa1) terminated."

    def verdict(second_instance: str) -> Verdict:
        job = {"status": "RUNNING", "attempts": [{"statusReason": spot, "container": {"containerInstanceArn": "ci/1"}}],
               "container": {"containerInstanceArn": second_instance}}
        found = judge(job, first, second, notice_ms=5_000)
        assert found is not None and found.outcome == "passed"
        return found

    assert "note: both attempts ran on the same container instance" in verdict("ci/1").details
    assert not any(d.startswith("note:") for d in verdict("ci/2").details)
