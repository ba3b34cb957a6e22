"""Reading synthesized CloudFormation: resolve intrinsics in user data to plain text for running it."""

from __future__ import annotations

import base64
import email
import gzip
from typing import Any, Mapping

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


def user_data_document(user_data: Mapping[str, Any]) -> str:
    """The decoded user data of an instance or launch template ({"Fn::Base64": ...})."""
    return resolve(user_data["Fn::Base64"])


def shell_parts(document: str) -> list[str]:
    """The shell scripts of a MIME multipart user-data document, in order, gzip-compressed parts decompressed as
    cloud-init does (a compressed part's type is then read from its first line)."""
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
    return scripts
