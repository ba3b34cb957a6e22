"""The text report and the exit status."""

from __future__ import annotations

import json

from mmbatch_cdk.verify.report import Verdict, exit_status, render_json, render_text


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
