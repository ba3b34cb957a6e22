"""The ``server`` step: the instance runs and is managed by Session Manager, MMAB answers, its settings are as deployed.

Everything on the server is read through SSM Run Command on the server itself (no ingress). The marker files
are the boot script's (``mmbatch_cdk/user_data/management_server.sh``): ``/var/lib/mmbatch/mmab-<version>.installed``
after the install and ``/var/lib/mmbatch/ckptConfig.done`` after its ``PUT /api/v1/ckptConfig`` answered 2xx.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any, Optional

from .aws import Aws, run_on_server
from .report import Verdict
from .stack import StackOutputs

__all__ = ["check_server", "find_setting", "server_script", "seconds"]

STATE_DIR = "/var/lib/mmbatch"
"""Where the server's boot script keeps its markers."""
BOOT_STREAM = "{instance}/mmab__var_log_mmab_bootstrap.log"
"""The ServerLogGroupName stream of the server's ``/var/log/mmab/bootstrap.log`` (log_shipping.multi_log_stream)."""


def _boot_log_hint(instance_id: str) -> str:
    return f"see /var/log/mmab/bootstrap.log: the ServerLogGroupName output's stream {BOOT_STREAM.format(instance=instance_id)}"


def server_script(port: int, path: str = "/api/v1/config") -> str:
    """A shell script printing ``key=value`` lines: MMAB's HTTP status and body (base64) for ``path``, the
    boot script's markers, and whether ``/mmc-checkpoint`` is a mount point."""
    return "\n".join([
        "body=$(mktemp)",
        f"code=$(curl -sk -o \"$body\" -w '%{{http_code}}' --connect-timeout 5 --max-time 30 https://localhost:{port}{path}) || true",
        'echo "http=${code:-000}"',
        'echo "body=$(base64 -w0 "$body")"',
        'rm -f "$body"',
        f'echo "markers=$(ls {STATE_DIR} 2>/dev/null | tr "\\n" " ")"',
        'if mountpoint -q /mmc-checkpoint; then echo "mounted=yes"; else echo "mounted=no"; fi',
    ])


def parse_lines(stdout: str) -> dict[str, str]:
    """The ``key=value`` lines of :func:`server_script`'s output."""
    return dict(line.split("=", 1) for line in stdout.splitlines() if "=" in line)


def decode_body(encoded: str) -> Any:
    """The JSON body MMAB answered, or None when it is not JSON."""
    try:
        return json.loads(base64.b64decode(encoded or "").decode("utf-8", "replace"))
    except ValueError:
        return None


def find_setting(doc: Any, names: tuple[str, ...]) -> Optional[str]:
    """The first value, anywhere in ``doc``, of a key named one of ``names`` (case-insensitive).

    ``GET /api/v1/config``'s shape is not documented (https://docs.memverge.com/MMBatch/latest/User%20Guide/api);
    the checkpoint interval is assumed to appear under a key ``ckptInterval`` (the name ``PUT /api/v1/ckptConfig``
    takes) or ``ckpt.ckptInterval`` / ``ckpt.interval`` (the KV store's section naming), at any depth.
    """
    wanted = {n.lower() for n in names}
    stack = [doc]
    while stack:
        item = stack.pop(0)
        if isinstance(item, dict):
            for key, value in item.items():
                if str(key).lower() in wanted and isinstance(value, (str, int, float)):
                    return str(value)
                stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
    return None


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|m|s)")


def seconds(duration: str) -> Optional[float]:
    """``15m``, ``1h30m``, ``15m0s`` (Go's form) as seconds; None for anything else."""
    text = duration.strip()
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in parts)


def check_server(aws: Aws, stack: StackOutputs, *, timeout_s: float) -> tuple[Verdict, Optional[bool]]:
    """The ``server`` verdict, and whether ``/mmc-checkpoint`` is mounted on the server (None: not read)."""
    instance_id = stack.get("ManagementServerInstanceId")
    reservations = aws.client("ec2").describe_instances(InstanceIds=[instance_id])["Reservations"]
    state = reservations[0]["Instances"][0]["State"]["Name"] if reservations else "missing"
    if state != "running":
        return Verdict("server", "failed", f"management server {instance_id} is {state}, not running"), None
    info = aws.client("ssm").describe_instance_information(Filters=[{"Key": "InstanceIds", "Values": [instance_id]}])
    ping = next((i.get("PingStatus", "?") for i in info.get("InstanceInformationList", [])), "not registered")
    if ping != "Online":
        return Verdict("server", "failed", f"management server {instance_id} is not managed by Session Manager (SSM agent: {ping})",
                       ["its role needs AmazonSSMManagedInstanceCore and its subnet a route to SSM (endpoints or NAT)"]), None
    aws.progress(f"server: asking MMAB on {instance_id} through SSM Run Command")
    result = run_on_server(aws, instance_id, server_script(stack.server_port), timeout_s=timeout_s)
    if result.status != "Success":
        return Verdict("server", "failed", f"the check script did not run on {instance_id}: {result.status}",
                       [line for line in result.stderr.splitlines()[-5:]]), None
    values = parse_lines(result.stdout)
    mounted = values.get("mounted") == "yes"
    return _judge(stack, instance_id, values), mounted


def _judge(stack: StackOutputs, instance_id: str, values: dict[str, str]) -> Verdict:
    markers = values.get("markers", "").split()
    code = values.get("http", "000")
    url = f"https://localhost:{stack.server_port}/api/v1/config"
    if stack.outputs.get("Checkpointing", "on") != "on":
        return Verdict("server", "failed", "MMAB is not installed: the stack has no mmabSource, so nothing is checkpointed",
                       [f"output Checkpointing: {stack.outputs['Checkpointing']}"])
    if not any(m.startswith("mmab-") and m.endswith(".installed") for m in markers):
        return Verdict("server", "failed", f"MMAB's install never finished on {instance_id} (no {STATE_DIR}/mmab-*.installed)",
                       [_boot_log_hint(instance_id)])
    if not (code.startswith("2") or code in ("401", "403")):
        return Verdict("server", "failed", f"MMAB does not answer on {url}: HTTP {code}", ["000 means no connection"])
    expected = stack.outputs.get("CheckpointInterval")
    applied = "ckptConfig.done" in markers
    details = [f"{url}: HTTP {code}"]
    if code in ("401", "403"):
        details.append("the API requires a login, so its settings were not read")
        found = None
    else:
        found = find_setting(decode_body(values.get("body", "")), ("ckptInterval", "ckpt.ckptInterval", "ckpt.interval"))
    if found is not None and expected is not None:
        if seconds(found) != seconds(expected):
            return Verdict("server", "failed", f"checkpoint interval is {found} on the server; the stack configured {expected}", details)
        return Verdict("server", "passed", f"MMAB answers; checkpoint interval {found} as configured", details)
    if not applied:
        return Verdict("server", "failed", "the checkpoint settings were never applied (PUT /api/v1/ckptConfig did not succeed)",
                       details + [_boot_log_hint(instance_id) + "; set them in the dashboard"])
    details.append(f"interval {'not found in the answer' if found is None else found}; "
                   f"the boot script's PUT /api/v1/ckptConfig succeeded ({STATE_DIR}/ckptConfig.done)"
                   + (f" with {expected}" if expected else ""))
    return Verdict("server", "passed", "MMAB answers; checkpoint settings applied at boot", details)
