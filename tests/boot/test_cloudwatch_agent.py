"""The CloudWatch agent boot script, run in a temporary root, and the configuration it ships; no secret reaches a log."""

from __future__ import annotations

import fnmatch
import subprocess
import sys
import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs

from mmbatch_cdk.log_shipping import (
    NODE_BOOT_LOG,
    UBUNTU_AGENT_URL,
    LogShipping,
    agent_config,
    multi_log_stream,
    node_collect_list,
    retention_days,
    server_collect_list,
)
from mmbatch_cdk.user_data import add_script, render

from ..templates import resolve, shell_parts
from ..standins import run_script

PARAMETER = "/mmbatch/cwagent-node"
NODE_CONFIG = agent_config(node_collect_list("boot-group", "node-group"))
SERVER_CONFIG = agent_config(server_collect_list("server-group"))
PACKAGE = b"not really a deb\n"


def settings(source: str, sha256: str = "", log: str = NODE_BOOT_LOG) -> dict[str, str]:
    return {"AGENT_SOURCE": source, "AGENT_SHA256": sha256, "AGENT_LOG": log, "AGENT_CONFIG_PARAMETER": PARAMETER}


FETCH_CONFIG = f"amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c ssm:{PARAMETER}"


# ------------------------------------------------------------------ the configuration

# Keys of a collect_list entry in the agent's schema (translator/config/schema.json, logsFilesDefinition),
# which sets additionalProperties false there; we use three of them and leave retention to the stack.
COLLECT_LIST_KEYS = {
    "file_path", "log_group_name", "log_stream_name", "log_group_class", "multi_line_start_pattern",
    "timestamp_format", "timezone", "trim_timestamp", "encoding", "auto_removal", "backpressure_mode",
    "blacklist", "publish_multi_logs", "retention_in_days", "filters", "service.name", "deployment.environment",
}


@pytest.mark.parametrize("config", [NODE_CONFIG, SERVER_CONFIG], ids=["node", "server"])
def test_configuration_uses_only_documented_keys_and_leaves_retention_to_the_stack(config: dict[str, Any]) -> None:
    assert set(config) <= {"agent", "metrics", "logs", "traces"}
    assert set(config["logs"]) == {"logs_collected"}
    assert set(config["logs"]["logs_collected"]) == {"files"}
    entries = config["logs"]["logs_collected"]["files"]["collect_list"]
    assert 1 <= len(entries)
    for entry in entries:
        assert set(entry) <= COLLECT_LIST_KEYS and "file_path" in entry
        assert "retention_in_days" not in entry
        assert 1 <= len(entry["log_group_name"]) <= 512 and 1 <= len(entry["log_stream_name"]) <= 512
        assert entry["log_stream_name"].startswith("{instance_id}")
    paths = [e["file_path"] for e in entries]
    assert len(set(paths)) == len(paths)


def test_node_ships_boot_agent_and_cloud_init_logs_with_the_boot_log_alone_in_its_group() -> None:
    entries = NODE_CONFIG["logs"]["logs_collected"]["files"]["collect_list"]
    assert [(e["file_path"], e["log_group_name"], e["log_stream_name"]) for e in entries] == [
        ("/var/log/mmbatch/boot.log", "boot-group", "{instance_id}"),
        ("/var/log/memverge/*.log", "node-group", "{instance_id}/memverge"),
        ("/var/log/cloud-init.log", "node-group", "{instance_id}/cloud-init"),
        ("/var/log/cloud-init-output.log", "node-group", "{instance_id}/cloud-init-output"),
    ]


def test_server_ships_mmab_and_cloud_init_logs() -> None:
    entries = SERVER_CONFIG["logs"]["logs_collected"]["files"]["collect_list"]
    assert [e["file_path"] for e in entries] == ["/var/log/mmab/*.log", "/var/log/cloud-init.log", "/var/log/cloud-init-output.log"]
    assert {e["log_group_name"] for e in entries} == {"server-group"}


@pytest.mark.parametrize("config", [NODE_CONFIG, SERVER_CONFIG], ids=["node", "server"])
def test_a_wildcard_entry_ships_every_file_it_matches_each_to_its_own_stream(config: dict[str, Any]) -> None:
    """Without publish_multi_logs the agent tails, at each scan, only the newest file a pattern matches (getTargetFiles
    in the agent's plugins/inputs/logfile/logfile.go): MMAB's log, bootstrap.log and juicefs-format.log would share one
    stream, and one written while another was newer would never be shipped."""
    entries = config["logs"]["logs_collected"]["files"]["collect_list"]
    assert {e["file_path"]: e.get("publish_multi_logs", False) for e in entries} == {
        e["file_path"]: "*" in e["file_path"] for e in entries}
    assert any("*" in e["file_path"] for e in entries)


@pytest.mark.parametrize(("path", "stream"), [
    ("/var/log/mmab/bootstrap.log", "i-0abc/mmab__var_log_mmab_bootstrap.log"),
    ("/var/log/memverge/pagent.log", "i-0abc/mmab__var_log_memverge_pagent.log"),
    ("/var/log/a b:c+d#e-f.log", "i-0abc/mmab__var_log_a_b_c_d#e-f.log"),
])
def test_each_matched_file_streams_under_its_path_as_the_agent_names_it(path: str, stream: str) -> None:
    """generateLogStreamName in the agent's logfile.go: <log_stream_name>_<path>, each character other than letters,
    digits and . - _ # (and then every /) made _."""
    assert multi_log_stream("i-0abc/mmab", path) == stream


def test_server_streams_are_named_per_instance_and_source() -> None:
    # LogShipping promises streams <instance-id>/<source>: a replaced server's lines stay apart from the old one's, and
    # MMAB's from cloud-init's, so the one to read can be named (docs/troubleshooting.md, verify's hints).
    entries = SERVER_CONFIG["logs"]["logs_collected"]["files"]["collect_list"]
    assert [e["log_stream_name"] for e in entries] == ["{instance_id}/mmab", "{instance_id}/cloud-init", "{instance_id}/cloud-init-output"]


# ------------------------------------------------------------------ the script, run


def test_node_installs_from_dnf_and_starts_the_agent_with_its_configuration_parameter(tmp_path: Path) -> None:
    run = run_script(render("cloudwatch_agent.sh", settings("dnf")), tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.calls == ["dnf install -y amazon-cloudwatch-agent", FETCH_CONFIG]
    assert f"agent shipping logs ({PARAMETER})" in run.file(NODE_BOOT_LOG)


def test_server_downloads_the_deb_for_its_architecture_and_warns_without_a_checksum(tmp_path: Path) -> None:
    (tmp_path / "served").mkdir()
    (tmp_path / "served" / "amazon-cloudwatch-agent.deb").write_bytes(PACKAGE)
    script = render("cloudwatch_agent.sh", settings(UBUNTU_AGENT_URL, log="/var/log/mmab/bootstrap.log"))
    run = run_script(script, tmp_path / "run", {"STANDIN_CURL_DIR": str(tmp_path / "served")})
    assert run.returncode == 0, run.stderr
    assert run.calls[0].startswith("curl -fsSL --proto =https --tlsv1.2 --connect-timeout 10 --max-time 900 -o ")
    assert run.calls[0].endswith(" https://amazoncloudwatch-agent.s3.amazonaws.com/ubuntu/amd64/latest/amazon-cloudwatch-agent.deb")
    assert run.calls[1].startswith("dpkg -i -E ") and run.calls[1].endswith("/amazon-cloudwatch-agent.deb")
    assert run.calls[2] == FETCH_CONFIG
    digest = hashlib.sha256(PACKAGE).hexdigest()
    url = "https://amazoncloudwatch-agent.s3.amazonaws.com/ubuntu/amd64/latest/amazon-cloudwatch-agent.deb"
    assert f"WARNING: {url} not verified (sha256 {digest})" in run.file("/var/log/mmab/bootstrap.log")


def test_s3_source_with_a_matching_checksum_installs(tmp_path: Path) -> None:
    source = "s3://artifacts-bucket/cwa/{arch}/amazon-cloudwatch-agent.deb"
    script = render("cloudwatch_agent.sh", settings(source, sha256=hashlib.sha256(PACKAGE).hexdigest()))
    run = run_script(script, tmp_path, {"STANDIN_CURL_BODY": PACKAGE.decode()})
    assert run.returncode == 0, run.stderr
    assert run.calls[0].startswith("aws s3 cp --only-show-errors s3://artifacts-bucket/cwa/amd64/amazon-cloudwatch-agent.deb ")
    assert run.calls[1].startswith("dpkg -i -E ")
    assert not any(c.startswith("curl") for c in run.calls), "no internet needed"
    assert "WARNING" not in run.file(NODE_BOOT_LOG)


def test_a_wrong_checksum_stops_before_installing_or_starting_anything(tmp_path: Path) -> None:
    source = "s3://artifacts-bucket/cwa/{arch}/amazon-cloudwatch-agent.deb"
    run = run_script(render("cloudwatch_agent.sh", settings(source, sha256="f" * 64)), tmp_path,
                     {"STANDIN_CURL_BODY": PACKAGE.decode()})
    assert run.returncode == 1
    assert f"ERROR: checksum mismatch for s3://artifacts-bucket/cwa/amd64/amazon-cloudwatch-agent.deb: expected {'f' * 64}" in run.stderr
    assert [c.split()[0] for c in run.calls] == ["aws"], "neither dpkg nor the agent ran"
    assert not (run.root / "var/lib/mmbatch/cloudwatch-agent.installed").exists()


def test_a_second_run_installs_nothing_and_reapplies_the_configuration(tmp_path: Path) -> None:
    script = render("cloudwatch_agent.sh", settings("dnf"))
    first = run_script(script, tmp_path / "a")
    again = run_script(script, tmp_path / "b", root=first.root)
    assert again.returncode == 0, again.stderr
    assert again.calls == [FETCH_CONFIG]
    assert "agent already installed" in again.file(NODE_BOOT_LOG)


def test_an_agent_that_will_not_start_fails_the_step_after_bounded_retries(tmp_path: Path) -> None:
    run = run_script(render("cloudwatch_agent.sh", settings("dnf")), tmp_path, {"STANDIN_CWA_FAILS": "1"})
    assert run.returncode == 1
    assert sum(c.startswith("amazon-cloudwatch-agent-ctl") for c in run.calls) == 3
    assert "ERROR: agent did not start" in run.stderr


def test_missing_settings_fail_by_name(tmp_path: Path) -> None:
    run = run_script(render("cloudwatch_agent.sh", {"AGENT_LOG": NODE_BOOT_LOG}), tmp_path)
    assert run.returncode != 0 and "AGENT_SOURCE" in run.stderr


def test_the_construct_keeps_each_configuration_in_a_parameter_its_script_reads(tmp_path: Path) -> None:
    stack = cdk.Stack(cdk.App(), "S")
    shipping = LogShipping(stack, "Logs")
    ids = {name: stack.get_logical_id(getattr(shipping, name).node.default_child)
           for name in ("node_boot_log_group", "node_log_group", "server_log_group", "node_config", "server_config")}
    values = {kind: json.loads(resolve(stack.resolve(getattr(shipping, f"{kind}_config").node.default_child.value), {}))
              for kind in ("node", "server")}
    assert values["node"] == agent_config(node_collect_list(f"{ids['node_boot_log_group']}-ref", f"{ids['node_log_group']}-ref"))
    assert values["server"] == agent_config(server_collect_list(f"{ids['server_log_group']}-ref"))
    script = resolve(stack.resolve(shipping.node_script()), {})
    run = run_script(script, tmp_path)
    assert run.returncode == 0, run.stderr
    # The parameters' names are known at synth time (so the script carries no deploy-time value and is compressed).
    assert run.calls[-1] == "amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c ssm:/S/cloudwatch-agent/NodeAgentConfig"
    server = resolve(stack.resolve(shipping.server_script()), {})
    assert f"export AGENT_SOURCE='{UBUNTU_AGENT_URL}'\n" in server
    assert "export AGENT_CONFIG_PARAMETER=/S/cloudwatch-agent/ServerAgentConfig\n" in server


def test_each_agent_step_logs_to_its_machines_boot_log() -> None:
    # A package that will not install fails the agent step first of all: its lines must land in the log the rest of
    # that machine's boot writes (the server's bootstrap.log, a node's boot.log), where verify and the FATAL alarms look.
    stack = cdk.Stack(cdk.App(), "S")
    shipping = LogShipping(stack, "Logs")
    node, server = (resolve(stack.resolve(script), {}) for script in (shipping.node_script(), shipping.server_script()))
    assert f"export AGENT_LOG={NODE_BOOT_LOG}\n" in node
    assert "export AGENT_LOG=/var/log/mmab/bootstrap.log\n" in server


def test_the_agent_part_is_compressed_and_unchanged() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    shipping = LogShipping(stack, "Logs")
    user_data = ec2.MultipartUserData()
    add_script(user_data, shipping.node_script())
    document = resolve(stack.resolve(user_data.render()), {})
    assert "Content-Type: application/gzip" in document
    assert shell_parts(document) == [resolve(stack.resolve(shipping.node_script()), {})]


# An empty digest (say, an unset variable) is a checksum asked for but missing: taken as none, the package would be
# installed unverified without a word.
@pytest.mark.parametrize("prop, value", [("node_agent_source", "ftp://x/y.rpm"), ("server_agent_source", "dnf"),
                                         ("server_agent_source", "s3://bucket-only"), ("node_agent_sha256", "abc"),
                                         ("node_agent_sha256", ""), ("server_agent_sha256", "")])
def test_bad_sources_and_checksums_are_rejected_by_name(prop: str, value: str) -> None:
    with pytest.raises(ValueError, match=f"LogShipping: {prop}"):
        LogShipping(cdk.Stack(cdk.App(), "S"), "Logs", **{prop: value})  # type: ignore[arg-type]


@pytest.mark.parametrize(("key", "prop", "value"), [
    ("cloudWatchAgentServerSource", "server_agent_source", "https://example.org/agent.rpm"),
    ("cloudWatchAgentServerSource", "server_agent_source", "https://b.s3.amazonaws.com/agent.deb?X-Amz-Signature=a"),
    ("cloudWatchAgentNodeSource", "node_agent_source", "https://example.org/agent-{arch}.deb"),
])
def test_the_construct_refuses_a_package_the_script_cannot_install_in_the_settings_words(key: str, prop: str, value: str) -> None:
    """One rule (log_shipping.agent_package_problem) behind LogShipping and the setting: library users get it too."""
    from mmbatch_cdk.config import ConfigError, MmBatchConfig

    with pytest.raises(ConfigError) as setting:
        MmBatchConfig.from_mapping({key: value})
    (found,) = [p for p in setting.value.problems if p.startswith(f"{key}: ")]
    with pytest.raises(ValueError) as construct:
        LogShipping(cdk.Stack(cdk.App(), "S"), "Logs", **{prop: value})  # type: ignore[arg-type]
    assert str(construct.value) == f"LogShipping: {prop} {value!r}: {found.partition(': ')[2]}"


# ------------------------------------------------------------------ no secret reaches a log

SECRET = "s3cr3t-MemoryDB-Password-0123456789"


def _juicefs_release(directory: Path) -> None:
    """A stand-in JuiceFS 1.3.1 release for amd64, with its checksums.txt."""
    directory.mkdir()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        data = b"#!/bin/sh\necho juicefs\n"
        info = tarfile.TarInfo("juicefs")
        info.size, info.mode = len(data), 0o755
        tar.addfile(info, io.BytesIO(data))
    name = "juicefs-1.3.1-linux-amd64.tar.gz"
    (directory / name).write_bytes(buffer.getvalue())
    (directory / "checksums.txt").write_text(f"{hashlib.sha256(buffer.getvalue()).hexdigest()}  {name}\n")


JUICEFS_COMMON = {
    "JUICEFS_VERSION": "1.3.1",
    "JUICEFS_SOURCE": "https://example.invalid/juicefs-{version}-linux-{arch}.tar.gz",
    "JUICEFS_SHA256": "",
    "AWS_REGION": "eu-west-1",
    "SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:meta-AbCdEf",
    "META_USER": "mmbatch-juicefs",
    "META_DB": "1",
}
JUICEFS_SCRIPTS = {
    "juicefs_format.sh": {**JUICEFS_COMMON, "VOLUMES": "checkpoint:mmbatch-checkpoint:ckpt-bucket", "BLOCK_SIZE_KIB": "4096",
                          "CLUSTER_WAIT_ATTEMPTS": "3", "AWS_URL_SUFFIX": "amazonaws.com"},
    "juicefs_mount.sh": {**JUICEFS_COMMON, "VOLUMES": "checkpoint:mmbatch-checkpoint:/mmc-checkpoint", "CACHE_DIR": "/var/jfsCache",
                         "CACHE_SIZE_MIB": "51200", "MAX_UPLOADS": "40", "BUFFER_SIZE_MIB": "300", "FORMAT_WAIT_ATTEMPTS": "3",
                         "FATAL_SHUTDOWN_MINUTES": "1"},
}
SHIPPED = [e["file_path"] for config in (NODE_CONFIG, SERVER_CONFIG) for e in config["logs"]["logs_collected"]["files"]["collect_list"]]


def _shipped_files(root: Path) -> list[Path]:
    return [p for pattern in SHIPPED for p in root.glob(pattern.lstrip("/")) if p.is_file()]


def test_the_password_file_matches_no_shipped_pattern() -> None:
    for path in ("/etc/juicefs/meta.env", "/var/lib/mmbatch/pagent-1.4.0-release.installed", "/etc/ecs/ecs.config"):
        assert not any(fnmatch.fnmatch(path, pattern) for pattern in SHIPPED), path
    assert all(p.startswith("/var/log/") for p in SHIPPED)


@pytest.mark.parametrize("name", list(JUICEFS_SCRIPTS))
def test_juicefs_scripts_write_no_secret_to_any_shipped_file_or_their_output(tmp_path: Path, name: str) -> None:
    _juicefs_release(tmp_path / "release")
    env = {"STANDIN_CURL_DIR": str(tmp_path / "release"), "STANDIN_SECRET": SECRET}
    run = run_script(render(name, JUICEFS_SCRIPTS[name]), tmp_path / "run", env)
    assert run.returncode == 0, run.stderr
    shipped = _shipped_files(run.root)
    assert shipped, "the script logged something where the agent looks"
    for path in shipped:
        assert SECRET not in path.read_text(), path
    # stdout and stderr of user data land in cloud-init-output.log, which is shipped too.
    assert SECRET not in run.stdout + run.stderr
    if name == "juicefs_mount.sh":
        assert SECRET in run.file("/etc/juicefs/meta.env"), "the test would see the secret if it leaked"


def test_the_secret_check_can_fail(tmp_path: Path) -> None:
    leaky = render("juicefs_mount.sh", JUICEFS_SCRIPTS["juicefs_mount.sh"]).replace(
        'export META_PASSWORD\n', 'export META_PASSWORD\nmmb_log "password $META_PASSWORD"\n'
    )
    _juicefs_release(tmp_path / "release")
    run = run_script(leaky, tmp_path / "run", {"STANDIN_CURL_DIR": str(tmp_path / "release"), "STANDIN_SECRET": SECRET})
    assert any(SECRET in p.read_text() for p in _shipped_files(run.root))


@pytest.mark.parametrize("days", [1, 7, 30, 365, 3653, 0])
def test_retention_days_map_to_what_cloudwatch_logs_renders(days: int) -> None:
    stack = cdk.Stack(cdk.App(), "S")
    group = logs.LogGroup(stack, "G", retention=retention_days(days))
    rendered = stack.resolve(group.node.default_child.retention_in_days)  # type: ignore[union-attr]
    assert rendered == (days or None)


@pytest.mark.parametrize("days", [2, 31, -1])
def test_other_retention_periods_are_rejected_with_the_accepted_list(days: int) -> None:
    with pytest.raises(ValueError, match=f"log retention of {days} days is not one CloudWatch Logs offers; use 0 .* 1, 3, 5, 7"):
        retention_days(days)


def test_rendered_scripts_are_shellcheck_clean(tmp_path: Path) -> None:
    stack = cdk.Stack(cdk.App(), "S")
    shipping = LogShipping(stack, "Logs", node_agent_source="s3://artifacts/cwa/{arch}/amazon-cloudwatch-agent.rpm",
                           node_agent_sha256="a" * 64)
    paths = []
    for name, script in (("node", shipping.node_script()), ("server", shipping.server_script())):
        path = tmp_path / f"{name}.sh"
        path.write_text(resolve(stack.resolve(script), {}))
        paths.append(str(path))
    result = subprocess.run([str(Path(sys.executable).parent / "shellcheck"), "--severity=style", *paths], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
