"""Reading synthesized CloudFormation, in one place: the Synth of one configuration, its resources, policies and
user data (intrinsics resolved to plain text with stand-in values, compressed parts decompressed)."""

from __future__ import annotations

import base64
import email
import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from aws_cdk import assertions

from mmbatch_cdk.stacks import MmBatchStack
from mmbatch_cdk.user_data import _HEADER as HEADER
from mmbatch_cdk.user_data import SETTINGS_MARK

FAKE_VALUES = {"PrivateIp": "10.64.7.21"}
"""Stand-in values for GetAtt attributes, by attribute name; anything else becomes '<LogicalId>-<Attr>'."""


def resolve(node: Any, values: Mapping[str, str] = FAKE_VALUES) -> str:
    """Render Fn::Join / Ref / Fn::GetAtt / Fn::Base64 to a string, with stand-in values for references."""
    if isinstance(node, str):
        return node
    if isinstance(node, (int, float)):
        return str(node)
    if "Fn::Join" in node:
        separator, parts = node["Fn::Join"]
        return separator.join(resolve(p, values) for p in parts)
    if "Ref" in node:
        return values.get(node["Ref"], f"{node['Ref']}-ref")
    if "Fn::GetAtt" in node:
        logical_id, attribute = node["Fn::GetAtt"]
        return values.get(attribute, f"{logical_id}-{attribute}")
    if "Fn::Base64" in node:
        return base64.b64encode(resolve(node["Fn::Base64"], values).encode()).decode()
    raise ValueError(f"cannot resolve {node!r}")


EXAMPLE_ACCOUNT, EXAMPLE_REGION = "111122223333", "us-east-1"
"""The account and region :func:`resolve_example` puts in ARNs."""
_EXAMPLE_PSEUDO = {"AWS::Partition": "aws", "AWS::Region": EXAMPLE_REGION, "AWS::AccountId": EXAMPLE_ACCOUNT,
                   "AWS::URLSuffix": "amazonaws.com"}


def resolve_example(node: Any, resources: dict[str, Any]) -> Any:
    """``node`` with Ref, Fn::GetAtt and Fn::Join replaced by example values of the right shape (a resource's name is
    its logical id, an SSM parameter's its ``Name``, ARNs in :data:`EXAMPLE_ACCOUNT` and :data:`EXAMPLE_REGION`)."""
    if isinstance(node, list):
        return [resolve_example(n, resources) for n in node]
    if not isinstance(node, dict):
        return node
    account, region = EXAMPLE_ACCOUNT, EXAMPLE_REGION
    if "Ref" in node:
        name = node["Ref"]
        if name in _EXAMPLE_PSEUDO:
            return _EXAMPLE_PSEUDO[name]
        kind = resources[name]["Type"]
        if kind == "AWS::SSM::Parameter":
            return resources[name]["Properties"]["Name"]
        return {"AWS::Batch::JobQueue": f"arn:aws:batch:{region}:{account}:job-queue/{name}",
                "AWS::S3::Bucket": name.lower()}.get(kind, name)
    if "Fn::GetAtt" in node:
        name, attribute = node["Fn::GetAtt"]
        kind = resources[name]["Type"]
        return {
            "AWS::S3::Bucket": f"arn:aws:s3:::{name.lower()}",
            "AWS::IAM::Role": f"arn:aws:iam::{account}:role/{name}",
            "AWS::Logs::LogGroup": f"arn:aws:logs:{region}:{account}:log-group:{name}:*",
            "AWS::KMS::Key": f"arn:aws:kms:{region}:{account}:key/{name}",
            "AWS::Batch::JobQueue": f"arn:aws:batch:{region}:{account}:job-queue/{name}",
        }.get(kind, f"{name}.{attribute}")
    if "Fn::Join" in node:
        separator, parts = node["Fn::Join"]
        return separator.join(str(resolve_example(p, resources)) for p in parts)
    return {k: resolve_example(v, resources) for k, v in node.items()}


def user_data_document(user_data: Mapping[str, Any]) -> str:
    """The decoded user data of an instance or launch template ({"Fn::Base64": ...})."""
    return resolve(user_data["Fn::Base64"])


def shell_parts(document: str, *, as_rendered: bool = True) -> list[str]:
    """The shell scripts of a MIME multipart user-data document, in order, gzip-compressed parts decompressed as
    cloud-init does (a compressed part's type is then read from its first line).

    :param as_rendered: join a part that only writes the next part's deploy-time settings (``SETTINGS_MARK``) with
        that part, giving back the script ``render`` made. Default: True.
    """
    message = email.message_from_string(document)
    scripts = []
    for part in message.walk():
        payload = part.get_payload(decode=True)
        if part.get_content_type() == "application/gzip":
            assert isinstance(payload, bytes)
            payload = gzip.decompress(payload)
            assert payload.startswith(b"#!"), "cloud-init runs a decompressed part as a script only when it starts with #!"
        elif part.get_content_type() != "text/x-shellscript":
            continue
        assert isinstance(payload, bytes)
        scripts.append(payload.decode())
    if not as_rendered:
        return scripts
    joined: list[str] = []
    pending = None
    for script in scripts:
        if script.split("\n", 2)[1] == SETTINGS_MARK:
            pending = script.split("<<'MMBATCH_SETTINGS'\n", 1)[1].split("MMBATCH_SETTINGS\n", 1)[0]
            continue
        if pending is not None:
            shebang, _, rest = script.partition("\n")
            source_line, _, body = rest.partition("\n")
            assert source_line.startswith(". "), source_line
            script = f"{shebang}\n{HEADER}{pending}{body}"
            pending = None
        joined.append(script)
    return joined


@dataclass
class Synth:
    """One synthesized configuration."""

    stack: MmBatchStack
    template: dict[str, Any]
    directory: Path
    template_path: Path

    @property
    def assertions(self) -> assertions.Template:
        """The template for aws_cdk.assertions."""
        return assertions.Template.from_json(self.template)

    def resources(self, type_: str) -> dict[str, dict[str, Any]]:
        """Resources of one CloudFormation type, by logical id."""
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == type_}

    def node_resources(self, type_: str) -> dict[str, dict[str, Any]]:
        """Compute environments or job queues of the Spot/EC2 queues, without the head queue's (``HeadQueue...``)."""
        return {k: v for k, v in self.resources(type_).items() if not k.startswith("HeadQueue")}

    def node_one(self, type_: str) -> dict[str, Any]:
        """The single queue's compute environment or job queue (not the head queue's)."""
        found = self.node_resources(type_)
        assert len(found) == 1, f"expected one {type_} besides the head queue's, found {sorted(found)}"
        return next(iter(found.values()))

    def one(self, type_: str) -> dict[str, Any]:
        """The single resource of a type (fails if there is not exactly one)."""
        found = self.resources(type_)
        assert len(found) == 1, f"expected one {type_}, found {sorted(found)}"
        return next(iter(found.values()))

    def statements(self, role_prefix: str) -> list[dict[str, Any]]:
        """Every policy statement granted to roles whose logical id starts with ``role_prefix``."""
        return [st for p in self.resources("AWS::IAM::Policy").values()
                if any(r["Ref"].startswith(role_prefix) for r in p["Properties"]["Roles"])
                for st in p["Properties"]["PolicyDocument"]["Statement"]]

    def node_launch_template(self, queue: str = "Compute") -> tuple[str, dict[str, Any]]:
        """``(logical id, resource)`` of a queue's node launch template (``Compute``, or ``QueuesJq1``...)."""
        return next((k, v) for k, v in self.resources("AWS::EC2::LaunchTemplate").items()
                    if k.startswith(f"{queue}LaunchTemplate"))

    def node_scripts(self, queue: str = "Compute") -> list[str]:
        """The shell scripts of a queue's node user data, in order."""
        return shell_parts(user_data_document(self.node_launch_template(queue)[1]["Properties"]["LaunchTemplateData"]["UserData"]))

    def server_scripts(self) -> list[str]:
        """The shell scripts of the management server's user data, in order."""
        return shell_parts(user_data_document(self.one("AWS::EC2::Instance")["Properties"]["UserData"]))

    def node_script(self, step: str, queue: str = "Compute") -> str:
        """The node script of a queue whose ``MMB_STEP`` is ``step`` (``efs-mount``, ``node-bootstrap``...)."""
        return _by_step(self.node_scripts(queue), step)

    def server_script(self, step: str) -> str:
        """The server script whose ``MMB_STEP`` is ``step`` (``management-server``, ``juicefs-format``...)."""
        return _by_step(self.server_scripts(), step)

    def steps(self, scripts: list[str]) -> list[str]:
        """The ``MMB_STEP`` of each script, in order."""
        return [re.search(r"^MMB_STEP=([a-z0-9-]+)$", script, re.M).group(1) for script in scripts]  # type: ignore[union-attr]

    def metadata(self, type_: str) -> list[tuple[str, Any]]:
        """``(construct path, data)`` of every metadata entry of one type in the stack, as the cloud assembly records it
        (the stack's ``additionalMetadataFile``): one file read instead of a jsii call per construct and entry."""
        artifact = json.loads((self.directory / "manifest.json").read_text())["artifacts"][self.stack.artifact_id]
        recorded = json.loads((self.directory / artifact["additionalMetadataFile"]).read_text())
        return [(path.lstrip("/"), entry["data"]) for path, entries in recorded.items()
                for entry in entries if entry["type"] == type_]

    def validation_report(self) -> dict[str, Any]:
        """cdk's validation report (annotations and cdk-nag), empty when nothing was reported."""
        path = self.directory / "validation-report.json"
        return json.loads(path.read_text()) if path.exists() else {"pluginReports": []}


def _by_step(scripts: list[str], step: str) -> str:
    found = [script for script in scripts if f"\nMMB_STEP={step}\n" in script]
    assert len(found) == 1, f"{len(found)} scripts with MMB_STEP={step}"
    return found[0]
