"""``mmbatch-cdk verify --stack NAME [--drill] [--json] [--yes]``: the console command (docs/verify.md)."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Callable, Optional, Sequence

from .aws import Aws, CouldNotRun
from .checks import check_queues, check_stack, fatal_lines_since, judge_nodes, node_instances, node_logs
from .drill import run_drill
from .report import Verdict, exit_status, render_json, render_text
from .server import check_server
from .smoke import SmokeJob, run_smoke, submit_smoke
from .stack import QueueOutputs, StackOutputs, read_stack

__all__ = ["main", "parser", "verify"]

Ask = Callable[[str], Optional[bool]]
"""Asks a yes/no question: True, False, or None when nobody can answer (no terminal)."""


def _positive(kind: Callable[[str], float]) -> Callable[[str], float]:
    """An argparse type: ``kind`` of the text, above zero; else argparse's usage error naming the flag."""
    def convert(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not accepted; expected a number above 0") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} is not accepted; expected a number above 0")
        return value
    return convert


def parser() -> argparse.ArgumentParser:
    """The command line."""
    top = argparse.ArgumentParser(prog="mmbatch-cdk", description="Tools for a deployed mmbatch-cdk stack.")
    sub = top.add_subparsers(dest="command", required=True)
    p = sub.add_parser("verify", help="prove a deployed stack works, restore included (docs/verify.md)",
                       description="Check a deployed stack step by step: stack, server, storage, compute, smoke, drill. "
                       "Exit status 0: all passed; 1: a check failed; 2: could not run.")
    p.add_argument("--stack", required=True, help="the CloudFormation stack name")
    p.add_argument("--drill", action="store_true", help="also interrupt the smoke job's Spot node and judge the restore")
    p.add_argument("--json", action="store_true", help="print the verdicts as JSON on stdout")
    p.add_argument("--yes", action="store_true", help="start the smoke job(s) and the drill without asking")
    p.add_argument("--region", help="AWS region (default: the credential chain's)")
    p.add_argument("--profile", help="AWS profile (default: the credential chain's)")
    p.add_argument("--queue", action="append", metavar="NAME",
                   help="queue to run the smoke job on, as in the JobQueueArn<NAME> output ('default' for the single "
                   "queue); repeatable (default: every queue)")
    p.add_argument("--smoke-lines", type=_positive(int), default=6, metavar="N",
                   help="progress lines of the smoke job without --drill, 30 s each (default: 6)")
    p.add_argument("--smoke-timeout", type=_positive(float), default=30, metavar="MIN",
                   help="minutes for a smoke job to succeed (with --drill: to run), node boot included (default: 30)")
    p.add_argument("--checkpoint-timeout", type=_positive(float), default=45, metavar="MIN",
                   help="minutes to wait for MMAB's first checkpoint of the job (default: 45)")
    p.add_argument("--drill-timeout", type=_positive(float), default=45, metavar="MIN",
                   help="minutes from the interruption to a judgement (default: 45)")
    p.add_argument("--poll", type=_positive(float), default=15, metavar="SEC", help="seconds between status reads (default: 15)")
    return top


def _queues(stack: StackOutputs, names: Optional[list[str]]) -> list[QueueOutputs]:
    if not names:
        return stack.queues
    by_label = {q.label: q for q in stack.queues} | {q.name: q for q in stack.queues if q.name}
    unknown = [n for n in names if n not in by_label]
    if unknown:
        raise CouldNotRun(f"--queue {', '.join(unknown)}: not a queue of {stack.name} "
                          f"(queues: {', '.join(q.label for q in stack.queues)})")
    return list({by_label[n].job_queue_arn: by_label[n] for n in names}.values())


def _estimate(queues: list[QueueOutputs], args: argparse.Namespace) -> str:
    # The job's size and pace are SmokeTestJobDefinition's defaults (mmbatch_cdk/smoke_test.py: cpu 1, 1024 + 256 MiB, 30 s lines).
    minutes = (args.checkpoint_timeout + args.drill_timeout) if args.drill else args.smoke_lines * 0.5
    lines = [f"verify will start {len(queues)} smoke job(s), one per queue ({', '.join(q.label for q in queues)}):",
             f"  each 1 vCPU and 1.25 GiB on a Spot instance of its queue, for about {minutes:.0f} min plus a node's boot",
             "  (Batch starts a node if none runs; billed per second until the queue scales back down)"]
    if args.drill:
        lines.append(f"  and {len(queues)} AWS FIS experiment(s): a real Spot interruption of the job's node, then a "
                     "replacement node; FIS bills per action-minute (one action, the two-minute notice)")
    return "\n".join(lines + ["Costs: docs/verify.md. Go ahead?"])


def verify(aws: Aws, args: argparse.Namespace, ask: Ask, verdicts: list[Verdict]) -> list[Verdict]:
    """Run the steps, appending each verdict to ``verdicts`` as it is known (so an error keeps the ones before);
    a step that cannot follow from an earlier one is reported as skipped."""
    start_ms = int(aws.clock.now() * 1000)
    stack = read_stack(aws, args.stack)
    verdicts.append(check_stack(stack))
    if verdicts[-1].outcome != "passed":
        verdicts += [Verdict(s, "skipped", "the stack is not ready") for s in ("server", "storage", "compute", "smoke", "drill")]
        return verdicts
    queues = _queues(stack, args.queue)
    aws.step = "server"
    server, mounted = check_server(aws, stack, timeout_s=120)
    verdicts.append(server)  # before the queues are read, so an AWS error there keeps it
    aws.step = "compute"
    compute, clusters = check_queues(aws, stack)
    verdicts.append(compute)
    on_server = ("server: /mmc-checkpoint " + ("mounted" if mounted else "not mounted (the stack mounts checkpoint storage on nodes)")
                 if mounted is not None else "server: mount not read")
    skip_drill = Verdict("drill", "skipped", "not asked for (--drill)")
    missing = [q.label for q in queues if not q.drill_template_id] if args.drill else []
    why = None
    if missing:
        verdicts.append(Verdict("drill", "could-not-run", f"queue(s) {', '.join(missing)} have no SpotDrillTemplateId output: "
                                "deploy with -c drill=true"))
        why = "not started: no drill to run"
    elif "failed" in (server.outcome, compute.outcome):
        why = "not started: the server or compute check failed"
        verdicts.append(Verdict("drill", "skipped", why) if args.drill else skip_drill)
    else:
        answer = True if args.yes else ask(_estimate(queues, args))
        if not answer:
            why = "not started: " + ("no terminal to ask on and no --yes" if answer is None else "declined")
            verdicts.append(Verdict("drill", "could-not-run", why) if args.drill else skip_drill)
    if why is not None:
        verdicts += [Verdict("storage", "skipped", why, [on_server]),
                     Verdict("smoke", "could-not-run" if "terminal" in why or "declined" in why else "skipped", why)]
        return verdicts
    aws.step = "smoke"
    jobs = [submit_smoke(aws, q, lines=None if args.drill else args.smoke_lines) for q in queues]
    run_smoke(aws, stack, jobs, until_running=args.drill, timeout_s=args.smoke_timeout * 60, poll_s=args.poll)
    verdicts += [j.verdict for j in jobs if j.verdict]
    verdicts.remove(compute)
    aws.step = "compute"
    verdicts += _nodes(aws, stack, jobs, clusters, start_ms, on_server)
    aws.step = "drill"
    if args.drill:
        for smoke in jobs:
            if smoke.verdict and smoke.verdict.outcome == "passed":
                verdicts.append(run_drill(aws, stack, smoke, checkpoint_timeout_s=args.checkpoint_timeout * 60,
                                          timeout_s=args.drill_timeout * 60, poll_s=args.poll))
            else:
                verdicts.append(Verdict("drill", "skipped", f"queue {smoke.queue.label}: its smoke job did not run"))
    else:
        verdicts.append(skip_drill)
    return verdicts


def _nodes(aws: Aws, stack: StackOutputs, jobs: list[SmokeJob], clusters: dict[str, list[str]], start_ms: int,
           on_server: str) -> list[Verdict]:
    """``compute`` and ``storage`` from the boot logs of the nodes the smoke jobs ran on."""
    instances = [i for j in jobs for i in node_instances(aws, j.job, clusters.get(j.queue.name, []))]
    if not instances:
        fatal = fatal_lines_since(aws, stack, start_ms)
        return [Verdict("compute", "failed", "no node ran the smoke job" + (": nodes failed the boot gate" if fatal else ""),
                        fatal or ["no FATAL line in the node boot logs: see the queue's RUNNABLE reason and Spot capacity"]),
                Verdict("storage", "skipped", "no node ran the smoke job", [on_server])]
    compute, storage = judge_nodes(node_logs(aws, stack, instances))
    storage.details.append(on_server)
    return [compute, storage]


def _ask(question: str) -> Optional[bool]:
    if not sys.stdin or not sys.stdin.isatty():
        return None
    print(question, end=" [y/N] ", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def _progress(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def _undo(aws: Optional[Aws]) -> str:
    """Terminate the smoke jobs and stop the experiments verify started; what was done, as text."""
    done = []
    for what, undo in list(aws.cleanups.items()) if aws else []:
        try:
            undo()
            done.append(what)
        except Exception as err:  # report it, and go on with the rest
            done.append(f"{what} FAILED ({err}): do it by hand")
    return "".join(f"; {d}" for d in done)


def main(argv: Optional[Sequence[str]] = None, *, aws: Optional[Aws] = None, ask: Ask = _ask) -> int:
    """The console script: parse, verify, print the report; returns the exit status (0, 1, 2, or 130 on Ctrl-C)."""
    args = parser().parse_args(argv)
    verdicts: list[Verdict] = []
    try:
        aws = aws or Aws.from_session(region=args.region, profile=args.profile, progress=_progress)
        verify(aws, args, ask, verdicts)
    except KeyboardInterrupt:
        print(f"mmbatch-cdk verify: interrupted{_undo(aws)}", file=sys.stderr)
        return 130
    except Exception as err:  # CouldNotRun, and an AWS error (AccessDenied, throttling): report it, undo what was started
        from botocore.exceptions import BotoCoreError, ClientError

        undone = _undo(aws)
        if not isinstance(err, (CouldNotRun, BotoCoreError, ClientError)):
            print(f"mmbatch-cdk verify: internal error{undone}", file=sys.stderr)
            raise
        verdicts.append(Verdict(aws.step if aws else "stack", "could-not-run", f"{err}{undone}"))
    print(render_json(verdicts) if args.json else render_text(verdicts))
    return exit_status(verdicts)
