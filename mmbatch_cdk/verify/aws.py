"""The thin AWS layer: boto3 clients from the user's credential chain, a clock, and the waits built on them.

Every response is a plain ``dict`` (boto3's shapes); the checks read them. ``Clock`` is injected so tests run
without sleeping, and every wait here is bounded by a deadline on that clock.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Protocol

__all__ = ["Aws", "Clock", "CouldNotRun", "LOG_PAGES", "SystemClock", "ServerCommand", "log_events", "run_on_server"]

Client = Any
"""A boto3 client (untyped: the checks read plain dicts from it)."""


LOG_PAGES = 20
"""Pages of log events read at most per request: CloudWatch Logs may return a partial or empty page while more events
follow, so one page is not the answer, and a stream still being written could be followed for ever."""


def log_events(logs: Client, operation: str, limit: int, **request: Any) -> list[dict[str, Any]]:
    """Up to ``limit`` events of ``get_log_events`` (from the stream's head) or ``filter_log_events``, following the
    page token over up to :data:`LOG_PAGES` pages. Both APIs' references: "Partially full or empty pages don't
    necessarily mean that pagination is finished"; GetLogEvents is done when it hands back the token it was given,
    FilterLogEvents when it gives none."""
    events: list[dict[str, Any]] = []
    token: Optional[str] = None
    for _ in range(LOG_PAGES):
        paging = {} if token is None else {"nextToken": token}
        page = getattr(logs, operation)(limit=limit - len(events), **request, **paging)
        events.extend(page.get("events", []))
        next_token = page.get("nextForwardToken" if operation == "get_log_events" else "nextToken")
        if len(events) >= limit or next_token is None or next_token == token:
            break
        token = next_token
    return events[:limit]


class CouldNotRun(Exception):
    """The command cannot go on (no credentials, stack not found, no permission): exit status 2."""


class Clock(Protocol):
    """Time in seconds, and a way to wait."""

    def now(self) -> float:
        """Seconds since the epoch."""

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        """``time.time()``."""
        return time.time()

    def sleep(self, seconds: float) -> None:
        """``time.sleep(seconds)``."""
        time.sleep(seconds)


@dataclass
class Aws:
    """Clients by service name, made on first use by ``factory`` (``boto3.Session(...).client`` by default)."""

    factory: Callable[[str], Client]
    clock: Clock = field(default_factory=SystemClock)
    progress: Callable[[str], None] = lambda message: None
    """Where progress lines go while the command waits (stderr in the CLI)."""
    step: str = "stack"
    """The step under way, to which an AWS error that stops the command is attributed."""
    cleanups: dict[str, Callable[[], None]] = field(default_factory=dict)
    """What to undo if the command is interrupted (terminate a smoke job, stop an experiment), by description."""
    _clients: dict[str, Client] = field(default_factory=dict)

    @classmethod
    def from_session(cls, *, region: Optional[str], profile: Optional[str], progress: Callable[[str], None]) -> "Aws":
        """Clients of a boto3 session with the user's normal credential chain; ``CouldNotRun`` without credentials or region."""
        import boto3
        import botocore.exceptions

        try:
            session = boto3.Session(region_name=region, profile_name=profile)
        except botocore.exceptions.ProfileNotFound as err:
            raise CouldNotRun(str(err)) from None
        if session.get_credentials() is None:
            raise CouldNotRun("no AWS credentials found (environment, profile, SSO or instance role); see `aws configure`")
        if not session.region_name:
            raise CouldNotRun("no AWS region: pass --region or set AWS_REGION / the profile's region")
        return cls(factory=session.client, progress=progress)

    def client(self, service: str) -> Client:
        """The client of ``service`` (``cloudformation``, ``batch``, ``ssm``, ...)."""
        if service not in self._clients:
            self._clients[service] = self.factory(service)
        return self._clients[service]


@dataclass(frozen=True)
class ServerCommand:
    """The outcome of a shell script run on an instance through SSM Run Command."""

    status: str
    """``Success``, ``Failed``, ``TimedOut``, ... (``GetCommandInvocation``'s ``Status``), or ``NoAnswer`` when the wait ran out."""
    stdout: str
    stderr: str


def run_on_server(aws: Aws, instance_id: str, script: str, *, timeout_s: float = 120, poll_s: float = 3) -> ServerCommand:
    """Run ``script`` with ``AWS-RunShellScript`` on ``instance_id`` and wait at most ``timeout_s`` for its output.

    A wait that runs out cancels the command. SSM's ``InvocationDoesNotExist`` right after ``SendCommand`` is
    expected (the invocation appears a moment later) and retried.
    """
    ssm = aws.client("ssm")
    sent = ssm.send_command(
        InstanceIds=[instance_id],
        DocumentName="AWS-RunShellScript",
        Parameters={"commands": [script], "executionTimeout": [str(int(timeout_s))]},
        Comment="mmbatch-cdk verify",
        TimeoutSeconds=max(30, int(timeout_s)),
    )
    command_id = sent["Command"]["CommandId"]
    deadline = aws.clock.now() + timeout_s
    while True:
        aws.clock.sleep(poll_s)
        try:
            result = ssm.get_command_invocation(CommandId=command_id, InstanceId=instance_id)
        except ssm.exceptions.InvocationDoesNotExist:
            result = {"Status": "Pending"}
        status = result.get("Status", "Pending")
        if status not in ("Pending", "InProgress", "Delayed"):
            return ServerCommand(status, result.get("StandardOutputContent", ""), result.get("StandardErrorContent", ""))
        if aws.clock.now() >= deadline:
            ssm.cancel_command(CommandId=command_id, InstanceIds=[instance_id])
            return ServerCommand("NoAnswer", "", f"no result within {timeout_s:.0f} s")
