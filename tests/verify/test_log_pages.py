"""Reading CloudWatch Logs as its API pages them: a partial or empty page is not the end, and the read is bounded."""

from __future__ import annotations

from botocore.stub import Stubber

from mmbatch_cdk.verify.aws import LOG_PAGES, log_events

from .world import shared_client

GROUP, STREAM = "mmbatch-NodeBootLogs", "i-0123456789abcdef0"


def _event(n: int, filtered: bool = False) -> dict[str, object]:
    """An event as GetLogEvents returns it, or as FilterLogEvents does (with its stream and id)."""
    event: dict[str, object] = {"timestamp": n, "message": f"line {n}\n", "ingestionTime": n}
    return {**event, "logStreamName": STREAM, "eventId": str(n)} if filtered else event


def test_an_empty_filter_page_with_a_token_is_followed_to_the_events_after_it() -> None:
    """FilterLogEvents: "Partially full or empty pages don't necessarily mean that pagination is finished"."""
    logs = shared_client("logs")
    request = {"logGroupName": GROUP, "startTime": 0, "filterPattern": '"FATAL"'}
    with Stubber(logs) as stub:
        stub.add_response("filter_log_events", {"events": [], "nextToken": "t1"}, {**request, "limit": 10})
        stub.add_response("filter_log_events", {"events": [_event(1, True)], "nextToken": "t2"}, {**request, "limit": 10, "nextToken": "t1"})
        stub.add_response("filter_log_events", {"events": [_event(2, True)]}, {**request, "limit": 9, "nextToken": "t2"})
        found = log_events(logs, "filter_log_events", 10, **request)
        stub.assert_no_pending_responses()
    assert [e["message"] for e in found] == ["line 1\n", "line 2\n"]


def test_a_stream_is_read_from_its_head_until_get_log_events_hands_back_the_token_it_was_given() -> None:
    logs = shared_client("logs")
    request = {"logGroupName": GROUP, "logStreamName": STREAM, "startFromHead": True}
    with Stubber(logs) as stub:
        stub.add_response("get_log_events", {"events": [], "nextForwardToken": "f/1", "nextBackwardToken": "b/0"},
                          {**request, "limit": 500})
        stub.add_response("get_log_events", {"events": [_event(1), _event(2)], "nextForwardToken": "f/2",
                                             "nextBackwardToken": "b/0"}, {**request, "limit": 500, "nextToken": "f/1"})
        stub.add_response("get_log_events", {"events": [], "nextForwardToken": "f/2", "nextBackwardToken": "b/0"},
                          {**request, "limit": 498, "nextToken": "f/2"})
        found = log_events(logs, "get_log_events", 500, **request)
        stub.assert_no_pending_responses()
    assert [e["timestamp"] for e in found] == [1, 2]


def test_a_read_stops_at_its_limit_and_after_its_last_page() -> None:
    """No more than ``limit`` events, and no more than LOG_PAGES calls on a stream that keeps handing out new tokens."""
    logs = shared_client("logs")
    request = {"logGroupName": GROUP, "logStreamName": STREAM, "startFromHead": True}
    with Stubber(logs) as stub:
        stub.add_response("get_log_events", {"events": [_event(1), _event(2), _event(3)], "nextForwardToken": "f/3",
                                             "nextBackwardToken": "b/0"}, {**request, "limit": 2})
        assert [e["timestamp"] for e in log_events(logs, "get_log_events", 2, **request)] == [1, 2]
        for n in range(LOG_PAGES):
            stub.add_response("get_log_events", {"events": [], "nextForwardToken": f"f/{n + 1}", "nextBackwardToken": "b/0"})
        assert log_events(logs, "get_log_events", 500, **request) == []
        stub.assert_no_pending_responses()  # exactly LOG_PAGES calls: one more would find no response
