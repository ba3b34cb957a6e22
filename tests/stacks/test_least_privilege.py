"""Least privilege that survives a review: Session Manager without AmazonSSMManagedInstanceCore, the server's EBS
permissions limited to this deployment's tagged volumes and nodes, and the MemoryDB user's commands."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mmbatch_cdk.config import SETTINGS
from mmbatch_cdk.session_manager import SESSION_MANAGER_ACTIONS
from mmbatch_cdk.storage.juicefs import JUICEFS_ACCESS_STRING, JUICEFS_ACCESS_STRING_VERSION

from ..conftest import CONFIGS, synthesize
from ..templates import Synth


def _actions(statement: dict[str, Any]) -> list[str]:
    return [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]


@pytest.mark.parametrize("name", list(CONFIGS))
def test_no_role_reads_every_ssm_parameter(synth, name: str) -> None:
    s = synth(name)
    assert "AmazonSSMManagedInstanceCore" not in json.dumps(s.template)
    statements = [st for p in s.resources("AWS::IAM::Policy").values() for st in p["Properties"]["PolicyDocument"]["Statement"]]
    assert not any(a.startswith(("ssm:SendCommand", "ec2messages:")) for st in statements for a in _actions(st))
    for statement in statements:
        if any(a.startswith("ssm:GetParameter") for a in _actions(statement)):
            # Only the CloudWatch agent's own configuration parameters, and the Nextflow and Cromwell configurations
            # the head jobs start with (read by their execution roles), named one by one.
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            readable = [k for k, v in s.resources("AWS::SSM::Parameter").items()
                        if k.startswith("LogShipping") or v["Properties"]["Name"].endswith(("/nextflow.config", "/cromwell.conf"))]
            assert resources and all(any(k in json.dumps(r) for k in readable) for r in resources), statement


@pytest.mark.parametrize("role", ["ComputeInstanceRole", "ManagementServerRole"])
def test_nodes_and_server_keep_exactly_session_managers_actions(synth, role: str) -> None:
    statements = synth("efs").statements(role)
    ssm = sorted(a for st in statements for a in _actions(st)
                 if a.startswith(("ssm:", "ssmmessages:")) and not a.startswith(("ssm:GetParameter", "ssm:DescribeParameters")))
    assert ssm == sorted(SESSION_MANAGER_ACTIONS)
    register = next(st for st in statements if st.get("Sid") == "SessionManagerRegister")
    assert register["Resource"]["Fn::Join"][1][-1] == ":instance/*"


def test_the_server_writes_only_its_own_tagged_volumes_on_its_own_nodes(synth) -> None:
    statements = {st.get("Sid"): st for st in synth("efs").statements("ManagementServerRole")}
    tag = {"aws:ResourceTag/mmbatch-stack": "mmbatch-efs"}
    assert statements["CreateTaggedVolumes"]["Condition"] == {"StringEquals": {"aws:RequestTag/mmbatch-stack": "mmbatch-efs"}}
    assert statements["TagVolumesAtCreationOnly"]["Condition"] == {"StringEquals": {"ec2:CreateAction": "CreateVolume"}}
    assert statements["AttachDetachOwnVolumesToOwnNodes"]["Condition"] == {"StringEquals": tag}
    assert len(statements["AttachDetachOwnVolumesToOwnNodes"]["Resource"]) == 2, "the volume and the node"
    assert statements["DeleteOwnVolumes"]["Condition"] == {"StringEquals": tag}
    writes = [st for st in statements.values() if any(a in ("ec2:CreateVolume", "ec2:AttachVolume", "ec2:DetachVolume",
                                                                 "ec2:DeleteVolume", "ec2:CreateTags") for a in _actions(st))]
    assert writes and all("Condition" in st for st in writes), "no EBS write without a condition"
    assert "PerJobVolumes" not in statements


def test_the_server_describes_exactly_what_mmab_reads_of_nodes_volumes_and_jobs(synth) -> None:
    """Describe and List calls take no resource (Resource "*"), so the action list is the whole scope: the reads MMAB
    makes of its nodes, per-job volumes and jobs. One fewer breaks MMAB at run time; one more is an unreviewed read."""
    (describe,) = [st for st in synth("efs").statements("ManagementServerRole") if st.get("Sid") == "DescribeComputeAndJobs"]
    assert describe["Resource"] == "*" and "Condition" not in describe
    assert describe["Action"] == [
        "batch:DescribeComputeEnvironments", "batch:DescribeJobDefinitions", "batch:DescribeJobQueues", "batch:DescribeJobs",
        "batch:ListJobs", "ec2:DescribeAvailabilityZones", "ec2:DescribeInstanceTypes", "ec2:DescribeInstances",
        "ec2:DescribeTags", "ec2:DescribeVolumes"]


@pytest.mark.parametrize("name", ["efs", "juicefs-multiqueue"])
def test_every_node_carries_the_deployment_tag_the_conditions_name(synth, name: str) -> None:
    s = synth(name)
    nodes = [e for e in s.resources("AWS::Batch::ComputeEnvironment").values()
             if e["Properties"]["ComputeResources"]["Type"] != "FARGATE"]  # the head queue launches no instances
    assert len(nodes) == len(s.stack.queues)
    for environment in nodes:
        assert environment["Properties"]["ComputeResources"]["Tags"]["mmbatch-stack"] == s.stack.stack_name


def test_the_server_asks_mmab_to_tag_what_it_creates(synth) -> None:
    assert "export MMAB_CUSTOM_TAGS=mmbatch-stack:mmbatch-efs\n" in synth("efs-existing-vpc").server_script("management-server")


def test_account_scoping_is_the_explicit_escape_hatch(tmp_path) -> None:
    s = synthesize({"ebsScoping": "account"}, tmp_path)
    statements = {st.get("Sid"): st for st in s.statements("ManagementServerRole")}
    assert "CreateTaggedVolumes" not in statements and "Condition" not in statements["PerJobVolumes"]
    assert next(x for x in SETTINGS if x.key == "ebsScoping").default == "tag"


def test_the_memorydb_user_may_run_only_what_juicefs_sends(synth) -> None:
    access = synth("juicefs").one("AWS::MemoryDB::User")["Properties"]["AccessString"]
    assert access == JUICEFS_ACCESS_STRING
    words = access.split()
    assert words[:4] == ["on", "~*", "resetchannels", "-@all"]
    for needed in ("+select", "+cluster|slots", "+script|load", "+watch", "+multi", "+exec", "+hset", "+zadd", "+scan"):
        assert needed in words
    for refused in ("+@all", "&*", "+flushdb", "+flushall", "+keys", "+config", "+eval", "+evalsha", "+subscribe"):
        assert refused not in words


def test_the_access_string_was_read_from_the_default_juicefs_release() -> None:
    # Another JuiceFS release may send other commands: re-read pkg/meta/redis*.go before changing the default.
    assert next(x for x in SETTINGS if x.key == "juicefsVersion").default == JUICEFS_ACCESS_STRING_VERSION


MEMORYDB_RESTRICTED = ("acl|deluser", "acl|load", "acl|save", "acl|setuser", "bgrewriteaof", "bgsave", "cluster|addslot", "cluster|delslot", "cluster|setslot",
                       "config", "debug", "migrate", "module", "psync", "replicaof", "save", "shutdown", "slaveof", "sync")
"""Commands MemoryDB refuses in an access string, whose CreateUser then fails (MemoryDB developer guide,
"Restricted commands": https://docs.aws.amazon.com/memorydb/latest/devguide/restrictedcommands.html)."""


def test_the_access_string_is_one_memorydb_accepts(synth) -> None:
    # "Authenticating users with ACLs": no password and no reset in an access string, no restricted command.
    words = synth("juicefs").one("AWS::MemoryDB::User")["Properties"]["AccessString"].split()
    assert "reset" not in words and not any(w.startswith((">", "<", "#", "nopass")) for w in words)
    commands = {w[1:] for w in words if w.startswith("+")}
    # A restricted command, one of its subcommands, or a whole command with a restricted subcommand (+cluster).
    parents = {r.split("|")[0] for r in MEMORYDB_RESTRICTED}
    assert not {c for c in commands if c in MEMORYDB_RESTRICTED or c.split("|")[0] in MEMORYDB_RESTRICTED
                or c in parents}, commands


def _register_statements(s: Synth) -> list[dict[str, Any]]:
    return [st for p in s.resources("AWS::IAM::Policy").values() for st in p["Properties"]["PolicyDocument"]["Statement"]
            if st.get("Sid") == "SessionManagerRegister"]


def test_session_manager_registration_is_tag_conditioned_only_when_asked(synth, tmp_path) -> None:
    # Off by default (no AWS page says ssm:UpdateInstanceInformation honours the instance's tags); with
    # ssmRegisterTagged the server and every node may register only with the deployment tag, which both carry.
    assert all("Condition" not in st for st in _register_statements(synth("efs")))
    s = synthesize({"ssmRegisterTagged": "true", "multiQueue": "true"}, tmp_path)
    statements = _register_statements(s)
    assert len(statements) == 4  # the server and three queues' nodes
    stack_name = s.stack.stack_name
    assert all(st["Condition"] == {"StringEquals": {"aws:ResourceTag/mmbatch-stack": stack_name}} for st in statements)
    (server,) = s.resources("AWS::EC2::Instance").values()
    assert {"Key": "mmbatch-stack", "Value": stack_name} in server["Properties"]["Tags"]
    for environment in s.node_resources("AWS::Batch::ComputeEnvironment").values():
        assert environment["Properties"]["ComputeResources"]["Tags"]["mmbatch-stack"] == stack_name
