"""SSM Run Command on the server: a bounded wait that cancels the command when it runs out."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber

from mmbatch_cdk.verify.aws import Aws, run_on_server

from .world import FakeClock, shared_client


def test_wait_is_bounded_and_cancels_the_command() -> None:
    ssm = shared_client("ssm")
    clock = FakeClock()
    with Stubber(ssm) as stub:
        stub.add_response("send_command", {"Command": {"CommandId": "c0ffee00-0000-4000-8000-000000000002"}},
                          {"InstanceIds": ["i-0123456789abcdef0"], "DocumentName": "AWS-RunShellScript", "Parameters": ANY,
                           "Comment": ANY, "TimeoutSeconds": ANY})
        # Right after SendCommand the invocation may not exist yet: retried, not an error.
        stub.add_client_error("get_command_invocation", "InvocationDoesNotExist")
        for _ in range(3):
            stub.add_response("get_command_invocation", {"Status": "InProgress"})
        stub.add_response("cancel_command", {}, {"CommandId": "c0ffee00-0000-4000-8000-000000000002",
                                                 "InstanceIds": ["i-0123456789abcdef0"]})
        start = clock.now()
        result = run_on_server(Aws(factory=lambda name: ssm, clock=clock), "i-0123456789abcdef0", "true", timeout_s=12, poll_s=3)
        stub.assert_no_pending_responses()
    assert (result.status, clock.now() - start) == ("NoAnswer", 12)
    assert result.stderr == "no result within 12 s"


def test_a_command_ssm_delays_is_waited_for_not_taken_as_its_outcome() -> None:
    """``Delayed`` (GetCommandInvocation's Status while the agent cannot run it yet) is still in progress."""
    ssm = shared_client("ssm")
    clock = FakeClock()
    with Stubber(ssm) as stub:
        stub.add_response("send_command", {"Command": {"CommandId": "c0ffee00-0000-4000-8000-000000000003"}},
                          {"InstanceIds": ["i-0123456789abcdef0"], "DocumentName": "AWS-RunShellScript", "Parameters": ANY,
                           "Comment": ANY, "TimeoutSeconds": ANY})
        stub.add_response("get_command_invocation", {"Status": "Delayed"})
        stub.add_response("get_command_invocation", {"Status": "Success", "StandardOutputContent": "http=200\n",
                                                     "StandardErrorContent": ""})
        result = run_on_server(Aws(factory=lambda name: ssm, clock=clock), "i-0123456789abcdef0", "true", timeout_s=60, poll_s=3)
        stub.assert_no_pending_responses()
    assert (result.status, result.stdout) == ("Success", "http=200\n")


def test_an_error_other_than_a_not_yet_existing_invocation_is_raised_not_waited_out() -> None:
    """Only InvocationDoesNotExist is the moment after SendCommand; AccessDenied on GetCommandInvocation is a missing
    permission, to be reported at once (could not run) rather than polled for two minutes and called no answer."""
    ssm = shared_client("ssm")
    clock = FakeClock()
    with Stubber(ssm) as stub:
        stub.add_response("send_command", {"Command": {"CommandId": "c0ffee00-0000-4000-8000-000000000004"}},
                          {"InstanceIds": ["i-0123456789abcdef0"], "DocumentName": "AWS-RunShellScript", "Parameters": ANY,
                           "Comment": ANY, "TimeoutSeconds": ANY})
        stub.add_client_error("get_command_invocation", "AccessDeniedException", "not authorized to perform: ssm:GetCommandInvocation")
        with pytest.raises(ClientError, match="ssm:GetCommandInvocation"):
            run_on_server(Aws(factory=lambda name: ssm, clock=clock), "i-0123456789abcdef0", "true", timeout_s=60, poll_s=3)
        stub.assert_no_pending_responses()
